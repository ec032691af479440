// Projects tasks and attachments (a sampled decomposition's included) into Postgres. It only
// projects: appending DecompositionPersisted once the row is written is a step of its own
// (workers/persist-step.ts), composed after this projection in consumer-handlers.ts. Rows are
// insert-once (ON CONFLICT DO NOTHING on their natural key), so redelivery and replay change nothing.
import type { DomainEvent } from '../domain/events.js'
import { decompositionAttachment } from '../domain/decomposition-attachment.js'
import type { Db } from '../store/postgres.js'
import { insertAttachments, insertTasks, pgCall } from '../store/postgres.js'
import type { NewAttachmentRow, NewTaskRow } from '../store/postgres.js'
import type { StoredEvent } from '../store/event-store.js'
import { turnBatcher } from '../store/turn-batcher.js'

export interface PostgresProjectorDeps {
  db: Db
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
  }
}
