// The offline planner's drafts, and how they are made to fit the subtask limit (MAX_SUBTASKS). Every
// work-item constraint ("Add rate limiting") becomes a subtask of its own, so 50 of them, plus the
// planner's own steps, would exceed the limit and the plan would fail validation: a bug of ours
// that the client can do nothing about. Surplus subtasks are merged instead, their work kept in the
// merged subtask's constraints.
//
// Merging keeps the graph acyclic: drafts are created in dependency order (each names only earlier
// drafts in `after`), and a contiguous segment of a topological order can be merged into one node
// without creating a cycle: any path between two of its members runs through the segment only.
import { fallbackSpecialist } from './specialists.js'
import { sentence, unique } from './plan-text.js'

export interface Draft {
  key: string
  description: string
  specialist: string
  /** Keys of earlier drafts this one depends on. */
  after: string[]
  complexity: number
  files: string[]
  patterns: string[]
  constraints: string[]
  rationale: string
}

/** MAX_SUBTASKS' default, for callers that do not pass the configured limit. */
export const defaultMaxSubtasks = 50

/** Merges surplus drafts, runs of requested extras first, until at most `max` remain. */
export function fitToSubtaskLimit(drafts: readonly Draft[], max: number): Draft[] {
  const limit = Math.max(1, Math.floor(max))
  let out = [...drafts]
  while (out.length > limit) {
    const excess = out.length - limit
    const run = longestRun(out)
    // No run of extras to fold (a very small limit): merge the tail of the order instead.
    const [start, end] = run ?? [out.length - excess - 1, out.length]
    out = mergeSegment(out, Math.max(start, end - (excess + 1)), end, limit)
  }
  return out
}

/** Extras of one kind (`extra-<n>`, `docs-<n>`) share a group; every other draft is its own. */
function groupOf(d: Draft): string {
  return /^(extra|docs)-\d+$/.test(d.key) ? d.key.replace(/-\d+$/, '') : `:${d.key}`
}

/** The longest run (at least two) of adjacent drafts of one group, as [start, end); the last on ties. */
function longestRun(drafts: readonly Draft[]): [number, number] | undefined {
  let best: [number, number] | undefined
  for (let start = 0; start < drafts.length; ) {
    let end = start + 1
    while (end < drafts.length && groupOf(drafts[end]!) === groupOf(drafts[start]!)) end++
    if (end - start >= 2 && (!best || end - start >= best[1] - best[0])) best = [start, end]
    start = end
  }
  return best
}

/** Drafts [from, end) become one, under the first one's key; later drafts depend on it instead. */
function mergeSegment(drafts: readonly Draft[], from: number, end: number, limit: number): Draft[] {
  const segment = drafts.slice(from, end)
  const first = segment[0]!
  const keys = new Set(segment.map((d) => d.key))
  const rest = segment.slice(1)
  const specialists = unique(segment.map((d) => d.specialist))
  const merged: Draft = {
    key: first.key,
    description: `${first.description} (and ${rest.length} more, listed in the constraints)`,
    specialist: specialists.length === 1 ? specialists[0]! : fallbackSpecialist,
    after: unique(segment.flatMap((d) => d.after)).filter((k) => !keys.has(k)),
    complexity: Math.min(100, segment.reduce((sum, d) => sum + d.complexity, 0)),
    files: unique(segment.flatMap((d) => d.files)),
    patterns: unique(segment.flatMap((d) => d.patterns)),
    constraints: unique([...rest.map((d) => sentence(d.description)), ...segment.flatMap((d) => d.constraints)]),
    rationale: `${segment.length} subtasks merged to stay within ${limit}. ${first.rationale}`,
  }
  const remap = (after: readonly string[]) => unique(after.map((k) => (keys.has(k) ? merged.key : k)))
  return [...drafts.slice(0, from), merged, ...drafts.slice(end).map((d) => ({ ...d, after: remap(d.after) }))]
}
