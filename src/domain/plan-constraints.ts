// The client's constraints are of two sorts: work items, which ask for work of their own ("Add rate
// limiting") and become subtasks, and guidelines, which shape how the work is done ("Use React
// hooks") and travel with the subtasks they concern.
import { actionVerb, areaWords, docWords, testWords } from './plan-vocabulary.js'

export interface SortedConstraints {
  /** Work items about tests: they join the plan's testing subtask rather than adding one. */
  testWork: string[]
  /** Work items about documentation: they become docs subtasks. */
  docWork: string[]
  /** Every other work item: a subtask each. */
  otherWork: string[]
  guidelines: string[]
}

/** The constraints, trimmed, empty ones dropped, sorted into work items (by what they ask for) and guidelines. */
export function sortConstraints(constraints: readonly string[]): SortedConstraints {
  const trimmed = constraints.map((c) => c.trim()).filter((c) => c !== '')
  const work = trimmed.filter((c) => actionVerb.test(c))
  const isTests = (c: string) => testWords.test(c.toLowerCase())
  const isDocs = (c: string) => docWords.test(c.toLowerCase())
  return {
    // "Write API documentation examples for the test suite" is documentation: docs words win.
    testWork: work.filter((c) => isTests(c) && !isDocs(c)),
    docWork: work.filter(isDocs),
    otherWork: work.filter((c) => !isTests(c) && !isDocs(c)),
    guidelines: trimmed.filter((c) => !actionVerb.test(c)),
  }
}

/** A guideline goes to the subtasks it concerns; general guidelines go to every implementation subtask. */
export function guidelineApplies(guideline: string, specialist: string): boolean {
  const g = guideline.toLowerCase()
  const ui = areaWords.ui.test(g) || areaWords.style.test(g) || /\b(mobile|accessib|atomic design|hooks?)\b/.test(g)
  const server = areaWords.server.test(g) || areaWords.persistence.test(g) || areaWords.auth.test(g)
  const tests = testWords.test(g)
  if (tests) return specialist === 'testing'
  if (ui && !server) return specialist === 'frontend'
  if (server && !ui) return specialist === 'backend'
  return specialist !== 'docs' && specialist !== 'testing'
}
