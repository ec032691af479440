// Projects the log into the spec's Redis keys. Every write is idempotent by construction (create-
// if-absent, newest-wins, enqueue-if-pending), so redelivery, out-of-order delivery across
// instances, and replay all converge on the same state.
import type { Redis } from 'ioredis'
import type { DomainEvent } from '../domain/events.js'
import type { Keys } from '../store/keys.js'
import type { ProjectionCommands } from '../store/redis.js'
import { hashFields, redisCall } from '../store/redis.js'

export interface RedisProjectorDeps {
  redis: Redis & ProjectionCommands
  keys: Keys
  ttlSeconds: number
}


type Pipeline = ReturnType<Redis['pipeline']> & ProjectionCommands

/**
 * Queues the writes of one event on a pipeline (live: one event per pipeline; replay: thousands).
 * Returns the number of commands queued.
 */
export function queueProjection(p: Pipeline, keys: Keys, ttlSeconds: number, event: DomainEvent): number {
  switch (event.type) {
    case 'TaskCreated':
      p.hsetIfAbsent(
        keys.task(event.taskId),
        ...pairs({
          id: event.taskId,
          title: event.title,
          description: event.description,
          priority: event.priority,
          status: 'pending',
          sessionId: event.sessionId ?? '',
          createdAt: event.createdAt,
        }),
      )
      return 1
    case 'DecompositionSampled': {
      const d = event.decomposition
      const expireAt = Math.floor(event.timestamp / 1000) + ttlSeconds
      p.hsetNewest(
        keys.decomposition(event.taskId),
        String(event.timestamp),
        String(expireAt),
        ...pairs({
          taskId: event.taskId,
          taskText: event.taskText,
          strategy: d.executionStrategy,
          totalComplexity: d.totalComplexity,
          subtaskCount: d.subtasks.length,
          timestamp: event.timestamp,
          sessionId: event.sessionId,
        }),
      )
      // All subtask hashes in one script call; each is created only if absent.
      p.hsetEachIfAbsent(
        d.subtasks.length,
        ...d.subtasks.map((s) => keys.subtask(s.id)),
        ...d.subtasks.map((s) =>
          hashFields({
            id: s.id,
            parentTaskId: event.taskId,
            description: s.description,
            specialist: s.specialist,
            complexity: s.complexity,
            estimatedMinutes: s.estimatedMinutes,
            dependencies: JSON.stringify(s.dependencies),
            status: 'pending',
            createdAt: event.timestamp,
          }),
        ),
      )
      return 2
    }
    case 'SubtasksReleased': {
      if (event.released.length === 0) return 0
      p.enqueueEachIfPending(
        event.released.length * 2,
        ...event.released.flatMap((s) => [keys.queue(s.specialist), keys.subtask(s.id)]),
        ...event.released.flatMap((s) => [String(event.timestamp + s.complexity), s.id]),
      )
      return 1
    }
    case 'AttachmentCreated':
    case 'DecompositionRequested':
    case 'DecompositionFailed':
    case 'DecompositionPersisted':
      return 0
    default: {
      const never: never = event
      throw new Error(`unhandled event ${JSON.stringify(never)}`)
    }
  }
}

export function redisProjector(deps: RedisProjectorDeps) {
  return async function apply(event: DomainEvent): Promise<void> {
    const p = deps.redis.pipeline() as Pipeline
    if (queueProjection(p, deps.keys, deps.ttlSeconds, event) === 0) return
    await redisCall(() => execPipeline(p))
  }
}

/** Field/value arguments for HSET. A plain loop: replay calls this for every subtask of the log. */
function pairs(fields: Record<string, string | number>): string[] {
  const out: string[] = []
  for (const k in fields) out.push(k, String(fields[k]))
  return out
}

export async function execPipeline(p: ReturnType<Redis['pipeline']>): Promise<void> {
  const results = await p.exec()
  const failed = results?.find(([err]) => err)
  if (failed) throw failed[0]
}
