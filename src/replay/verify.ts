// Compares two read-model namespaces (the live one and a scratch rebuild): the projected Redis key
// families, with content and absolute expiry, and the Postgres rows, without surrogate ids.
import type { Redis } from 'ioredis'
import { sql } from 'kysely'
import type { Keys } from '../store/keys.js'
import type { Db } from '../store/postgres.js'

export interface Difference {
  store: 'redis' | 'postgres'
  /** Key relative to the namespace prefix (`decomposition:t-1`), or `table/natural-key`. */
  key: string
  kind: 'missing in live' | 'extra in live' | 'differs'
  live?: unknown
  rebuilt?: unknown
}

/** The key families the projectors write (everything else under the prefix is live-only state). */
export const projectedFamilies = ['task:', 'decomposition:', 'subtask:', 'queue:specialist:'] as const

export async function projectedKeys(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = []
  for (const family of projectedFamilies) {
    let cursor = '0'
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${escapeGlob(prefix + family)}*`, 'COUNT', 1000)
      cursor = next
      found.push(...batch)
    } while (cursor !== '0')
  }
  return found
}

/** Deletes the projected key families under a prefix (a scratch rebuild, or live before --clean). */
export async function deleteProjectedKeys(redis: Redis, prefix: string): Promise<void> {
  const found = await projectedKeys(redis, prefix)
  for (let i = 0; i < found.length; i += 1000) await redis.unlink(...found.slice(i, i + 1000))
}

interface KeySnapshot {
  type: string
  value: unknown
  /** Absolute expiry in seconds (EXPIRETIME), -1 when none. */
  expireAt: number
}

async function snapshot(redis: Redis, prefix: string): Promise<Map<string, KeySnapshot>> {
  const keys = await projectedKeys(redis, prefix)
  const out = new Map<string, KeySnapshot>()
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500)
    const types = (await redis.pipeline(chunk.map((k) => ['type', k])).exec()) ?? []
    const p = redis.pipeline()
    chunk.forEach((k, j) => {
      const type = String(types[j]?.[1])
      if (type === 'hash') p.hgetall(k)
      else if (type === 'zset') p.zrange(k, '0', '-1', 'WITHSCORES')
      else if (type === 'string') p.get(k)
      else p.type(k)
      p.call('EXPIRETIME', k)
    })
    const values = (await p.exec()) ?? []
    chunk.forEach((k, j) => {
      const type = String(types[j]?.[1])
      if (type === 'none') return // expired between the scan and the read
      out.set(k.slice(prefix.length), { type, value: values[2 * j]?.[1], expireAt: Number(values[2 * j + 1]?.[1]) })
    })
  }
  return out
}

export async function diffRedis(redis: Redis, live: Keys, rebuilt: Keys): Promise<Difference[]> {
  const [a, b] = await Promise.all([snapshot(redis, live.prefix), snapshot(redis, rebuilt.prefix)])
  return diffMaps('redis', a, b)
}

/** Rows as the projectors write them; `id` (a surrogate bigserial) is left out. */
async function rows(db: Db): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>()
  const tasks = await sql<{ id: string; row: unknown }>`SELECT id, to_jsonb(t) AS row FROM tasks t ORDER BY id`.execute(db)
  for (const r of tasks.rows) out.set(`tasks/${r.id}`, r.row)
  const attachments = await sql<{ k: string; row: unknown }>`
    SELECT task_id || '/' || key AS k, to_jsonb(a) - 'id' AS row FROM task_attachments a ORDER BY task_id, key`.execute(db)
  for (const r of attachments.rows) out.set(`task_attachments/${r.k}`, r.row)
  return out
}

export async function diffPostgres(live: Db, rebuilt: Db): Promise<Difference[]> {
  const [a, b] = await Promise.all([rows(live), rows(rebuilt)])
  return diffMaps('postgres', a, b)
}

function diffMaps(store: Difference['store'], live: Map<string, unknown>, rebuilt: Map<string, unknown>): Difference[] {
  const out: Difference[] = []
  for (const [key, value] of rebuilt) {
    if (!live.has(key)) out.push({ store, key, kind: 'missing in live', rebuilt: value })
    else if (canonical(live.get(key)) !== canonical(value)) out.push({ store, key, kind: 'differs', live: live.get(key), rebuilt: value })
  }
  for (const [key, value] of live) if (!rebuilt.has(key)) out.push({ store, key, kind: 'extra in live', live: value })
  return out.sort((x, y) => x.key.localeCompare(y.key))
}

/** JSON with sorted object keys, so field order never counts as a difference. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y))) : v,
  )
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`)
}
