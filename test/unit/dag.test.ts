import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deriveStrategy, describeGraphIssue, findCycle, graphIssues, topologicalOrder } from '../../src/domain/dag.js'

const n = (id: string, ...dependencies: string[]) => ({ id, dependencies })

test('a valid DAG has no issues', () => {
  assert.equal(graphIssues([n('a'), n('b', 'a'), n('c', 'a', 'b')]), [])
})

test('duplicate ids, unknown and self dependencies are each reported with their index', () => {
  const issues = graphIssues([n('a'), n('a'), n('b', 'zz'), n('c', 'c')])
  assert.equal(
    issues.map((i) => i.kind),
    ['duplicate-id', 'unknown-dependency', 'self-dependency'],
  )
  assert.is(describeGraphIssue(issues[1]!).path, '/subtasks/2/dependencies')
  assert.match(describeGraphIssue(issues[1]!).message, /"zz"/)
})

test('a cycle is found and named as a closed path', () => {
  const cycle = findCycle([n('a', 'c'), n('b', 'a'), n('c', 'b'), n('d')])
  assert.ok(cycle)
  assert.is(cycle![0], cycle![cycle!.length - 1])
  assert.equal(new Set(cycle), new Set(['a', 'b', 'c']))
  const [issue] = graphIssues([n('a', 'c'), n('b', 'a'), n('c', 'b')])
  assert.match(describeGraphIssue(issue!).message, /dependency cycle: . → . → . → ./)
})

test('a long chain does not overflow the stack', () => {
  const nodes = Array.from({ length: 20_000 }, (_, i) => (i === 0 ? n('0') : n(String(i), String(i - 1))))
  assert.is(findCycle(nodes), undefined)
  assert.is(deriveStrategy(nodes), 'sequential')
})

test('strategy: no edges → parallel, total order → sequential, otherwise mixed', () => {
  assert.is(deriveStrategy([n('a'), n('b')]), 'parallel')
  assert.is(deriveStrategy([n('a')]), 'parallel')
  assert.is(deriveStrategy([n('a'), n('b', 'a'), n('c', 'b')]), 'sequential')
  // a transitive extra edge still leaves exactly one order
  assert.is(deriveStrategy([n('a'), n('b', 'a'), n('c', 'a', 'b')]), 'sequential')
  assert.is(deriveStrategy([n('a'), n('b'), n('c', 'a'), n('d', 'a', 'b', 'c')]), 'mixed')
  assert.is(deriveStrategy([n('a'), n('b', 'a'), n('c', 'a')]), 'mixed')
})

test('topological order is stable and respects dependencies', () => {
  assert.equal(topologicalOrder([n('x', 'z'), n('y'), n('z')]), ['y', 'z', 'x'])
})

test.run()
