// The offline planner: reads the task and its constraints and plans a DAG of specialist subtasks
// for ordinary software work. Deterministic and pure. It is no LLM: it recognises the shape of the
// work (feature, bug fix, documentation), the areas it touches (UI, styling, server, persistence),
// and which constraints are work items ("Add rate limiting") rather than guidelines ("Use React
// hooks"), and it orders the work as an engineer would: implementation first, styling after the
// component it styles, tests after what they test, docs after what they document.
import type { SampledDecomposition, SampledSubtask } from './decomposition-schema.js'
import { fallbackSpecialist } from './specialists.js'
import { decompositionBudget, defaultMaxPayload } from './event-size.js'
import { defaultMaxSubtasks, fitToSubtaskLimit } from './plan-budget.js'
import type { Draft } from './plan-budget.js'
import { boundPlan } from './plan-bounds.js'
import { capitalize, lowerFirst, pascal, sentence, slug, unique } from './plan-text.js'

export interface PlanInput {
  task: string
  constraints: readonly string[]
  priority: number
  specialists: readonly string[]
  /** MAX_SUBTASKS (default 50): surplus subtasks are merged. */
  maxSubtasks?: number
  /** The decomposition's byte budget (default: that of nats-server's default max_payload). */
  maxBytes?: number
}

type Area = 'ui' | 'style' | 'server' | 'persistence' | 'auth' | 'ops' | 'security' | 'data'

const areaWords: Record<Area, RegExp> = {
  ui: /\b(ui|ux|page|pages|component|components|button|toggle|screen|form|forms|modal|dialog|view|frontend|front-end|react|vue|angular|svelte|widget|dashboard|navbar|menu|sidebar|layout|chat|settings page|client-side)\b/,
  style: /\b(style|styles|styling|theme|themes|theming|dark mode|light mode|css|colou?rs?|responsive|responsiveness|animation|transitions?|visual)\b/,
  server: /\b(api|apis|endpoint|endpoints|server|backend|back-end|service|services|webhook|rest|graphql|rpc|queue|worker|cache|rate limit(ing)?|microservice)\b/,
  persistence: /\b(persist|persistence|persistent|database|db|storage|store|save|saved|saving|preferences?|settings|sql|postgres|migration|schema|remember)\b/,
  auth: /\b(auth|authentication|authorization|oauth2?|login|log in|sign[- ]?in|sso|token|tokens|password|jwt|session)\b/,
  ops: /\b(deploy|deployment|ci|cd|docker|kubernetes|k8s|monitoring|metrics|alerting|observability|infrastructure|logging)\b/,
  security: /\b(security|secure|gdpr|compliance|privacy|encryption|vulnerability|xss|csrf)\b/,
  data: /\b(analytics|report|reports|reporting|etl|pipeline|import|export|csv)\b/,
}

const actionVerb =
  /^(add|include|implement|support|create|write|provide|build|integrate|set up|setup|enable|expose|introduce|generate|document|publish)\b/i
const testWords = /\b(tests?|testing|e2e|end-to-end|regression|coverage|unit tests?|qa)\b/
const docWords = /\b(docs?|documentation|document|readme|guide|tutorial|manual|examples?|troubleshooting|openapi|changelog)\b/
const bugWords = /\b(fix|fixes|bug|bugs|leak|leaks|crash|crashes|broken|defect|regression|error|errors|failing|flaky)\b/
const leadingVerb =
  /^(please\s+)?(add|implement|create|build|fix|write|design|develop|make|set up|setup|introduce|support|refactor|improve|update|migrate|investigate|document|enable|integrate|optimi[sz]e|include|provide|generate|publish)\s+/i

