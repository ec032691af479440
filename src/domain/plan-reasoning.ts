// The plan's reasoning: a summary a reader can check against the subtasks. It lists the subtasks in
// plan order, says which can start at once (in parallel when more than one), and names the last.
import type { Draft } from './plan-budget.js'
import { capitalize, lowerFirst } from './plan-text.js'

export function reasoningFor(drafts: readonly Draft[]): string {
  const parts = drafts.map((d) => lowerFirst(d.description))
  const roots = drafts.filter((d) => d.after.length === 0)
  let text = `Task decomposed into ${drafts.length} subtask${drafts.length === 1 ? '' : 's'}: ${listed(parts)}.`
  if (roots.length > 1) text += ` ${capitalize(listed(roots.map((d) => lowerFirst(d.description))))} can proceed in parallel.`
  const last = drafts[drafts.length - 1]
  if (last && last.after.length > 0 && drafts.length > 1) text += ` ${capitalize(lowerFirst(last.description))} comes last, once its dependencies are done.`
  return text
}

/** ["a", "b", "c"] → "a, b and c" */
function listed(xs: readonly string[]): string {
  return xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`
}
