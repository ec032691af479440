// Republishes domain events on the contract's core NATS subjects with the spec's {type, payload,
// metadata} envelope plus an `id` that is stable across redeliveries, so subscribers can drop
// duplicates. Delivery is at-least-once: the event is acked only after the publishes are flushed.
// Called by the projector that makes the event visible, after its write (see app.ts).
import type { NatsConnection } from '@nats-io/nats-core'
import type { DomainEvent } from '../domain/events.js'
import { endOfTurn } from '../store/turn-batch.js'

export interface RepublisherDeps {
  nc: NatsConnection
  /** '' for the contract subjects; tests use their own prefix. */
  prefix: string
}

export interface OutboundEvent {
  subject: string
  body: { id: string; type: string; payload: Record<string, unknown>; metadata: Record<string, unknown> }
}

/** Pure mapping from a domain event to what goes on the wire. */
export function outboundEvents(event: DomainEvent): Omit<OutboundEvent, 'subject'>['body'][] {
  switch (event.type) {
    case 'TaskCreated':
      return [
        {
          id: `task.created:${event.taskId}`,
          type: 'task.created',
          payload: { taskId: event.taskId, title: event.title, priority: event.priority },
          metadata: { createdBy: event.createdBy, sessionId: event.sessionId ?? null, timestamp: event.createdAt },
        },
      ]
    case 'AttachmentCreated':
      return [
        {
          id: `task.attachment_created:${event.taskId}:${event.key}`,
          type: 'task.attachment_created',
          payload: { taskId: event.taskId, key: event.key, type: event.attachmentType },
          metadata: { createdBy: event.createdBy, timestamp: event.createdAt },
        },
      ]
    case 'SubtasksReleased':
      return [
        {
          id: `task.decomposed:${event.decompositionId}`,
          type: 'task.decomposed',
          payload: {
            taskId: event.taskId,
            subtaskCount: event.subtaskCount,
            strategy: event.strategy,
            totalComplexity: event.totalComplexity,
            attachmentKey: event.attachmentKey,
          },
          metadata: { decomposedBy: event.decomposedBy, sessionId: event.sessionId, timestamp: event.timestamp },
        },
        ...event.released.map((s) => ({
          id: `task.subtask.ready:${s.id}`,
          type: 'task.subtask.ready',
          payload: {
            subtaskId: s.id,
            parentTaskId: event.taskId,
            specialist: s.specialist,
            description: s.description,
            requiredCapabilities: s.requiredCapabilities,
          },
          metadata: { priority: event.priority, sessionId: event.sessionId },
        })),
      ]
    case 'DecompositionRequested':
    case 'DecompositionSampled':
    case 'DecompositionFailed':
    case 'DecompositionPersisted':
      return []
    default: {
      const never: never = event
      throw new Error(`unhandled event ${JSON.stringify(never)}`)
    }
  }
}

export function republisher(deps: RepublisherDeps) {
  const enc = new TextEncoder()
  // A flush is a PING/PONG round trip; every event republished in one turn shares one.
  let flushing: Promise<void> | undefined
  const flushThisTurn = () => {
    flushing ??= endOfTurn().then(() => {
      flushing = undefined
      return deps.nc.flush()
    })
    return flushing
  }
  return async function apply(event: DomainEvent): Promise<void> {
    const out = outboundEvents(event)
    if (out.length === 0) return
    for (const body of out) {
      deps.nc.publish(deps.prefix ? `${deps.prefix}.${body.type}` : body.type, enc.encode(JSON.stringify(body)))
    }
    await flushThisTurn()
  }
}
