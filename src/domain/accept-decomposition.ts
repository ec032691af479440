// The gate every sampler's output passes before it becomes an event: schema, graph rules, limits,
// specialist mapping and service-assigned ids. Pure: the timestamp and the active specialists are
// inputs.
import { Compile } from 'typebox/compile'
import type { FieldIssue } from '../errors.js'
import { deriveStrategy, describeGraphIssue, graphIssues } from './dag.js'
import { Decomposition as DecompositionSchema, SampledDecomposition } from './decomposition-schema.js'
import type { Decomposition, Subtask } from './decomposition-schema.js'
import { subtaskId } from './ids.js'
import { mapSpecialist } from './specialists.js'

export interface AcceptOptions {
  timestampMs: number
  activeSpecialists: readonly string[]
  maxSubtasks: number
}

export type AcceptResult =
  | { ok: true; decomposition: Decomposition; notes: string[] }
  | { ok: false; issues: FieldIssue[] }

// Compiled once: the check of a valid answer is the hot path; errors are only gathered on failure.
const sampledCheck = Compile(SampledDecomposition)
const decompositionCheck = Compile(DecompositionSchema)

export function acceptDecomposition(raw: unknown, opts: AcceptOptions): AcceptResult {
  const schemaIssues = sampledCheck.Check(raw) ? [] : [...sampledCheck.Errors(raw)]
    .filter((e) => e.keyword !== 'boolean') // duplicates of the additionalProperties issue
    .map((e) => ({ path: e.instancePath, message: e.message }))
  if (schemaIssues.length > 0) return { ok: false, issues: dedupe(schemaIssues) }
  const sampled = raw as SampledDecomposition
  if (sampled.subtasks.length > opts.maxSubtasks) {
    return {
      ok: false,
      issues: [{ path: '/subtasks', message: `has ${sampled.subtasks.length} subtasks; at most ${opts.maxSubtasks} are allowed` }],
    }
  }
  // Dependencies are a set: a repeated entry is noise, not an error.
  const nodes = sampled.subtasks.map((s) => ({ id: s.id, dependencies: [...new Set(s.dependencies)] }))
  const issues = graphIssues(nodes).map(describeGraphIssue)
  if (issues.length > 0) return { ok: false, issues }

  const notes: string[] = []
  const idMap = new Map(sampled.subtasks.map((s, i) => [s.id, subtaskId(opts.timestampMs, i + 1)]))
  const subtasks: Subtask[] = sampled.subtasks.map((s, i) => {
    const specialist = mapSpecialist(s.specialist, opts.activeSpecialists)
    if (specialist !== s.specialist) notes.push(`subtask "${s.id}": specialist "${s.specialist}" is not active; assigned "${specialist}"`)
    return {
      id: idMap.get(s.id)!,
      description: s.description.trim(),
      specialist,
      dependencies: nodes[i]!.dependencies.map((d) => idMap.get(d)!),
      complexity: s.complexity,
      context: s.context,
      estimatedMinutes: s.estimatedMinutes,
      rationale: s.rationale,
    }
  })
  const executionStrategy = deriveStrategy(subtasks)
  if (sampled.executionStrategy !== undefined && sampled.executionStrategy !== executionStrategy) {
    notes.push(`executionStrategy "${sampled.executionStrategy}" contradicts the graph; using "${executionStrategy}"`)
  }
  const totalComplexity = subtasks.reduce((sum, s) => sum + s.complexity, 0)
  if (sampled.totalComplexity !== undefined && sampled.totalComplexity !== totalComplexity) {
    notes.push(`totalComplexity ${sampled.totalComplexity} is not the sum of the subtasks; using ${totalComplexity}`)
  }
  const decomposition: Decomposition = {
    subtasks,
    executionStrategy,
    totalComplexity,
    reasoning: sampled.reasoning,
    architecturalConsiderations: sampled.architecturalConsiderations ?? [],
  }
  if (!decompositionCheck.Check(decomposition)) throw new Error('acceptDecomposition produced an invalid decomposition')
  return { ok: true, decomposition, notes }
}

function dedupe(issues: FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>()
  return issues.filter((i) => {
    const k = `${i.path}\u0000${i.message}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}
