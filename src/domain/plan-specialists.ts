// Which specialist a subtask goes to. The planner asks for the specialist it would prefer, in order,
// and gets the first one that is active; `general` (the fallback) takes what no active one can.
import { fallbackSpecialist } from './specialists.js'
import { areaWords, docWords, testWords } from './plan-vocabulary.js'

/** The first of `preferred` that is active, else the fallback specialist. */
export type PickSpecialist = (...preferred: string[]) => string

export function specialistPicker(active: readonly string[]): PickSpecialist {
  return (...preferred) => preferred.find((s) => active.includes(s)) ?? fallbackSpecialist
}

/**
 * The specialist for a piece of work described by `text` (lower case), or `otherwise` when its words
 * name none. Tests and docs are recognised first: "Add tests for the API" is testing work.
 */
export function specialistFor(text: string, pick: PickSpecialist, otherwise: string): string {
  if (testWords.test(text)) return pick('testing')
  if (docWords.test(text)) return pick('docs')
  if (areaWords.security.test(text)) return pick('security', otherwise)
  if (areaWords.ops.test(text)) return pick('devops', otherwise)
  if (areaWords.ui.test(text) || areaWords.style.test(text)) return pick('frontend')
  if (areaWords.server.test(text) || areaWords.auth.test(text) || areaWords.persistence.test(text)) return pick('backend')
  return otherwise
}
