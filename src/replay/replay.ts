// Rebuilds the read models from the log with the projectors' own write logic (the same Redis
// commands, the same rows), never appending and never republishing. The writes converge in any
// order, so replay applies events in batches: one Redis pipeline and one multi-row insert per table
// for thousands of events, with a few batches in flight.
import type { Redis } from 'ioredis'
import type { EventStore } from '../store/event-store.js'
import type { Keys } from '../store/keys.js'
import type { Db } from '../store/postgres.js'
import type { ProjectionCommands } from '../store/redis.js'
import { execPipeline, queueProjection } from '../projectors/redis-projector.js'
import { rowsOf } from '../projectors/postgres-projector.js'
import { insertAttachments, insertTasks, pgCall } from '../store/postgres.js'
import type { NewAttachmentRow, NewTaskRow } from '../store/postgres.js'
import { redisCall } from '../store/redis.js'
import type { StoredEvent } from '../store/event-store.js'
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
  /** Subtasks of the sampled decompositions applied: a better measure of work than events. */
  subtasks: number
  durationMs: number
  eventsPerSecond: number
  subtasksPerSecond: number
}

export interface ReplayOptions {
  /** Events per batch (one pipeline, one insert per table). */
  batchSize?: number
  /** Batches in flight at once; the writes commute, so their order is free. */
  concurrency?: number
  /** Called at most every `progressEveryMs` with events applied so far. */
  onProgress?: (applied: number, lastSeq: number) => void
  progressEveryMs?: number
  log: Logger
  now?: () => number
}

export async function replay(store: EventStore, target: ReplayTarget, opts: ReplayOptions): Promise<ReplaySummary> {
  const now = opts.now ?? Date.now
  const batchSize = opts.batchSize ?? 2000
  const limit = opts.concurrency ?? 3
  const started = now()
  const byType: Record<string, number> = {}
  let applied = 0
  let poison = 0
  let subtasks = 0
  let lastSeq = 0
  let lastProgress = 0
  const inFlight = new Set<Promise<void>>()
  let failure: unknown

  const flush = async (batch: StoredEvent[]) => {
    const job: Promise<void> = applyBatch(target, batch).then(
      () => {
        applied += batch.length
        for (const { event } of batch) {
          byType[event.type] = (byType[event.type] ?? 0) + 1
          if (event.type === 'DecompositionSampled') subtasks += event.decomposition.subtasks.length
        }
        inFlight.delete(job)
        if (opts.onProgress && now() - lastProgress >= (opts.progressEveryMs ?? 100)) {
          lastProgress = now()
          opts.onProgress(applied, lastSeq)
        }
      },
      (err: unknown) => {
        failure ??= err
        inFlight.delete(job)
      },
    )
    inFlight.add(job)
    if (inFlight.size >= limit) await Promise.race(inFlight)
  }

  let batch: StoredEvent[] = []
  for await (const item of store.readAll()) {
    if (failure) break
    lastSeq = item.seq
    if ('poison' in item) {
      poison++
      opts.log.warn('replay skipped an event that cannot be decoded', { seq: item.seq, subject: item.subject, err: item.poison })
      continue
    }
    batch.push(item)
    if (batch.length >= batchSize) {
      await flush(batch)
      batch = []
    }
  }
  if (batch.length > 0 && !failure) await flush(batch)
  await Promise.all(inFlight)
  if (failure) throw failure
  opts.onProgress?.(applied, lastSeq)
  const durationMs = Math.max(1, now() - started)
  const perSecond = (n: number) => Math.round((n / durationMs) * 1000)
  return { events: applied, byType, poison, lastSeq, subtasks, durationMs, eventsPerSecond: perSecond(applied), subtasksPerSecond: perSecond(subtasks) }
}

/** One batch: a single Redis pipeline and multi-row inserts (chunked under Postgres' parameter limit). */
async function applyBatch(target: ReplayTarget, batch: readonly StoredEvent[]): Promise<void> {
  const pipeline = target.redis.pipeline() as Parameters<typeof queueProjection>[0]
  let commands = 0
  const tasks: NewTaskRow[] = []
  const attachments: NewAttachmentRow[] = []
  for (const stored of batch) {
    commands += queueProjection(pipeline, target.keys, target.ttlSeconds, stored.event)
    const rows = rowsOf(stored)
    tasks.push(...rows.tasks)
    attachments.push(...rows.attachments)
  }
  const writes: Promise<void>[] = []
  if (commands > 0) writes.push(redisCall(() => execPipeline(pipeline)))
  for (let i = 0; i < tasks.length; i += 1000) writes.push(pgCall(() => insertTasks(target.db, tasks.slice(i, i + 1000))))
  for (let i = 0; i < attachments.length; i += 500) writes.push(pgCall(() => insertAttachments(target.db, attachments.slice(i, i + 500))))
  await Promise.all(writes)
}
