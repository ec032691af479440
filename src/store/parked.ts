// Parked events: what a consumer gave up on, so an operator can see it (`decomposer parked`) and
// re-drive it (`decomposer parked --retry`). The event itself stays in the stream; an entry is a
// pointer to it (consumer and stream sequence) with why it was parked.
//
// Why Redis and not a Postgres table: the usual reason to park is Postgres refusing a value, and
// the record of that refusal should not depend on the store that refused it, nor add a migration
// and a table type to the Postgres adapter for what is operational state, not a read model. One
// hash under the namespace's prefix (`<prefix>parked`) is per namespace like every other key,
// survives service restarts (it lives in Redis, not in the process), and is not one of the
// projected key families, so `replay --clean` and `replay --verify` leave it alone.
// Fields are `<consumer>:<seq>`: parking the same event twice (two instances, a redelivery after a
// crash) overwrites one entry rather than adding a second.
import type { Redis } from 'ioredis'
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import type { Keys } from './keys.js'
import { redisCall } from './redis.js'

export const ParkedEntry = Type.Object({
  /** Durable consumer name, `<stream>_<purpose>`. */
  consumer: Type.String(),
  seq: Type.Integer({ minimum: 1 }),
  subject: Type.String(),
  /** Event type, or `unknown` when the event could not be decoded. */
  type: Type.String(),
  error: Type.String(),
  /** Deliveries (and re-drives) that failed. */
  attempts: Type.Integer({ minimum: 0 }),
  /** Epoch ms when the consumer parked it (a re-drive that fails keeps it). */
  parkedAt: Type.Number(),
})
export type ParkedEntry = Type.Static<typeof ParkedEntry>

const checkEntry = Compile(ParkedEntry)

export interface ParkedStore {
  /** Records (or overwrites) an entry. Throws StorageError when Redis is away. */
  park(entry: ParkedEntry): Promise<void>
  /** Every entry, by sequence then consumer. Fields that do not decode are skipped. */
  list(): Promise<ParkedEntry[]>
  remove(entry: Pick<ParkedEntry, 'consumer' | 'seq'>): Promise<void>
}

export function parkedField(entry: Pick<ParkedEntry, 'consumer' | 'seq'>): string {
  return `${entry.consumer}:${entry.seq}`
}

export function parkedStore(redis: Redis, keys: Pick<Keys, 'parked'>): ParkedStore {
  return {
    async park(entry) {
      await redisCall(() => redis.hset(keys.parked, parkedField(entry), JSON.stringify(entry)))
    },
    async list() {
      const all = await redisCall(() => redis.hgetall(keys.parked))
      return decodeEntries(Object.values(all))
    },
    async remove(entry) {
      await redisCall(() => redis.hdel(keys.parked, parkedField(entry)))
    },
  }
}

/** Pure: the stored JSON values → entries, sorted. A damaged value is skipped, never fatal to a listing. */
export function decodeEntries(values: readonly string[]): ParkedEntry[] {
  const out: ParkedEntry[] = []
  for (const v of values) {
    let parsed: unknown
    try {
      parsed = JSON.parse(v)
    } catch {
      continue
    }
    if (checkEntry.Check(parsed)) out.push(parsed)
  }
  return out.sort((a, b) => a.seq - b.seq || a.consumer.localeCompare(b.consumer))
}
