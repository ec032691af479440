// Projects tasks and attachments into Postgres, and is the "attachment projector" of the
// decomposition chain: once a sampled decomposition's attachment row is written it appends
// DecompositionPersisted. Rows are insert-once (ON CONFLICT DO NOTHING on their natural key), so
// redelivery and replay change nothing. A redelivered Sampled event still appends Persisted: a crash
// between the commit and the append must not stall the decomposition.
import type { DecompositionSampled, DomainEvent } from '../domain/events.js'
import { decide, fold } from '../domain/decomposition.js'
import { persistedMsgId } from '../domain/msg-ids.js'
import type { Db } from '../store/postgres.js'
import { insertAttachments, insertTasks, pgCall } from '../store/postgres.js'
import type { NewAttachmentRow, NewTaskRow } from '../store/postgres.js'
import type { EventStore, StoredEvent } from '../store/event-store.js'
import { appendStep } from '../workers/append-step.js'
import { turnBatcher } from '../store/turn-batcher.js'

export interface PostgresProjectorDeps {
  db: Db
  /** Absent in replay: a replay rebuilds rows and never appends events. */
  store?: EventStore
  now: () => number
}


/** The rows one event produces. Pure: the live projector and the batched replay share it. */
export function rowsOf(stored: StoredEvent): { tasks: NewTaskRow[]; attachments: NewAttachmentRow[] } {
  const event: DomainEvent = stored.event
  switch (event.type) {
    case 'TaskCreated':
      return {
        tasks: [
          {
            id: event.taskId,
            title: event.title,
            description: event.description,
            priority: event.priority,
            metadata: event.metadata,
            sessionId: event.sessionId,
            createdBy: event.createdBy,
            createdAt: new Date(event.createdAt),
            eventSeq: stored.seq,
          },
        ],
        attachments: [],
      }
    case 'AttachmentCreated':
      return {
        tasks: [],
        attachments: [
          {
            taskId: event.taskId,
            key: event.key,
            type: event.attachmentType,
            value: event.value,
            createdBy: event.createdBy,
            createdAt: new Date(event.createdAt),
            eventSeq: stored.seq,
          },
        ],
      }
    case 'DecompositionSampled':
      return {
        tasks: [],
        attachments: [
          {
            taskId: event.taskId,
            key: event.attachmentKey,
            type: 'json',
            value: decompositionAttachment(event),
            createdBy: event.decomposedBy,
            createdAt: new Date(event.timestamp),
            eventSeq: stored.seq,
          },
        ],
      }
    case 'DecompositionRequested':
    case 'DecompositionFailed':
    case 'DecompositionPersisted':
    case 'SubtasksReleased':
      return { tasks: [], attachments: [] }
    default: {
      const never: never = event
      throw new Error(`unhandled event ${JSON.stringify(never)}`)
    }
  }
}

export function postgresProjector(deps: PostgresProjectorDeps) {
  const { db } = deps
  // The rows of every event handled in one turn go in one INSERT (see turn-batcher).
  const insertTask = turnBatcher<NewTaskRow>((rows) => pgCall(() => insertTasks(db, rows)))
  const insertAttachment = turnBatcher<NewAttachmentRow>((rows) => pgCall(() => insertAttachments(db, rows)))
  return async function apply(stored: StoredEvent): Promise<void> {
    const { tasks, attachments } = rowsOf(stored)
    await Promise.all([...tasks.map(insertTask), ...attachments.map(insertAttachment)])
    const event = stored.event
    // The attachment projector's second duty: the row is written, so the decomposition moves on.
    // Also when the row already existed (a crash after the commit must not stall it).
    if (event.type !== 'DecompositionSampled' || !deps.store) return
    const [persisted] = decide({ type: 'MarkPersisted', sampledSeq: stored.seq, at: deps.now() }, fold([event]))
    if (persisted) await appendStep(deps.store, persisted, persistedMsgId(event.decompositionId))
  }
}

/** The attachment value, in the spec's "Attachment-Based Storage" shape. */
export type DecompositionAttachment = ReturnType<typeof decompositionAttachment>

export function decompositionAttachment(e: DecompositionSampled) {
  const d = e.decomposition
  return {
    taskId: e.taskId,
    taskText: e.taskText,
    strategy: d.executionStrategy,
    totalComplexity: d.totalComplexity,
    reasoning: d.reasoning,
    subtaskCount: d.subtasks.length,
    subtasks: d.subtasks.map((s) => ({
      id: s.id,
      description: s.description,
      specialist: s.specialist,
      complexity: s.complexity,
      estimatedMinutes: s.estimatedMinutes,
      dependencies: s.dependencies,
      context: s.context,
      rationale: s.rationale,
      status: 'pending' as const,
    })),
    architecturalConsiderations: d.architecturalConsiderations,
    decomposedAt: new Date(e.timestamp).toISOString(),
    decomposedBy: e.decomposedBy,
    sessionId: e.sessionId,
    ...(e.metadata ? { metadata: e.metadata } : {}),
  }
}
