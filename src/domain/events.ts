// Every state change is one of these events, appended to JetStream. Past tense, versioned (`v`),
// each type named like its schema. Events are self-contained: a projector or worker can act on one
// event without reading others, which keeps every consumer a single lookup-free step.
import Type from 'typebox'
import { Decomposition } from './decomposition-schema.js'

const Metadata = Type.Record(Type.String(), Type.Unknown())
const Ms = Type.Integer({ minimum: 0 })

export const TaskCreated = Type.Object({
  type: Type.Literal('TaskCreated'),
  v: Type.Literal(1),
  taskId: Type.String(),
  title: Type.String(),
  description: Type.String(),
  priority: Type.Number({ minimum: 0, maximum: 100 }),
  metadata: Metadata,
  sessionId: Type.Optional(Type.String()),
  createdBy: Type.String(),
  createdAt: Ms,
})
export type TaskCreated = Type.Static<typeof TaskCreated>

export const AttachmentCreated = Type.Object({
  type: Type.Literal('AttachmentCreated'),
  v: Type.Literal(1),
  taskId: Type.String(),
  key: Type.String(),
  attachmentType: Type.String(),
  value: Type.Unknown(),
  createdBy: Type.String(),
  createdAt: Ms,
})
export type AttachmentCreated = Type.Static<typeof AttachmentCreated>

export const DecompositionRequested = Type.Object({
  type: Type.Literal('DecompositionRequested'),
  v: Type.Literal(1),
  decompositionId: Type.String(),
  taskId: Type.String(),
  task: Type.String(),
  priority: Type.Number({ minimum: 0, maximum: 100 }),
  constraints: Type.Array(Type.String()),
  sessionId: Type.String(),
  clientId: Type.String(),
  /**
   * Whose MCP bridges may sample it: the authenticated caller's subject token, or `_` without
   * authentication. Absent on events written before sampling was bound to the caller.
   */
  samplingOwner: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })),
  metadata: Type.Optional(Metadata),
  /** The active specialists when the request was admitted: the sampler plans with these. */
  specialists: Type.Array(Type.String()),
  requestedBy: Type.String(),
  requestedAt: Ms,
})
export type DecompositionRequested = Type.Static<typeof DecompositionRequested>

export const SamplerInfo = Type.Object({
  provider: Type.String(),
  model: Type.Optional(Type.String()),
  promptVersion: Type.Optional(Type.String()),
  latencyMs: Type.Number({ minimum: 0 }),
  usage: Type.Optional(Type.Object({ inputTokens: Type.Optional(Type.Integer()), outputTokens: Type.Optional(Type.Integer()) })),
  notes: Type.Optional(Type.Array(Type.String())),
})
export type SamplerInfo = Type.Static<typeof SamplerInfo>

export const DecompositionSampled = Type.Object({
  type: Type.Literal('DecompositionSampled'),
  v: Type.Literal(1),
  decompositionId: Type.String(),
  taskId: Type.String(),
  taskText: Type.String(),
  priority: Type.Number({ minimum: 0, maximum: 100 }),
  sessionId: Type.String(),
  metadata: Type.Optional(Metadata),
  /** The decomposition's own timestamp: subtask ids, attachment key, expiry and queue scores derive from it. */
  timestamp: Ms,
  attachmentKey: Type.String(),
  decomposedBy: Type.String(),
  decomposition: Decomposition,
  sampler: SamplerInfo,
})
export type DecompositionSampled = Type.Static<typeof DecompositionSampled>

export const DecompositionFailed = Type.Object({
  type: Type.Literal('DecompositionFailed'),
  v: Type.Literal(1),
  decompositionId: Type.String(),
  taskId: Type.String(),
  error: Type.Object({ code: Type.Integer(), message: Type.String(), data: Type.Optional(Type.Unknown()) }),
  failedBy: Type.String(),
  failedAt: Ms,
})
export type DecompositionFailed = Type.Static<typeof DecompositionFailed>

export const DecompositionPersisted = Type.Object({
  type: Type.Literal('DecompositionPersisted'),
  v: Type.Literal(1),
  decompositionId: Type.String(),
  taskId: Type.String(),
  attachmentKey: Type.String(),
  /** Stream sequence of the DecompositionSampled event this persists. */
  sampledSeq: Type.Integer({ minimum: 1 }),
  persistedAt: Ms,
})
export type DecompositionPersisted = Type.Static<typeof DecompositionPersisted>

export const ReleasedSubtask = Type.Object({
  id: Type.String(),
  specialist: Type.String(),
  complexity: Type.Integer(),
  description: Type.String(),
  requiredCapabilities: Type.Array(Type.String()),
})
export type ReleasedSubtask = Type.Static<typeof ReleasedSubtask>

export const SubtasksReleased = Type.Object({
  type: Type.Literal('SubtasksReleased'),
  v: Type.Literal(1),
  decompositionId: Type.String(),
  taskId: Type.String(),
  timestamp: Ms,
  priority: Type.Number({ minimum: 0, maximum: 100 }),
  sessionId: Type.String(),
  decomposedBy: Type.String(),
  attachmentKey: Type.String(),
  subtaskCount: Type.Integer(),
  strategy: Type.String(),
  totalComplexity: Type.Integer(),
  /** The subtasks that became ready: those with no dependencies. */
  released: Type.Array(ReleasedSubtask),
  releasedAt: Ms,
})
export type SubtasksReleased = Type.Static<typeof SubtasksReleased>

export const TaskEvent = Type.Union([TaskCreated, AttachmentCreated])
export type TaskEvent = Type.Static<typeof TaskEvent>
export const DecompositionEvent = Type.Union([
  DecompositionRequested,
  DecompositionSampled,
  DecompositionFailed,
  DecompositionPersisted,
  SubtasksReleased,
])
export type DecompositionEvent = Type.Static<typeof DecompositionEvent>
export const DomainEvent = Type.Union([TaskEvent, DecompositionEvent])
export type DomainEvent = Type.Static<typeof DomainEvent>
export type EventType = DomainEvent['type']
