// The two things an operator does with replay: rebuild the live read models (optionally from empty),
// and verify them by rebuilding into a scratch namespace and diffing.
import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import type { Connections } from '../store/connections.js'
import type { Logger } from '../log.js'
import { keys as keysFor } from '../store/keys.js'
import { migrate } from '../store/postgres.js'
import type { Db } from '../store/postgres.js'
import type { Keys } from '../store/keys.js'
import type { Redis } from 'ioredis'
import { replay } from './replay.js'
import type { ReplaySummary } from './replay.js'
import { deleteProjectedKeys, diffPostgres, diffRedis } from './verify.js'
import type { Difference } from './verify.js'

export interface RebuildSettings {
  databaseUrl: string
  pgSchema: string
  ttlSeconds: number
  concurrency?: number
  onProgress?: (applied: number, lastSeq: number) => void
  log: Logger
}

/** Deletes what the projectors wrote (and only that: registry, rate limits and id claims stay). */
export async function clearReadModels(redis: Redis, keys: Keys, db: Db): Promise<void> {
  await deleteProjectedKeys(redis, keys.prefix)
  await sql`TRUNCATE tasks, task_attachments`.execute(db)
}

/** Replays the stream into the live read models; `clean` empties them first. */
export async function rebuildLive(conn: Connections, s: RebuildSettings & { clean?: boolean }): Promise<ReplaySummary> {
  if (s.clean) await clearReadModels(conn.redis, conn.keys, conn.db)
  return replay(conn.store, { redis: conn.redis, keys: conn.keys, db: conn.db, ttlSeconds: s.ttlSeconds }, replayOptions(s))
}

export interface VerifyReport {
  summary: ReplaySummary
  differences: Difference[]
  scratch: { redisPrefix: string; pgSchema: string }
}

/**
 * Rebuilds into a scratch Redis prefix and Postgres schema, diffs them against the live ones, and
 * removes the scratch namespace. The scratch prefix is not under the live one, so it can never be
 * mistaken for live keys. Run it on a quiet system: work in flight shows up as differences.
 */
export async function verifyReadModels(conn: Connections, s: RebuildSettings): Promise<VerifyReport> {
  const tag = randomBytes(4).toString('hex')
  const scratchKeys = keysFor(`${conn.keys.prefix.replace(/[^A-Za-z0-9_]+$/, '')}_verify_${tag}:`)
  const scratchSchema = `${s.pgSchema}_verify_${tag}`.slice(0, 63)
  const scratchDb = await migrate(s.databaseUrl, scratchSchema)
  try {
    const summary = await replay(conn.store, { redis: conn.redis, keys: scratchKeys, db: scratchDb, ttlSeconds: s.ttlSeconds }, replayOptions(s))
    const differences = [...(await diffRedis(conn.redis, conn.keys, scratchKeys)), ...(await diffPostgres(conn.db, scratchDb))]
    return { summary, differences, scratch: { redisPrefix: scratchKeys.prefix, pgSchema: scratchSchema } }
  } finally {
    await deleteProjectedKeys(conn.redis, scratchKeys.prefix)
    await sql`DROP SCHEMA IF EXISTS ${sql.id(scratchSchema)} CASCADE`.execute(scratchDb)
    await scratchDb.destroy()
  }
}

function replayOptions(s: RebuildSettings) {
  return { log: s.log, ...(s.concurrency ? { concurrency: s.concurrency } : {}), ...(s.onProgress ? { onProgress: s.onProgress } : {}) }
}
