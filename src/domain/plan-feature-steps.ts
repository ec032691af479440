// A feature: built by area, then tested end to end. UI and server are built in parallel; styling
// follows the component it styles, or else an integration step joins UI and server; a task in no
// recognised area is designed before it is built. Requested extras follow the step they extend,
// and the tests follow all of it: E2E when there is a UI, integration tests otherwise.
import type { TaskReading } from './plan-reading.js'
import type { Step, Steps } from './plan-steps.js'
import type { BuiltSteps } from './plan-extras.js'
import { requestedExtras } from './plan-extras.js'
import { specialistFor } from './plan-specialists.js'
import { featureName, locationFiles, stripUi, themeName } from './plan-names.js'
import { pascal, slug } from './plan-text.js'

export function featureSteps(r: TaskReading): Steps {
  const feature = featureName(r.subject)
  const built = buildingSteps(r, feature)
  const extras = requestedExtras(r.constraints.otherWork, r.pick, built)
  const implementation = [...built.implementation, ...extras.map((d) => d.key)]
  const e2e = built.ui !== undefined
  const tests: Step = {
    key: 'tests',
    description: `Write ${e2e ? 'E2E' : 'integration'} tests for ${feature}`,
    specialist: r.pick('testing'),
    after: [...implementation],
    base: 20,
    files: [e2e ? `tests/e2e/${slug(stripUi(feature))}.test.ts` : `tests/${slug(feature)}.test.ts`],
    patterns: e2e ? ['Playwright'] : [],
    constraints: r.constraints.testWork,
    rationale: 'Ensure the feature works end-to-end',
  }
  return { steps: [...built.steps, ...extras, tests], implementation }
}

/** The steps that build the feature itself, by the areas the task touches. */
function buildingSteps(r: TaskReading, feature: string): Steps & BuiltSteps {
  const { areas } = r
  const uiArea = areas.has('ui') || (areas.has('style') && !areas.has('server'))
  const serverArea = areas.has('server') || areas.has('auth') || areas.has('data') || (areas.has('persistence') && !uiArea)
  // A UI that persists something ("remember the user's theme") needs a small API to save it.
  const persistUi = uiArea && areas.has('persistence')
  const ui = uiArea ? uiStep(r, feature) : undefined
  const server = serverArea || persistUi ? serverStep(r, feature, persistUi) : undefined
  const anchor = server ?? ui
  if (anchor === undefined) return designedSteps(r, feature)
  const steps = [ui, server].filter((s) => s !== undefined)
  if (ui && areas.has('style')) {
    steps.push({
      key: 'style',
      description: `Apply ${themeName(r.lowerTask, feature)} styles across components`,
      specialist: r.pick('frontend'),
      after: [ui.key],
      base: 40,
      files: ['styles/theme.css', 'components/**/*.tsx'],
      patterns: ['CSS variables'],
      rationale: 'Styling builds on the component that switches it',
    })
  } else if (ui && server) {
    steps.push({
      key: 'integrate',
      description: `Connect ${pascal(feature)} to the ${stripUi(feature)} API`,
      specialist: r.pick('frontend'),
      after: [ui.key, server.key],
      base: 20,
      rationale: 'UI and server are built in parallel and meet here',
    })
  }
  return { steps, implementation: steps.map((s) => s.key), anchor, ...(ui ? { ui } : {}), ...(server ? { server } : {}) }
}

function uiStep(r: TaskReading, feature: string): Step {
  const component = pascal(feature)
  return {
    key: 'ui',
    description: `Create ${component}${/\breact\b/.test(r.allText) ? ' React' : ''} component`,
    specialist: r.pick('frontend'),
    after: [],
    base: 30,
    files: [`components/${component}.tsx`, ...locationFiles(r.subject)],
    // Server-side patterns are not the component's concern.
    patterns: r.patterns.filter((p) => !/\b(rest|sql|graphql)\b/i.test(p)),
    rationale: `Core UI for ${feature}`,
  }
}

function serverStep(r: TaskReading, feature: string, persistUi: boolean): Step {
  const { areas } = r
  const what = areas.has('auth')
    ? `${feature} flow on the server`
    : persistUi && !areas.has('server')
      ? `${stripUi(feature)} persistence API`
      : `${feature} backend API`
  return {
    key: 'server',
    description: `Implement ${what}`,
    specialist: r.pick('backend'),
    after: [],
    base: areas.has('auth') ? 45 : 25,
    files: [`api/${slug(stripUi(feature))}.ts`],
    patterns: areas.has('server') || persistUi ? ['REST API'] : [],
    rationale: persistUi ? "Backend support for saving the user's choice" : `Server side of ${feature}`,
  }
}

/** No area recognised: settle the approach, then build it. */
function designedSteps(r: TaskReading, feature: string): Steps & BuiltSteps {
  const design: Step = {
    key: 'design',
    description: `Analyse requirements and design the approach for ${feature}`,
    specialist: r.pick('general'),
    after: [],
    base: 20,
    rationale: 'No specific area recognised: settle the approach before building',
  }
  const build: Step = {
    key: 'build',
    description: `Implement ${feature}`,
    specialist: specialistFor(r.allText, r.pick, r.pick('general')),
    after: [design.key],
    base: 40,
    patterns: r.patterns,
    rationale: 'The main body of work',
  }
  return { steps: [design, build], implementation: [build.key], anchor: build }
}
