// A step is a subtask as a plan's builders describe it: what to do, by whom, after which earlier
// steps, and how large it is by its kind (`base`). Builders return steps in dependency order (each
// names only earlier steps in `after`), which is what lets fitToSubtaskLimit merge them safely.
import type { Draft } from './plan-budget.js'
import { guidelineApplies } from './plan-constraints.js'
import { complexityOf } from './plan-estimate.js'

export interface Step {
  key: string
  description: string
  specialist: string
  /** Keys of earlier steps this one depends on. */
  after: string[]
  /** Complexity of this kind of step in a task of ordinary size. */
  base: number
  files?: string[]
  patterns?: string[]
  /** Constraints that belong to this step alone (work items folded into it); guidelines are added later. */
  constraints?: string[]
  rationale: string
}

/** A builder's steps, and the keys of those that do the requested work: tests and docs come after these. */
export interface Steps {
  steps: Step[]
  implementation: string[]
}

/** The step as a draft: the guidelines that concern its specialist join its constraints and its complexity. */
export function draftOf(step: Step, guidelines: readonly string[], scale: number): Draft {
  const relevant = guidelines.filter((g) => guidelineApplies(g, step.specialist))
  return {
    key: step.key,
    description: step.description,
    specialist: step.specialist,
    after: step.after,
    rationale: step.rationale,
    files: step.files ?? [],
    patterns: step.patterns ?? [],
    constraints: [...(step.constraints ?? []), ...relevant],
    complexity: complexityOf(step.base, scale, relevant.length),
  }
}

/** The rationale of a subtask the client asked for in a constraint. */
export const requested = (constraint: string) => `Requested explicitly: "${constraint}"`
