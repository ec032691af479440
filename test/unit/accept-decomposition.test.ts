import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { acceptDecomposition } from '../../src/domain/accept-decomposition.js'
import { defaultSpecialists } from '../../src/domain/specialists.js'

const opts = { timestampMs: 1734567890123, activeSpecialists: defaultSpecialists, maxSubtasks: 10 }
const sub = (id: string, deps: string[] = [], extra: Record<string, unknown> = {}) => ({
  id,
  description: `do ${id}`,
  specialist: 'backend',
  dependencies: deps,
  complexity: 10,
  estimatedMinutes: 15,
  context: { files: [], patterns: [], constraints: [] },
  rationale: 'because',
  ...extra,
})

test('ids are service-assigned st-<ms>-<n> and dependencies are rewritten to them', () => {
  const r = acceptDecomposition({ subtasks: [sub('ui'), sub('api'), sub('tests', ['ui', 'api'])], reasoning: 'r' }, opts)
  assert.ok(r.ok)
  if (!r.ok) return
  assert.equal(
    r.decomposition.subtasks.map((s) => s.id),
    ['st-1734567890123-1', 'st-1734567890123-2', 'st-1734567890123-3'],
  )
  assert.equal(r.decomposition.subtasks[2]!.dependencies, ['st-1734567890123-1', 'st-1734567890123-2'])
})

test('totalComplexity is the sum and the strategy follows the graph, whatever the sampler claimed', () => {
  const r = acceptDecomposition(
    { subtasks: [sub('a', [], { complexity: 30 }), sub('b', ['a'], { complexity: 12 })], executionStrategy: 'parallel', totalComplexity: 5, reasoning: 'r' },
    opts,
  )
  assert.ok(r.ok)
  if (!r.ok) return
  assert.is(r.decomposition.totalComplexity, 42)
  assert.is(r.decomposition.executionStrategy, 'sequential')
  assert.is(r.notes.length, 2)
})

test('unknown specialists map to general; active ones are kept', () => {
  const r = acceptDecomposition({ subtasks: [sub('a', [], { specialist: 'wizard' }), sub('b', [], { specialist: 'Frontend' })], reasoning: 'r' }, opts)
  assert.ok(r.ok)
  if (!r.ok) return
  assert.equal(
    r.decomposition.subtasks.map((s) => s.specialist),
    ['general', 'frontend'],
  )
})

test('rationale and architecturalConsiderations are kept', () => {
  const r = acceptDecomposition({ subtasks: [sub('a')], reasoning: 'r', architecturalConsiderations: ['x'] }, opts)
  assert.ok(r.ok)
  if (!r.ok) return
  assert.is(r.decomposition.subtasks[0]!.rationale, 'because')
  assert.equal(r.decomposition.architecturalConsiderations, ['x'])
})

const rejects = (raw: unknown, path: RegExp, message: RegExp) => {
  const r = acceptDecomposition(raw, opts)
  assert.not.ok(r.ok, 'expected rejection')
  if (r.ok) return
  assert.ok(r.issues.some((i) => path.test(i.path) && message.test(i.message)), JSON.stringify(r.issues))
}

test('schema violations are rejected with the field path', () => {
  rejects({ subtasks: [], reasoning: 'r' }, /^\/subtasks$/, /./)
  rejects({ subtasks: [sub('a', [], { complexity: 0 })], reasoning: 'r' }, /complexity/, /.+/)
  rejects({ subtasks: [sub('a', [], { complexity: 101 })], reasoning: 'r' }, /complexity/, /.+/)
  rejects({ subtasks: [sub('a', [], { complexity: 1.5 })], reasoning: 'r' }, /complexity/, /integer/)
  rejects({ subtasks: [sub('a', [], { estimatedMinutes: 0 })], reasoning: 'r' }, /estimatedMinutes/, /.+/)
  rejects({ subtasks: [sub('a', [], { description: '' })], reasoning: 'r' }, /description/, /.+/)
  rejects('not an object', /^$/, /object/)
})

test('graph violations are rejected: unknown, self, duplicate, cycle (named)', () => {
  rejects({ subtasks: [sub('a', ['ghost'])], reasoning: 'r' }, /dependencies/, /ghost/)
  rejects({ subtasks: [sub('a', ['a'])], reasoning: 'r' }, /dependencies/, /itself/)
  rejects({ subtasks: [sub('a'), sub('a')], reasoning: 'r' }, /\/subtasks\/1\/id/, /duplicate/)
  rejects({ subtasks: [sub('a', ['b']), sub('b', ['a'])], reasoning: 'r' }, /^\/subtasks$/, /cycle: (a → b → a|b → a → b)/)
})

test('more subtasks than allowed are rejected', () => {
  rejects({ subtasks: Array.from({ length: 11 }, (_, i) => sub(`s${i}`)), reasoning: 'r' }, /^\/subtasks$/, /at most 10/)
})

test.run()
