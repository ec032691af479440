import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { planDecomposition } from '../../src/domain/heuristic-planner.js'
import { acceptDecomposition } from '../../src/domain/accept-decomposition.js'
import { defaultSpecialists } from '../../src/domain/specialists.js'
import type { Decomposition } from '../../src/domain/decomposition-schema.js'
import { decompositionBudget, defaultMaxPayload, jsonBytes } from '../../src/domain/event-size.js'
import fc from 'fast-check'
import { kindOfWork } from '../../src/domain/plan-kind.js'
import { guidelineApplies, sortConstraints } from '../../src/domain/plan-constraints.js'
import { specialistFor, specialistPicker } from '../../src/domain/plan-specialists.js'
import { techPatterns } from '../../src/domain/plan-patterns.js'
import { docTopic, featureName, locationFiles, subjectOf, themeName } from '../../src/domain/plan-names.js'
import { complexityOf, minutesFor, sizeFactor } from '../../src/domain/plan-estimate.js'
import { readTask } from '../../src/domain/plan-reading.js'
import { requestedExtras } from '../../src/domain/plan-extras.js'
import { featureSteps } from '../../src/domain/plan-feature-steps.js'
import { documentingSteps } from '../../src/domain/plan-docs-steps.js'
import { draftOf } from '../../src/domain/plan-steps.js'
import type { Step } from '../../src/domain/plan-steps.js'
import { reasoningFor } from '../../src/domain/plan-reasoning.js'
import { architecturalConsiderations } from '../../src/domain/plan-considerations.js'

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

// The planner's parts (issue #13): given an input / when one part reads it / then its rule's answer.
const reading = (task: string, constraints: string[] = [], specialists: readonly string[] = defaultSpecialists) =>
  readTask({ task, constraints, priority: 50, specialists })
const step = (key: string, specialist: string, after: string[] = []): Step => ({ key, description: `Do ${key}`, specialist, after, base: 20, rationale: key })

test('kind of work: a bug word wins; docs unless it also builds; tests when it writes tests; else a feature', () => {
  assert.is(kindOfWork('fix the broken docs build'), 'bugfix')
  assert.is(kindOfWork('write a troubleshooting guide'), 'docs')
  assert.is(kindOfWork('implement and document the export'), 'feature')
  assert.is(kindOfWork('improve test coverage of the parser'), 'tests')
  assert.is(kindOfWork('refactor the checkout flow'), 'feature')
})

test('constraints: given work items and guidelines, then work sorted by tests/docs/other (docs win) and guidelines kept', () => {
  const sorted = sortConstraints(['Add rate limiting', ' Use React hooks ', 'Include regression tests', 'Write test documentation', '  ', 'Keep it fast'])
  assert.equal(sorted, {
    testWork: ['Include regression tests'],
    docWork: ['Write test documentation'],
    otherWork: ['Add rate limiting'],
    guidelines: ['Use React hooks', 'Keep it fast'],
  })
})

test('guidelines: a test guideline goes to testing, a UI one to frontend, a server one to backend, a general one to builders', () => {
  assert.ok(guidelineApplies('Keep tests fast', 'testing') && !guidelineApplies('Keep tests fast', 'frontend'))
  assert.ok(guidelineApplies('Use React hooks', 'frontend') && !guidelineApplies('Use React hooks', 'backend'))
  assert.ok(guidelineApplies('Use PostgreSQL storage', 'backend') && !guidelineApplies('Use PostgreSQL storage', 'frontend'))
  for (const s of ['frontend', 'backend', 'general']) assert.ok(guidelineApplies('Maintain backward compatibility', s))
  for (const s of ['docs', 'testing']) assert.ok(!guidelineApplies('Maintain backward compatibility', s))
})

test('specialists: the first active preference, else general; tests and docs words before areas', () => {
  const pick = specialistPicker(['frontend', 'testing', 'general'])
  assert.is(pick('backend', 'frontend'), 'frontend')
  assert.is(pick('backend'), 'general')
  assert.is(specialistFor('add e2e tests for the api', pick, 'x'), 'testing')
  assert.is(specialistFor('encrypt the gdpr data', pick, 'frontend'), 'frontend')
  assert.is(specialistFor('organise an offsite', pick, 'x'), 'x')
})

test('patterns: named technologies, then guideline patterns, plus Context API for app-wide React state', () => {
  assert.equal(techPatterns('add dark mode \n use react hooks', ['Use React hooks', 'Follow the atomic design pattern']), ['React hooks', 'Atomic design', 'Context API'])
})

