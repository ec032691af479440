import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { planDecomposition } from '../../src/domain/heuristic-planner.js'
import { acceptDecomposition } from '../../src/domain/accept-decomposition.js'
import { defaultSpecialists } from '../../src/domain/specialists.js'
import type { Decomposition } from '../../src/domain/decomposition-schema.js'

function plan(task: string, constraints: string[] = [], specialists: readonly string[] = defaultSpecialists): Decomposition {
  const raw = planDecomposition({ task, constraints, priority: 50, specialists })
  const r = acceptDecomposition(raw, { timestampMs: 1000, activeSpecialists: specialists, maxSubtasks: 50 })
  if (!r.ok) throw new Error(JSON.stringify(r.issues))
  return r.decomposition
}
const byDesc = (d: Decomposition, re: RegExp) => d.subtasks.find((s) => re.test(s.description))!

test("the spec's dark-mode example: component, persistence, styling after component, tests after all", () => {
  const d = plan('Add dark mode toggle to settings page', ['Use React hooks', 'Follow atomic design pattern', 'Ensure mobile responsiveness'])
  assert.is(d.subtasks.length, 4)
  const component = byDesc(d, /component/i)
  const backend = d.subtasks.find((s) => s.specialist === 'backend')!
  const styles = byDesc(d, /styles?/i)
  const tests = d.subtasks.find((s) => s.specialist === 'testing')!
  assert.is(component.specialist, 'frontend')
  assert.match(component.description, /DarkModeToggle/)
  assert.match(backend.description, /persist/i)
  assert.is(styles.specialist, 'frontend')
  assert.equal(component.dependencies, [])
  assert.equal(backend.dependencies, [])
  assert.equal(styles.dependencies, [component.id])
  assert.equal(new Set(tests.dependencies), new Set([component.id, backend.id, styles.id]))
  assert.is(d.executionStrategy, 'mixed')
  assert.ok(component.context.patterns?.includes('React hooks'))
  assert.ok(component.context.constraints?.includes('Ensure mobile responsiveness'))
  assert.ok(d.architecturalConsiderations.length > 0)
})

test('different tasks give different, sensible plans', () => {
  const auth = plan('Implement user authentication with OAuth2', ['Support Google and GitHub providers', 'Include refresh token handling', 'Add rate limiting'])
  const bug = plan('Fix memory leak in real-time chat component', ['Maintain backward compatibility', 'Include regression tests'])
  const docs = plan('Create comprehensive API documentation', ['Include code examples', 'Create migration guide'])
  const shapes = [auth, bug, docs].map((d) => d.subtasks.map((s) => `${s.specialist}:${s.description}`).join('|'))
  assert.is(new Set(shapes).size, 3)
  // work-item constraints become subtasks of the right specialist
  assert.is(byDesc(auth, /rate limiting/i).specialist, 'backend')
  assert.ok(byDesc(auth, /rate limiting/i).dependencies.length > 0)
  // a bug fix reproduces first, fixes, then proves it with regression tests
  const repro = byDesc(bug, /reproduce/i)
  const fix = byDesc(bug, /^fix/i)
  const regression = byDesc(bug, /regression/i)
  assert.equal(fix.dependencies, [repro.id])
  assert.ok(regression.dependencies.includes(fix.id))
  assert.is(regression.specialist, 'testing')
  assert.ok(fix.context.constraints?.includes('Maintain backward compatibility'))
  // documentation is docs work, with a final review after all of it
  assert.ok(docs.subtasks.filter((s) => s.specialist === 'docs').length >= 3)
  const review = docs.subtasks[docs.subtasks.length - 1]!
  assert.is(review.dependencies.length, docs.subtasks.length - 2)
})

test('tests come after what they test, docs after what they document', () => {
  const d = plan('Build a REST API endpoint for invoices with a dashboard page', ['Write API documentation'])
  const tests = d.subtasks.find((s) => s.specialist === 'testing')!
  const docs = d.subtasks.find((s) => s.specialist === 'docs')!
  const implementation = d.subtasks.filter((s) => s.specialist === 'frontend' || s.specialist === 'backend').map((s) => s.id)
  assert.ok(implementation.length >= 2)
  for (const id of implementation) {
    assert.ok(tests.dependencies.includes(id), `tests should wait for ${id}`)
    assert.ok(docs.dependencies.includes(id), `docs should wait for ${id}`)
  }
})

test('only active specialists are used', () => {
  const d = plan('Add dark mode toggle to settings page', [], ['frontend', 'general'])
  for (const s of d.subtasks) assert.ok(['frontend', 'general'].includes(s.specialist), s.specialist)
})

test('deterministic: the same input gives the same plan', () => {
  const a = planDecomposition({ task: 'Add search to the product page', constraints: ['Add caching'], priority: 50, specialists: defaultSpecialists })
  const b = planDecomposition({ task: 'Add search to the product page', constraints: ['Add caching'], priority: 50, specialists: defaultSpecialists })
  assert.equal(a, b)
})

test('an unrecognised task still yields a valid plan with design before implementation', () => {
  const d = plan('Organise the quarterly planning offsite')
  assert.ok(d.subtasks.length >= 2)
  assert.ok(d.subtasks.some((s) => s.dependencies.length > 0))
})

test.run()
