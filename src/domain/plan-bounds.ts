// Holds the offline planner's output to the bounds every sampler's output is held to: the schema's
// string lengths and list sizes (decomposition-schema.ts, read from the schema itself so the two
// cannot drift apart) and the byte budget of a decomposition (event-size.ts). The planner copies
// the task's words and the client's constraints into names, descriptions and contexts, so a long
// but valid request could otherwise produce a plan that fails validation: our bug, reported to a
// client who did nothing wrong.
import { SampledDecomposition, SampledSubtask, SubtaskContext } from './decomposition-schema.js'
import type { SampledDecomposition as Plan, SampledSubtask as PlanSubtask } from './decomposition-schema.js'
import { jsonBytes } from './event-size.js'
import { clip } from './plan-text.js'

function bound(schema: unknown, key: 'maxLength' | 'maxItems'): number {
  const v = (schema as Record<string, unknown>)[key]
  if (typeof v !== 'number') throw new Error(`decomposition schema has no ${key} here`)
  return v
}

/** The schema's bounds on what a sampler writes. */
export const planLimits = {
  description: bound(SampledSubtask.properties.description, 'maxLength'),
  rationale: bound(SampledSubtask.properties.rationale, 'maxLength'),
  file: bound(SubtaskContext.properties.files.items, 'maxLength'),
  files: bound(SubtaskContext.properties.files, 'maxItems'),
  pattern: bound(SubtaskContext.properties.patterns.items, 'maxLength'),
  patterns: bound(SubtaskContext.properties.patterns, 'maxItems'),
  constraint: bound(SubtaskContext.properties.constraints.items, 'maxLength'),
  constraints: bound(SubtaskContext.properties.constraints, 'maxItems'),
  reasoning: bound(SampledDecomposition.properties.reasoning, 'maxLength'),
  consideration: bound(SampledDecomposition.properties.architecturalConsiderations.items, 'maxLength'),
  considerations: bound(SampledDecomposition.properties.architecturalConsiderations, 'maxItems'),
} as const

/** Shares of the schema's bounds tried in turn until the plan fits its byte budget. */
const scales = [1, 0.5, 0.25, 0.1, 0.05, 0.02] as const
/** No text is cut below this many characters by the byte budget (the schema's bound may be lower). */
const minChars = 60
/**
 * What acceptDecomposition adds per subtask and per dependency: service ids (`st-<ms>-<n>`) in
 * place of the sampler's, and a specialist mapped to `general`; plus strategy and total complexity.
 */
const acceptedSlackPerId = 32
const acceptedSlack = 128

/** An upper bound of the accepted decomposition's JSON bytes for this plan. */
export function acceptedBytesBound(plan: Plan): number {
  const ids = plan.subtasks.reduce((n, s) => n + 1 + s.dependencies.length, 0)
  return jsonBytes(plan) + ids * acceptedSlackPerId + acceptedSlack
}

/**
 * The plan within the schema's bounds and, cutting text and lists further (a shrinking share of
 * each bound) when it must, within `maxBytes`. Deterministic. If even the smallest share does not
 * fit, that is returned, and the sampler's own size check reports it.
 */
export function boundPlan(plan: Plan, maxBytes: number): Plan {
  let fitted = plan
  for (const scale of scales) {
    fitted = clipPlan(plan, scale)
    if (acceptedBytesBound(fitted) <= maxBytes) return fitted
  }
  return fitted
}

function clipPlan(plan: Plan, scale: number): Plan {
  const chars = (max: number) => Math.min(max, Math.max(minChars, Math.floor(max * scale)))
  const items = (max: number) => Math.max(1, Math.floor(max * scale))
  const list = (xs: readonly string[] | undefined, maxItems: number, maxChars: number) =>
    (xs ?? []).slice(0, items(maxItems)).map((x) => clip(x, chars(maxChars)))
  const subtask = (s: PlanSubtask): PlanSubtask => ({
    ...s,
    description: clip(s.description, chars(planLimits.description)),
    rationale: clip(s.rationale, chars(planLimits.rationale)),
    context: {
      ...s.context,
      files: list(s.context.files, planLimits.files, planLimits.file),
      patterns: list(s.context.patterns, planLimits.patterns, planLimits.pattern),
      constraints: list(s.context.constraints, planLimits.constraints, planLimits.constraint),
    },
  })
  return {
    ...plan,
    subtasks: plan.subtasks.map(subtask),
    reasoning: clip(plan.reasoning, chars(planLimits.reasoning)),
    ...(plan.architecturalConsiderations
      ? { architecturalConsiderations: list(plan.architecturalConsiderations, planLimits.considerations, planLimits.consideration) }
      : {}),
  }
}
