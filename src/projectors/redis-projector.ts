// Projects the log into the spec's Redis keys. Every write is idempotent by construction (create-
// if-absent, newest-wins, enqueue-if-pending), so redelivery, out-of-order delivery across
// instances, and replay all converge on the same state.
import type { Redis } from 'ioredis'
import type { DomainEvent } from '../domain/events.js'
import type { Keys } from '../store/keys.js'
import type { ProjectionCommands } from '../store/redis.js'
import { redisCall } from '../store/redis.js'

export interface RedisProjectorDeps {
  redis: Redis & ProjectionCommands
  keys: Keys
  ttlSeconds: number
}

export function redisProjector(deps: RedisProjectorDeps) {
  const { redis, keys } = deps
  return async function apply(event: DomainEvent): Promise<void> {
    switch (event.type) {
      case 'TaskCreated':
        await redisCall(() =>
          redis.hsetIfAbsent(
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
          ),
        )
        return
      case 'DecompositionSampled': {
        const d = event.decomposition
        const expireAt = Math.floor(event.timestamp / 1000) + deps.ttlSeconds
        const p = redis.pipeline()
        ;(p as unknown as ProjectionCommands).hsetNewest(
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
        for (const s of d.subtasks) {
          ;(p as unknown as ProjectionCommands).hsetIfAbsent(
            keys.subtask(s.id),
            ...pairs({
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
          )
        }
        await redisCall(() => execPipeline(p))
        return
      }
      case 'SubtasksReleased': {
        if (event.released.length === 0) return
        const p = redis.pipeline()
        for (const s of event.released) {
          ;(p as unknown as ProjectionCommands).enqueueIfPending(
            keys.queue(s.specialist),
            keys.subtask(s.id),
            String(event.timestamp + s.complexity),
            s.id,
          )
        }
        await redisCall(() => execPipeline(p))
        return
      }
      case 'AttachmentCreated':
      case 'DecompositionRequested':
      case 'DecompositionFailed':
      case 'DecompositionPersisted':
        return
      default: {
        const never: never = event
        throw new Error(`unhandled event ${JSON.stringify(never)}`)
      }
    }
  }
}

function pairs(fields: Record<string, string | number>): string[] {
  return Object.entries(fields).flatMap(([k, v]) => [k, String(v)])
}

async function execPipeline(p: ReturnType<Redis['pipeline']>): Promise<void> {
  const results = await p.exec()
  const failed = results?.find(([err]) => err)
  if (failed) throw failed[0]
}
