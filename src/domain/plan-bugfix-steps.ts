// A bug fix: reproduce it and find the root cause, fix it (requested extras alongside the fix),
// then prove it with regression tests after all of that. The specialist who reproduces it fixes
// it: the area the task names (UI or styling → frontend, server or storage → backend).
import type { TaskReading } from './plan-reading.js'
import type { Step, Steps } from './plan-steps.js'
import { requested } from './plan-steps.js'
import { specialistFor } from './plan-specialists.js'
import { sentence, slug } from './plan-text.js'

export function bugfixSteps(r: TaskReading): Steps {
  const { areas, subject, pick } = r
  const area = areas.has('ui') || areas.has('style') ? 'frontend' : areas.has('server') || areas.has('persistence') ? 'backend' : 'general'
  const specialist = pick(area)
  const repro: Step = {
    key: 'reproduce',
    description: `Reproduce ${subject} and locate its root cause`,
    specialist,
    after: [],
    base: 25,
    rationale: 'A fix without a reliable reproduction cannot be verified',
  }
  const fix: Step = {
    key: 'fix',
    description: `Fix ${subject}`,
    specialist,
    after: [repro.key],
    base: 35,
    patterns: r.patterns,
    rationale: 'Removes the root cause found during reproduction',
  }
  const extras = r.constraints.otherWork.map((c, i): Step => ({
    key: `extra-${i}`,
    description: sentence(c),
    specialist: specialistFor(c.toLowerCase(), pick, specialist),
    after: [repro.key],
    base: 25,
    rationale: requested(c),
  }))
  const implementation = [fix.key, ...extras.map((d) => d.key)]
  const tests: Step = {
    key: 'tests',
    description: `Add regression tests for ${subject}`,
    specialist: pick('testing'),
    after: [...implementation],
    base: 20,
    files: [`tests/${slug(subject)}.test.ts`],
    constraints: r.constraints.testWork,
    rationale: 'Proves the fix and keeps the bug from coming back',
  }
  return { steps: [repro, fix, ...extras, tests], implementation }
}
