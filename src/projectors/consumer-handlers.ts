// What each projection consumer does with an event, by purpose (the durable name without its
// `<stream>_`): one table that the service's consumers and `decomposer parked --retry` both use, so
// a re-driven event is applied exactly as its consumer would have applied it.
// task.* events are published by the projector that makes their subject visible, after its
// write: a subscriber told "subtask ready" finds it queued, "task created" finds cb:task,
// "attachment created" finds the row.
import type { Config } from '../config.js'
import type { Connections } from '../store/connections.js'
import type { StoredEvent } from '../store/event-store.js'
import { releaseManager } from '../workers/release-manager.js'
import { persistStep } from '../workers/persist-step.js'
import { postgresProjector } from './postgres-projector.js'
import { redisProjector } from './redis-projector.js'
import { republisher } from './republisher.js'

export type ConsumerHandler = (stored: StoredEvent) => Promise<void>

/** Purpose (the durable name without its `<stream>_`) → what that consumer does with an event. */
export function consumerHandlers(conn: Connections, config: Pick<Config, 'publishPrefix' | 'decompositionTtlSeconds'>, now: () => number = Date.now): ReadonlyMap<string, ConsumerHandler> {
  const toRedis = redisProjector({ redis: conn.redis, keys: conn.keys, ttlSeconds: config.decompositionTtlSeconds })
  const toPostgres = postgresProjector({ db: conn.db })
  const markPersisted = persistStep({ store: conn.store, now })
  const publish = republisher({ nc: conn.nc, prefix: config.publishPrefix })
  const redisWrite: ConsumerHandler = (s) => toRedis(s.event)
  const thenPublish = (write: ConsumerHandler): ConsumerHandler => async (s) => {
    await write(s)
    await publish(s.event)
  }
  // Write the row, then move the decomposition on: the step appends only after the row exists.
  const thenPersist = (write: ConsumerHandler): ConsumerHandler => async (s) => {
    await write(s)
    await markPersisted(s)
  }
  return new Map<string, ConsumerHandler>([
    ['redis_tasks', thenPublish(redisWrite)],
    ['redis_outcomes', redisWrite],
    ['redis_releases', thenPublish(redisWrite)],
    ['postgres_tasks', toPostgres],
    ['postgres_attachments', thenPublish(toPostgres)],
    ['postgres_outcomes', thenPersist(toPostgres)],
    ['release', releaseManager({ store: conn.store, now })],
  ])
}

