// The offline planner: reads the task and its constraints and plans a DAG of specialist subtasks
// for ordinary software work. Deterministic and pure. It is no LLM: it recognises the shape of the
// work (feature, bug fix, documentation), the areas it touches (UI, styling, server, persistence),
// and which constraints are work items ("Add rate limiting") rather than guidelines ("Use React
// hooks"), and it orders the work as an engineer would: implementation first, styling after the
// component it styles, tests after what they test, docs after what they document.
//
// The parts, in the order they run:
//   plan-reading.ts        what the request says: kind of work, areas, constraints, patterns, size
//   plan-*-steps.ts        the steps for that kind of work, each naming the earlier steps it follows
//   plan-steps.ts          steps as drafts: relevant guidelines attached, complexity estimated
//   plan-budget.ts         surplus drafts merged to stay within MAX_SUBTASKS
//   plan-subtasks.ts, plan-reasoning.ts, plan-considerations.ts   the plan a sampler answers with
//   plan-bounds.ts         the plan held to the schema's bounds and the byte budget
import type { SampledDecomposition } from './decomposition-schema.js'
import { decompositionBudget, defaultMaxPayload } from './event-size.js'
import { defaultMaxSubtasks, fitToSubtaskLimit } from './plan-budget.js'
import { boundPlan } from './plan-bounds.js'
import type { PlanInput, TaskReading } from './plan-reading.js'
import { readTask } from './plan-reading.js'
import type { Steps } from './plan-steps.js'
import { draftOf } from './plan-steps.js'
import { documentationSteps, documentingSteps } from './plan-docs-steps.js'
import { bugfixSteps } from './plan-bugfix-steps.js'
import { testWritingSteps } from './plan-test-steps.js'
import { featureSteps } from './plan-feature-steps.js'
import { numberedSubtasks } from './plan-subtasks.js'
import { reasoningFor } from './plan-reasoning.js'
import { architecturalConsiderations } from './plan-considerations.js'

export type { PlanInput } from './plan-reading.js'

export function planDecomposition(input: PlanInput): SampledDecomposition {
  const reading = readTask(input)
  const work = stepsForKind(reading)
  const steps = [...work.steps, ...documentingSteps(reading, work)]
  const drafts = steps.map((s) => draftOf(s, reading.constraints.guidelines, reading.scale))
  // Whatever the input, the plan stays within the limits every sampler's output is held to.
  const fitted = fitToSubtaskLimit(drafts, input.maxSubtasks ?? defaultMaxSubtasks)
  const plan = {
    subtasks: numberedSubtasks(fitted),
    reasoning: reasoningFor(fitted),
    architecturalConsiderations: architecturalConsiderations(reading),
  }
  return boundPlan(plan, input.maxBytes ?? decompositionBudget(defaultMaxPayload))
}

function stepsForKind(reading: TaskReading): Steps {
  switch (reading.kind) {
    case 'docs':
      return documentationSteps(reading)
    case 'bugfix':
      return bugfixSteps(reading)
    case 'tests':
      return testWritingSteps(reading)
    case 'feature':
      return featureSteps(reading)
  }
}