export function planDecomposition(input: PlanInput): SampledDecomposition {
  const task = input.task.trim().replace(/\s+/g, ' ')
  const lowerTask = task.toLowerCase()
  const all = [lowerTask, ...input.constraints.map((c) => c.toLowerCase())].join(' \n ')
  const areas = detectAreas(lowerTask)
  const allAreas = detectAreas(all)
  const subject = subjectOf(task)
  const work = input.constraints.map((c) => c.trim()).filter((c) => c !== '' && actionVerb.test(c))
  const guidelines = input.constraints.map((c) => c.trim()).filter((c) => c !== '' && !actionVerb.test(c))
  const has = (s: string) => input.specialists.includes(s)
  const pick = (...preferred: string[]) => preferred.find(has) ?? fallbackSpecialist
  const patterns = techPatterns(all, guidelines)
  const scale = sizeFactor(task, input.constraints.length)

  const drafts: Draft[] = []
  const add = (d: Omit<Draft, 'complexity' | 'files' | 'patterns' | 'constraints'> & Partial<Draft> & { base: number }) => {
    const relevant = guidelines.filter((g) => guidelineApplies(g, d.specialist))
    const draft: Draft = {
      key: d.key,
      description: d.description,
      specialist: d.specialist,
      after: d.after,
      rationale: d.rationale,
      files: d.files ?? [],
      patterns: d.patterns ?? [],
      constraints: [...(d.constraints ?? []), ...relevant],
      complexity: clamp(Math.round(d.base * scale + relevant.length * 3)),
    }
    drafts.push(draft)
    return draft
  }

  const kind: 'bugfix' | 'docs' | 'tests' | 'feature' = bugWords.test(lowerTask)
    ? 'bugfix'
    : docWords.test(lowerTask) && !/\b(implement|build|add)\b/.test(lowerTask)
      ? 'docs'
      : /^(write|add|increase|improve)\b.*\b(tests?|coverage)\b/.test(lowerTask)
        ? 'tests'
        : 'feature'

  const implementation: string[] = []
  const testExtras = work.filter((c) => testWords.test(c.toLowerCase()) && !docWords.test(c.toLowerCase()))
  const docExtras = work.filter((c) => docWords.test(c.toLowerCase()))
  const otherWork = work.filter((c) => !testExtras.includes(c) && !docExtras.includes(c))

  if (kind === 'docs') {
    const outline = add({
      key: 'outline',
      description: `Survey ${docTopic(subject)} and outline the documentation structure`,
      specialist: pick('docs'),
      after: [],
      base: 15,
      files: ['docs/README.md'],
      rationale: 'Agreeing on structure and audience first keeps the sections consistent',
    })
    const body = add({
      key: 'write',
      description: `Write ${subject}`,
      specialist: pick('docs'),
      after: [outline.key],
      base: 35,
      files: [`docs/${slug(subject)}.md`],
      patterns,
      rationale: 'The core of the requested documentation',
    })
    implementation.push(body.key)
    docExtras.concat(otherWork).forEach((c, i) => {
      const api = /\b(openapi|swagger|api spec|specification)\b/i.test(c)
      const d = add({
        key: `extra-${i}`,
        description: sentence(c),
        specialist: api ? pick('backend', 'docs') : pick('docs'),
        after: [outline.key],
        base: api ? 30 : 20,
        files: api ? ['docs/openapi.yaml'] : [`docs/${slug(stripVerb(c))}.md`],
        rationale: `Requested explicitly: "${c}"`,
      })
      implementation.push(d.key)
    })
    add({
      key: 'review',
      description: `Review ${subject} against the code and fix inaccuracies`,
      specialist: pick('general'),
      after: [...implementation],
      base: 15,
      rationale: 'Documentation that disagrees with the code is worse than none',
    })
  } else if (kind === 'bugfix') {
    const area = areas.has('ui') || areas.has('style') ? 'frontend' : areas.has('server') || areas.has('persistence') ? 'backend' : 'general'
    const specialist = pick(area)
    const repro = add({
      key: 'reproduce',
      description: `Reproduce ${subject} and locate its root cause`,
      specialist,
      after: [],
      base: 25,
      rationale: 'A fix without a reliable reproduction cannot be verified',
    })
    const fix = add({
      key: 'fix',
      description: `Fix ${subject}`,
      specialist,
      after: [repro.key],
      base: 35,
      patterns,
      rationale: 'Removes the root cause found during reproduction',
    })
    implementation.push(fix.key)
    otherWork.forEach((c, i) => {
      const d = add({
        key: `extra-${i}`,
        description: sentence(c),
        specialist: specialistFor(c.toLowerCase(), pick, specialist),
        after: [repro.key],
        base: 25,
        rationale: `Requested explicitly: "${c}"`,
      })
      implementation.push(d.key)
    })
    add({
      key: 'tests',
      description: `Add regression tests for ${subject}`,
      specialist: pick('testing'),
      after: [...implementation],
      base: 20,
      files: [`tests/${slug(subject)}.test.ts`],
      constraints: testExtras,
      rationale: 'Proves the fix and keeps the bug from coming back',
    })
  } else {
    const feature = featureName(subject)
    const component = pascal(feature)
    const uiArea = areas.has('ui') || (areas.has('style') && !areas.has('server'))
    const serverArea = areas.has('server') || areas.has('auth') || areas.has('data') || (areas.has('persistence') && !uiArea)
    const persistUi = uiArea && areas.has('persistence')
    let ui: Draft | undefined
    let server: Draft | undefined
    if (kind === 'tests') {
      // Test-writing tasks: the testing specialist owns the work; plan then write.
      const plan = add({
        key: 'test-plan',
        description: `Identify untested behaviour in ${subject} and plan test cases`,
        specialist: pick('testing'),
        after: [],
        base: 15,
        rationale: 'Targets the riskiest gaps first',
      })
      add({
        key: 'tests',
        description: sentence(task),
        specialist: pick('testing'),
        after: [plan.key],
        base: 35,
        files: [`tests/${slug(subject)}.test.ts`],
        constraints: testExtras,
        patterns,
        rationale: 'The requested tests',
      })
    } else {
      if (uiArea) {
        const react = /\breact\b/.test(all) ? ' React' : ''
        ui = add({
          key: 'ui',
          description: `Create ${component}${react} component`,
          specialist: pick('frontend'),
          after: [],
          base: 30,
          files: [`components/${component}.tsx`, ...locationFiles(subject)],
          patterns: patterns.filter((p) => !/\b(rest|sql|graphql)\b/i.test(p)),
          rationale: `Core UI for ${feature}`,
        })
        implementation.push(ui.key)
      }
      if (serverArea || persistUi) {
        const what = areas.has('auth')
          ? `${feature} flow on the server`
          : persistUi && !areas.has('server')
            ? `${stripUi(feature)} persistence API`
            : `${feature} backend API`
        server = add({
          key: 'server',
          description: `Implement ${what}`,
          specialist: pick('backend'),
          after: [],
          base: areas.has('auth') ? 45 : 25,
          files: [`api/${slug(stripUi(feature))}.ts`],
          patterns: areas.has('server') || persistUi ? ['REST API'] : [],
          rationale: persistUi ? 'Backend support for saving the user\'s choice' : `Server side of ${feature}`,
        })
        implementation.push(server.key)
      }
      if (ui && areas.has('style')) {
        const d = add({
          key: 'style',
          description: `Apply ${themeName(lowerTask, feature)} styles across components`,
          specialist: pick('frontend'),
          after: [ui.key],
          base: 40,
          files: ['styles/theme.css', 'components/**/*.tsx'],
          patterns: ['CSS variables'],
          rationale: 'Styling builds on the component that switches it',
        })
        implementation.push(d.key)
      } else if (ui && server) {
        const d = add({
          key: 'integrate',
          description: `Connect ${component} to the ${stripUi(feature)} API`,
          specialist: pick('frontend'),
          after: [ui.key, server.key],
          base: 20,
          rationale: 'UI and server are built in parallel and meet here',
        })
        implementation.push(d.key)
      }
      if (!ui && !server) {
        const design = add({
          key: 'design',
          description: `Analyse requirements and design the approach for ${feature}`,
          specialist: pick('general'),
          after: [],
          base: 20,
          rationale: 'No specific area recognised: settle the approach before building',
        })
        const build = add({
          key: 'build',
          description: `Implement ${feature}`,
          specialist: specialistFor(all, pick, pick('general')),
          after: [design.key],
          base: 40,
          patterns,
          rationale: 'The main body of work',
        })
        implementation.push(build.key)
      }
    }
    const anchor = server ?? ui ?? drafts[drafts.length - 1]!
    otherWork.forEach((c, i) => {
      const lc = c.toLowerCase()
      const specialist = specialistFor(lc, pick, anchor.specialist)
      const parent = specialist === ui?.specialist && ui ? ui : specialist === server?.specialist && server ? server : anchor
      const d = add({
        key: `extra-${i}`,
        description: sentence(c),
        specialist,
        after: parent.key === `extra-${i}` ? [] : [parent.key],
        base: 25,
        rationale: `Requested explicitly: "${c}"`,
      })
      implementation.push(d.key)
    })
    if (kind === 'feature') {
      const e2e = ui !== undefined
      add({
        key: 'tests',
        description: `Write ${e2e ? 'E2E' : 'integration'} tests for ${feature}`,
        specialist: pick('testing'),
        after: [...implementation],
        base: 20,
        files: [e2e ? `tests/e2e/${slug(stripUi(feature))}.test.ts` : `tests/${slug(feature)}.test.ts`],
        patterns: e2e ? ['Playwright'] : [],
        constraints: testExtras,
        rationale: 'Ensure the feature works end-to-end',
      })
    }
  }

  if (kind !== 'docs' && (docExtras.length > 0 || docWords.test(lowerTask))) {
    const documented = implementation.length > 0 ? implementation : drafts.map((d) => d.key)
    const list = docExtras.length > 0 ? docExtras : [`Document ${subject}`]
    list.forEach((c, i) =>
      add({
        key: `docs-${i}`,
        description: sentence(c),
        specialist: pick('docs'),
        after: [...documented],
        base: 15,
        files: ['docs/'],
        rationale: 'Docs describe the finished behaviour, so they follow it',
      }),
    )
  }

  // Whatever the input, the plan stays within the limits every sampler's output is held to.
  const fitted = fitToSubtaskLimit(drafts, input.maxSubtasks ?? defaultMaxSubtasks)
  const ids = new Map(fitted.map((d, i) => [d.key, String(i + 1)]))
  const subtasks: SampledSubtask[] = fitted.map((d) => ({
    id: ids.get(d.key)!,
    description: d.description,
    specialist: d.specialist,
    dependencies: d.after.map((k) => ids.get(k)!).filter((x) => x !== undefined),
    complexity: d.complexity,
    estimatedMinutes: minutesFor(d.complexity),
    context: {
      files: unique(d.files),
      patterns: unique(d.patterns),
      constraints: unique(d.constraints),
    },
    rationale: d.rationale,
  }))
  const plan = {
    subtasks,
    reasoning: reasoningFor(fitted),
    architecturalConsiderations:
      kind === 'docs'
        ? unique(['Keep code examples runnable and checked in CI', 'Version the documentation with what it documents', ...guidelines.map(sentence)])
        : considerations(allAreas, lowerTask, guidelines),
  }
  return boundPlan(plan, input.maxBytes ?? decompositionBudget(defaultMaxPayload))
}

