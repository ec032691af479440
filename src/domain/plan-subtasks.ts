// The plan's drafts as the subtasks a sampler answers with: numbered "1", "2", … in plan order,
// dependencies by those numbers, minutes estimated from complexity, and no repeats in a context.
import type { SampledSubtask } from './decomposition-schema.js'
import type { Draft } from './plan-budget.js'
import { minutesFor } from './plan-estimate.js'
import { unique } from './plan-text.js'

export function numberedSubtasks(drafts: readonly Draft[]): SampledSubtask[] {
  const ids = new Map(drafts.map((d, i) => [d.key, String(i + 1)]))
  return drafts.map((d) => ({
    id: ids.get(d.key)!,
    description: d.description,
    specialist: d.specialist,
    // A key of no draft (none is expected: merging remaps them) is dropped rather than dangling.
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
}
