// A task whose work is writing tests: the testing specialist owns it, plans the cases (riskiest
// gaps first), then writes them. Requested extras follow the tests.
import type { TaskReading } from './plan-reading.js'
import type { Step, Steps } from './plan-steps.js'
import { requestedExtras } from './plan-extras.js'
import { sentence, slug } from './plan-text.js'

export function testWritingSteps(r: TaskReading): Steps {
  const { subject, pick } = r
  const plan: Step = {
    key: 'test-plan',
    description: `Identify untested behaviour in ${subject} and plan test cases`,
    specialist: pick('testing'),
    after: [],
    base: 15,
    rationale: 'Targets the riskiest gaps first',
  }
  const tests: Step = {
    key: 'tests',
    description: sentence(r.task),
    specialist: pick('testing'),
    after: [plan.key],
    base: 35,
    files: [`tests/${slug(subject)}.test.ts`],
    constraints: r.constraints.testWork,
    patterns: r.patterns,
    rationale: 'The requested tests',
  }
  const extras = requestedExtras(r.constraints.otherWork, pick, { anchor: tests })
  // The requested tests are the plan's own steps: only the extras are implementation to document.
  return { steps: [plan, tests, ...extras], implementation: extras.map((d) => d.key) }
}