function detectAreas(text: string): Set<Area> {
  const found = new Set<Area>()
  for (const [area, re] of Object.entries(areaWords) as [Area, RegExp][]) if (re.test(text)) found.add(area)
  return found
}

function specialistFor(text: string, pick: (...s: string[]) => string, otherwise: string): string {
  if (testWords.test(text)) return pick('testing')
  if (docWords.test(text)) return pick('docs')
  if (areaWords.security.test(text)) return pick('security', otherwise)
  if (areaWords.ops.test(text)) return pick('devops', otherwise)
  if (areaWords.ui.test(text) || areaWords.style.test(text)) return pick('frontend')
  if (areaWords.server.test(text) || areaWords.auth.test(text) || areaWords.persistence.test(text)) return pick('backend')
  return otherwise
}

/** A guideline goes to the subtasks it concerns; general guidelines go to every implementation subtask. */
function guidelineApplies(guideline: string, specialist: string): boolean {
  const g = guideline.toLowerCase()
  const ui = areaWords.ui.test(g) || areaWords.style.test(g) || /\b(mobile|accessib|atomic design|hooks?)\b/.test(g)
  const server = areaWords.server.test(g) || areaWords.persistence.test(g) || areaWords.auth.test(g)
  const tests = testWords.test(g)
  if (tests) return specialist === 'testing'
  if (ui && !server) return specialist === 'frontend'
  if (server && !ui) return specialist === 'backend'
  return specialist !== 'docs' && specialist !== 'testing'
}

