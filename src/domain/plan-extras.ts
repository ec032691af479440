// Work items of a feature or test-writing task ("Add rate limiting"): a subtask each, by the
// specialist its words call for, after the step it extends: the UI step when it is UI work, the
// server step when it is server work, else the anchor (the server step, the UI step, or the last
// step built, in that order of preference).
import type { Step } from './plan-steps.js'
import { requested } from './plan-steps.js'
import type { PickSpecialist } from './plan-specialists.js'
import { specialistFor } from './plan-specialists.js'
import { sentence } from './plan-text.js'

export interface BuiltSteps {
  ui?: Step
  server?: Step
  /** The step an extra follows when it is neither the UI's nor the server's work. */
  anchor: Step
}

export function requestedExtras(work: readonly string[], pick: PickSpecialist, built: BuiltSteps): Step[] {
  const { ui, server, anchor } = built
  return work.map((c, i) => {
    const specialist = specialistFor(c.toLowerCase(), pick, anchor.specialist)
    const parent = ui && specialist === ui.specialist ? ui : server && specialist === server.specialist ? server : anchor
    return {
      key: `extra-${i}`,
      description: sentence(c),
      specialist,
      after: [parent.key],
      base: 25,
      rationale: requested(c),
    }
  })
}
