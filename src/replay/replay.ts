// Rebuilds the read models from the log: every event through the same Redis and Postgres projectors
// the live service runs, with the Postgres projector in replay mode (it never appends), and nothing
// republished. The projections converge in any order, so events are applied with a window of
// concurrency instead of one round trip at a time.
import type { Redis } from 'ioredis'
import type { EventStore } from '../store/event-store.js'
import type { Keys } from '../store/keys.js'
import type { Db } from '../store/postgres.js'
import type { ProjectionCommands } from '../store/redis.js'
import { redisProjector } from '../projectors/redis-projector.js'
import { postgresProjector } from '../projectors/postgres-projector.js'
import type { Logger } from '../log.js'

export interface ReplayTarget {
  redis: Redis & ProjectionCommands
  keys: Keys
  db: Db
  ttlSeconds: number
}

export interface ReplaySummary {
  events: number
  byType: Record<string, number>
  /** Events that could not be decoded (skipped, and logged with their sequence). */
  poison: number
  lastSeq: number
  durationMs: number
  eventsPerSecond: number
}

export interface ReplayOptions {
  /** Events applied at once; the projectors' writes commute, so order within the window is free. */
  concurrency?: number
  /** Called at most every `progressEveryMs` with events applied so far. */
  onProgress?: (applied: number, lastSeq: number) => void
  progressEveryMs?: number
  log: Logger
  now?: () => number
}

export async function replay(store: EventStore, target: ReplayTarget, opts: ReplayOptions): Promise<ReplaySummary> {
  const now = opts.now ?? Date.now
  const toRedis = redisProjector({ redis: target.redis, keys: target.keys, ttlSeconds: target.ttlSeconds })
  const toPostgres = postgresProjector({ db: target.db, now }) // no store: replay never appends
  const limit = opts.concurrency ?? 128
  const started = now()
  const byType: Record<string, number> = {}
  let applied = 0
  let poison = 0
  let lastSeq = 0
  let lastProgress = 0
  const inFlight = new Set<Promise<void>>()
  let failure: unknown

  for await (const item of store.readAll()) {
    if (failure) break
    lastSeq = item.seq
    if ('poison' in item) {
      poison++
      opts.log.warn('replay skipped an event that cannot be decoded', { seq: item.seq, subject: item.subject, err: item.poison })
      continue
    }
    const job: Promise<void> = Promise.all([toRedis(item.event), toPostgres(item)]).then(
      () => {
        applied++
        byType[item.event.type] = (byType[item.event.type] ?? 0) + 1
        inFlight.delete(job)
      },
      (err: unknown) => {
        failure ??= err
        inFlight.delete(job)
      },
    )
    inFlight.add(job)
    if (inFlight.size >= limit) await Promise.race(inFlight)
    if (opts.onProgress && now() - lastProgress >= (opts.progressEveryMs ?? 100)) {
      lastProgress = now()
      opts.onProgress(applied, lastSeq)
    }
  }
  await Promise.all(inFlight)
  if (failure) throw failure
  opts.onProgress?.(applied, lastSeq)
  const durationMs = Math.max(1, now() - started)
  return { events: applied, byType, poison, lastSeq, durationMs, eventsPerSecond: Math.round((applied / durationMs) * 1000) }
}
