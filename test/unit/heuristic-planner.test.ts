import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { planDecomposition } from '../../src/domain/heuristic-planner.js'
import { acceptDecomposition } from '../../src/domain/accept-decomposition.js'
import { defaultSpecialists } from '../../src/domain/specialists.js'
import type { Decomposition } from '../../src/domain/decomposition-schema.js'
import { decompositionBudget, defaultMaxPayload, jsonBytes } from '../../src/domain/event-size.js'
import fc from 'fast-check'

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

// Issue #12: every plan, for any valid input, passes the same validation as an LLM's answer.

/** The 658-character task of the issue: its component file name used to exceed 500 characters. */
const task658 =
  'Build a customer analytics dashboard page with a responsive chart widget, sortable data table, date range picker, saved filter presets, CSV export button, keyboard navigation, accessible colour palette, loading skeletons, empty states, pagination controls, column visibility toggles, sticky table headers, inline row editing, bulk selection checkboxes, undo and redo support, optimistic updates, live refresh with websockets, per-user layout preferences, drag and drop widget arrangement, print friendly styles, dark and light themes, localisation of numbers and dates, tooltips with detailed breakdowns, drill-down navigation and shareable deep links for us'

test('the 658-character task of issue #12 gives a valid plan with short file names', () => {
  assert.is(task658.length, 658)
  const d = plan(task658)
  const files = d.subtasks.flatMap((s) => s.context.files ?? [])
  assert.ok(files.length > 0)
  for (const f of files) assert.ok(f.length <= 100, f)
  assert.ok(files.some((f) => /^components\/CustomerAnalyticsDashboard\w*\.tsx$/.test(f)), files.join(', '))
})

test('50 work-item constraints stay within MAX_SUBTASKS; the surplus is merged, not dropped', () => {
  const constraints = Array.from({ length: 50 }, (_, i) => `Add export format number ${i} to the reports API`)
  for (const maxSubtasks of [50, 10, 3, 1]) {
    const raw = planDecomposition({ task: 'Build the reports API', constraints, priority: 50, specialists: defaultSpecialists, maxSubtasks })
    const r = acceptDecomposition(raw, { timestampMs: 1000, activeSpecialists: defaultSpecialists, maxSubtasks })
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issues))
    assert.ok(raw.subtasks.length <= maxSubtasks)
    const text = JSON.stringify(raw.subtasks)
    for (let i = 0; i < 50; i++) assert.ok(text.includes(`number ${i} `), `constraint ${i} lost at maxSubtasks ${maxSubtasks}`)
  }
})

test('a plan is cut to its byte budget', () => {
  const guidelines = Array.from({ length: 25 }, (_, i) => `Keep ${'語'.repeat(990)} ${i}`)
  const work = Array.from({ length: 25 }, (_, i) => `Add item ${i} ${'語'.repeat(980)}`)
  for (const maxBytes of [500_000, 120_000, 60_000]) {
    const raw = planDecomposition({ task: `Build ${'widget '.repeat(140)}`.trim(), constraints: [...guidelines, ...work], priority: 50, specialists: defaultSpecialists, maxBytes })
    const r = acceptDecomposition(raw, { timestampMs: 1_700_000_000_000, activeSpecialists: defaultSpecialists, maxSubtasks: 50 })
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issues))
    assert.ok(jsonBytes(r.decomposition) <= maxBytes, `${jsonBytes(r.decomposition)} > ${maxBytes}`)
  }
})

// Inputs as task.decompose admits them: task 1-1000 characters (trimmed), up to 50 constraints of
// 1-1000 characters, any priority, any active set. Words the planner reacts to, and any code points.
const vocabulary = [
  'add', 'fix', 'write', 'document', 'use', 'implement', 'build', 'tests', 'docs', 'api', 'page', 'component', 'dark', 'mode',
  'theme', 'server', 'database', 'login', 'oauth2', 'deploy', 'security', 'report', 'to', 'in', 'for', 'the', 'a', 'react',
  'settings', 'toggle', 'leak', 'coverage', 'pattern', 'follow', 'include', '日本語', '🎉', '\u0000', '"quoted"', 'x'.repeat(300),
]
// fast-check keeps lengths small by default; `size: 'max'` spans the whole range up to the bounds.
const text = (max: number) =>
  fc
    .oneof(
      fc.array(fc.constantFrom(...vocabulary), { minLength: 1, maxLength: 400 }).map((ws) => ws.join(' ')),
      fc.array(fc.constantFrom(...vocabulary), { minLength: 1, maxLength: 400, size: 'max' }).map((ws) => ws.join(' ')),
      fc.string({ unit: 'binary', minLength: 1, maxLength: max }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: max, size: 'max' }),
      fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: max, size: 'max' }),
    )
    .map((s) => [...s].slice(0, max).join(''))
    .filter((s) => /\S/.test(s))
const role = fc.stringMatching(/^[a-z][a-z0-9_-]{0,39}$/)
const planInput = fc.record({
  task: text(1000).map((s) => s.trim()),
  constraints: fc.array(fc.oneof(text(1000), text(1000).map((s) => `Add ${s}`.slice(0, 1000)), text(1000).map((s) => `Use ${s}`.slice(0, 1000))), { maxLength: 50, size: 'max' }),
  priority: fc.double({ min: 0, max: 100, noNaN: true }),
  specialists: fc.oneof(fc.constant(defaultSpecialists), fc.uniqueArray(role, { minLength: 1, maxLength: 20 }).map((rs) => [...rs, 'general'])),
  maxSubtasks: fc.oneof(fc.constant(50), fc.integer({ min: 1, max: 500 })),
})

test('property: every plan for any valid input passes acceptDecomposition within the byte budget', () => {
  const budget = decompositionBudget(defaultMaxPayload)
  fc.assert(
    fc.property(planInput, (input) => {
      const raw = planDecomposition(input)
      const r = acceptDecomposition(raw, { timestampMs: 1_700_000_000_000, activeSpecialists: input.specialists, maxSubtasks: input.maxSubtasks })
      if (!r.ok) throw new Error(`invalid plan: ${JSON.stringify(r.issues.slice(0, 3))}`)
      if (jsonBytes(r.decomposition) > budget) throw new Error(`plan of ${jsonBytes(r.decomposition)} bytes exceeds ${budget}`)
    }),
    { numRuns: Number(process.env.PLANNER_RUNS ?? 300) },
  )
})

test.run()
