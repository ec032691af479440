// What a sampler must produce (SampledDecomposition) and what the service accepts and stores
// (Decomposition). One schema serves validation and, later, the LLM's structured-output JSON schema.
import Type from 'typebox'

export const SubtaskContext = Type.Object(
  {
    files: Type.Optional(Type.Array(Type.String({ maxLength: 500 }), { maxItems: 100 })),
    patterns: Type.Optional(Type.Array(Type.String({ maxLength: 500 }), { maxItems: 100 })),
    constraints: Type.Optional(Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 100 })),
  },
  { additionalProperties: true },
)
export type SubtaskContext = Type.Static<typeof SubtaskContext>

export const Strategy = Type.Union([Type.Literal('parallel'), Type.Literal('sequential'), Type.Literal('mixed')])

export const SampledSubtask = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.String({ minLength: 1, maxLength: 2000 }),
  specialist: Type.String({ minLength: 1, maxLength: 100 }),
  dependencies: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 500 }),
  complexity: Type.Integer({ minimum: 1, maximum: 100 }),
  estimatedMinutes: Type.Number({ exclusiveMinimum: 0, maximum: 100_000 }),
  context: SubtaskContext,
  rationale: Type.String({ maxLength: 2000 }),
})
export type SampledSubtask = Type.Static<typeof SampledSubtask>

export const SampledDecomposition = Type.Object({
  subtasks: Type.Array(SampledSubtask, { minItems: 1 }),
  executionStrategy: Type.Optional(Strategy),
  totalComplexity: Type.Optional(Type.Number()),
  reasoning: Type.String({ maxLength: 10_000 }),
  architecturalConsiderations: Type.Optional(Type.Array(Type.String({ maxLength: 2000 }), { maxItems: 100 })),
})
export type SampledDecomposition = Type.Static<typeof SampledDecomposition>

export const Subtask = Type.Object({
  id: Type.String(),
  description: Type.String(),
  specialist: Type.String(),
  dependencies: Type.Array(Type.String()),
  complexity: Type.Integer({ minimum: 1, maximum: 100 }),
  context: SubtaskContext,
  estimatedMinutes: Type.Number({ exclusiveMinimum: 0 }),
  rationale: Type.String(),
})
export type Subtask = Type.Static<typeof Subtask>

/** The accepted decomposition, as the spec's result shows it. */
export const Decomposition = Type.Object({
  subtasks: Type.Array(Subtask),
  executionStrategy: Strategy,
  totalComplexity: Type.Integer({ minimum: 0 }),
  reasoning: Type.String(),
  architecturalConsiderations: Type.Array(Type.String()),
})
export type Decomposition = Type.Static<typeof Decomposition>