test('names: subject, feature, location, theme and doc topic from the task words', () => {
  const subject = subjectOf('Please add dark mode toggle to settings page.')
  assert.is(subject, 'dark mode toggle to settings page')
  assert.is(featureName(subject), 'dark mode toggle')
  assert.equal(locationFiles(subject), ['components/Settings.tsx'])
  assert.is(themeName('add dark mode toggle', 'dark mode toggle'), 'dark theme')
  assert.is(themeName('add a sidebar', 'sidebar toggle'), 'sidebar')
  assert.is(docTopic('comprehensive API documentation'), 'the API')
})

test('estimates: larger tasks scale up, each guideline adds 3, complexity stays 1-100, minutes in fives from 10', () => {
  assert.is(sizeFactor('Add a toggle', 0), 1)
  assert.is(sizeFactor('Add a complete toggle', 20), 1.2 + 8 * 0.02)
  assert.is(complexityOf(20, 1.5, 2), 36)
  assert.is(complexityOf(90, 1.5, 10), 100)
  assert.equal([1, 10, 37].map(minutesFor), [10, 15, 55])
})

test('extras: given UI and server steps, then UI work follows the UI, server work the server, other work the anchor', () => {
  const ui = step('ui', 'frontend')
  const server = step('server', 'backend')
  const extras = requestedExtras(['Add a settings modal', 'Add caching', 'Set up Docker deployment'], specialistPicker(defaultSpecialists), { ui, server, anchor: server })
  assert.equal(extras.map((e) => [e.key, e.specialist, e.after]), [
    ['extra-0', 'frontend', ['ui']],
    ['extra-1', 'backend', ['server']],
    ['extra-2', 'backend', ['server']],
  ])
})

test('feature steps: styling follows the component; without styling an integration joins UI and server; else design then build', () => {
  const shape = (task: string) => featureSteps(reading(task)).steps.map((s) => `${s.key}<${s.after.join(',')}`)
  assert.equal(shape('Add dark mode toggle to settings page'), ['ui<', 'server<', 'style<ui', 'tests<ui,server,style'])
  assert.equal(shape('Build an invoices API with a dashboard page'), ['ui<', 'server<', 'integrate<ui,server', 'tests<ui,server,integrate'])
  assert.equal(shape('Organise the offsite'), ['design<', 'build<design', 'tests<build'])
})

test('docs follow-ups: after the implementation, or after every step when there is none; none in a docs task', () => {
  const r = reading('Add search', ['Write API documentation'])
  const done = { steps: [step('a', 'backend'), step('b', 'backend', ['a'])], implementation: ['b'] }
  assert.equal(documentingSteps(r, done).map((s) => [s.description, s.after]), [['Write API documentation', ['b']]])
  assert.equal(documentingSteps(reading('Document the search'), { ...done, implementation: [] }), [])
  assert.equal(documentingSteps(reading('Build and document search'), { ...done, implementation: [] })[0]!.after, ['a', 'b'])
})

test('drafts: a step gets the guidelines of its specialist, each adding to its complexity', () => {
  const d = draftOf(step('ui', 'frontend'), ['Use React hooks', 'Use PostgreSQL storage', 'Keep it simple'], 1)
  assert.equal(d.constraints, ['Use React hooks', 'Keep it simple'])
  assert.is(d.complexity, 26)
})

test('reasoning: lists the subtasks, names parallel roots and the last one', () => {
  const drafts = [step('a', 'x'), step('b', 'x'), step('c', 'x', ['a', 'b'])].map((s) => draftOf(s, [], 1))
  assert.is(reasoningFor(drafts), 'Task decomposed into 3 subtasks: do a, do b and do c. Do a and do b can proceed in parallel. Do c comes last, once its dependencies are done.')
})

test('considerations: area advice for the whole request, then guidelines, once each; fixed advice for docs', () => {
  const c = architecturalConsiderations(reading('Add dark mode toggle', ['Use an API', 'Use an API']))
  assert.ok(c.includes('Theme context should be at app root level'))
  assert.ok(c.includes('Validate all input at the API boundary and version the API contract'))
  assert.is(c.filter((x) => x === 'Use an API').length, 1)
  assert.is(architecturalConsiderations(reading('Write the user guide'))[0], 'Keep code examples runnable and checked in CI')
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