const knownTech = [
  'React hooks', 'Context API', 'TypeScript', 'GraphQL', 'REST API', 'WebSocket', 'Redux', 'Tailwind', 'Next.js',
  'Vue', 'Angular', 'PostgreSQL', 'Redis', 'OAuth2', 'JWT', 'Playwright', 'Jest', 'Docker', 'Kubernetes',
]

function techPatterns(all: string, guidelines: readonly string[]): string[] {
  const found = knownTech.filter((t) => all.includes(t.toLowerCase()))
  for (const g of guidelines) {
    const m = /^(?:use|follow|apply|prefer)\s+(?:the\s+)?(.+?)(?:\s+(?:pattern|patterns|approach|conventions?))?$/i.exec(g)
    if (m?.[1] && !found.some((f) => f.toLowerCase() === m[1]!.toLowerCase())) found.push(capitalize(m[1]))
  }
  if (found.some((f) => /react/i.test(f)) && !found.includes('Context API') && /\b(theme|mode|state|settings)\b/.test(all)) {
    found.push('Context API')
  }
  return found
}

function considerations(areas: Set<Area>, task: string, guidelines: readonly string[]): string[] {
  const out: string[] = []
  if (/\b(dark mode|theme|theming|light mode)\b/.test(task)) {
    out.push('Theme context should be at app root level', 'Use CSS variables for dynamic theming')
    out.push('Consider system preference detection', 'Ensure smooth transitions between themes')
  } else if (areas.has('style')) out.push('Keep styling in shared tokens rather than per-component overrides')
  if (areas.has('auth')) out.push('Store secrets and tokens server-side only; rotate refresh tokens', 'Validate redirect URIs strictly')
  if (areas.has('server')) out.push('Validate all input at the API boundary and version the API contract')
  if (areas.has('persistence') && !areas.has('auth')) out.push('Make writes idempotent so retries are safe')
  if (areas.has('security')) out.push('Record what personal data is stored, why, and for how long')
  if (areas.has('ops')) out.push('Expose metrics before tuning, so changes can be measured')
  if (/\b(leak|memory)\b/.test(task)) out.push('Release subscriptions and timers on unmount; measure heap before and after')
  for (const g of guidelines) out.push(sentence(g))
  return unique(out)
}

function reasoningFor(drafts: readonly Draft[]): string {
  const parts = drafts.map((d) => lowerFirst(d.description))
  const rootsDrafts = drafts.filter((d) => d.after.length === 0)
  const list = (xs: string[]) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`)
  let text = `Task decomposed into ${drafts.length} subtask${drafts.length === 1 ? '' : 's'}: ${list(parts)}.`
  if (rootsDrafts.length > 1) text += ` ${capitalize(list(rootsDrafts.map((d) => lowerFirst(d.description))))} can proceed in parallel.`
  const last = drafts[drafts.length - 1]
  if (last && last.after.length > 0 && drafts.length > 1) text += ` ${capitalize(lowerFirst(last.description))} comes last, once its dependencies are done.`
  return text
}

function subjectOf(task: string): string {
  const s = task.replace(/[.!?]+$/, '').replace(leadingVerb, '').trim()
  return s === '' ? task : lowerFirst(s)
}

/** "dark mode toggle to settings page" → "dark mode toggle" */
function featureName(subject: string): string {
  const core = subject.split(/\s+(?:to|in|into|for|on|across|within|from)\s+/i)[0] ?? subject
  return core.replace(/^(a|an|the)\s+/i, '').trim() || subject
}

function locationFiles(subject: string): string[] {
  const m = /\s(?:to|in|into|on)\s+(?:the\s+)?(.+?)(?:\s+page|\s+screen|\s+view)?$/i.exec(subject)
  return m?.[1] ? [`components/${pascal(m[1])}.tsx`] : []
}

function themeName(task: string, feature: string): string {
  const m = /\b(dark|light|high[- ]contrast)\s+(mode|theme)\b/.exec(task)
  return m ? `${m[1]} theme` : stripUi(feature)
}

function stripUi(feature: string): string {
  return feature.replace(/\s+(toggle|button|component|page|screen|switch|widget|form)$/i, '').trim() || feature
}

/** "comprehensive API documentation" → "the API" */
function docTopic(subject: string): string {
  const t = subject.replace(/\b(comprehensive|complete|full|detailed|new)\s+/gi, '').replace(/\s*\b(documentation|docs|guide|reference)\b\s*/gi, ' ').trim()
  return t === '' ? subject : `the ${t}`
}

function stripVerb(c: string): string {
  return c.replace(leadingVerb, '').replace(/^(a|an|the)\s+/i, '')
}

function sizeFactor(task: string, constraints: number): number {
  const words = task.split(/\s+/).length
  let f = 1
  if (/\b(comprehensive|complete|full|entire|all|across|every)\b/i.test(task)) f += 0.2
  if (words > 25) f += 0.2
  return f + Math.min(constraints, 8) * 0.02
}

const minutesFor = (complexity: number) => Math.max(10, Math.round((complexity * 1.5) / 5) * 5)
const clamp = (n: number) => Math.min(100, Math.max(1, n))
