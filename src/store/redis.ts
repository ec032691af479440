// Redis adapter: connection with a clear failure, and the atomic scripts the projector and the
// sampler worker need. Each script is idempotent by construction, so a redelivered or replayed
// event changes nothing the first delivery did not.
import { Redis } from 'ioredis'
import { StorageError } from '../errors.js'
import { redactSecrets, redactUrl, urlSecrets } from '../redact.js'

export function connectRedis(url: string, opts: { lazy?: boolean } = {}): Redis {
  return new Redis(url, {
    lazyConnect: opts.lazy ?? true,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    // Back off up to 2 s between reconnect attempts; never give up (outages end).
    retryStrategy: (times) => Math.min(times * 100, 2000),
  })
}

/**
 * Connects and pings once; a down Redis becomes one clear StorageError naming the URL (its password
 * masked: REDIS_URL is often `redis://:password@host`). Connection
 * errors after that are reported through `onError` (ioredis keeps reconnecting by itself).
 */
export async function openRedis(url: string, onError: (err: Error) => void = () => undefined): Promise<Redis> {
  const redis = connectRedis(url)
  let lastError: Error | undefined
  let ready = false
  redis.on('error', (err: Error) => {
    lastError = err
    if (ready) onError(err)
  })
  try {
    await redis.connect()
    await redis.ping()
  } catch (err) {
    redis.disconnect()
    const reason = redactSecrets((lastError ?? (err as Error)).message, urlSecrets(url))
    throw new StorageError(`Redis is not reachable at ${redactUrl(url)} (${reason})`, { store: 'redis' }, { cause: err })
  }
  ready = true
  return redis
}

/** Runs a Redis call, turning a connection failure into StorageError (retryable). */
export async function redisCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw new StorageError('Redis unavailable', { store: 'redis' }, { cause: err })
  }
}

/**
 * Create-if-absent of a hash: HSET only when the key does not exist, so a later status change
 * (claimed, completed) is never reset by a redelivered creation event.
 * KEYS[1] hash; ARGV field/value pairs.
 */
export const hsetIfAbsentScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`

/**
 * hsetIfAbsent for many hashes in one call (all subtasks of a decomposition): one round trip and
 * one script run instead of one per subtask. KEYS the hashes; ARGV[i] the field/value pairs of
 * KEYS[i] as one JSON array of strings. One argument per hash rather than one per field: the
 * client builds every argument of every command one by one, and for replay, which writes every
 * subtask of the log, that was the largest part of its Redis cost (see hashFields).
 */
export const hsetEachIfAbsentScript = `
local created = 0
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 0 then
    redis.call('HSET', key, unpack(cjson.decode(ARGV[i])))
    created = created + 1
  end
end
return created`

/**
 * The JSON argument of hsetEachIfAbsent for one hash. Lone surrogates are replaced (U+FFFD), as
 * they would be had the fields gone to Redis as arguments of their own: cjson refuses them.
 */
export function hashFields(fields: Record<string, string | number>): string {
  const out: string[] = []
  for (const k in fields) out.push(k, String(fields[k]).toWellFormed())
  return JSON.stringify(out)
}

/**
 * Newest-wins write of the decomposition cache: a task decomposed twice keeps the later one even
 * when events are applied out of order, and the expiry is absolute (EXPIREAT) so a replay gives
 * the same expiry. KEYS[1] hash; ARGV[1] timestamp ms, ARGV[2] expire-at seconds, then pairs.
 */
export const hsetNewestScript = `
local current = redis.call('HGET', KEYS[1], 'timestamp')
if current and tonumber(current) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('EXPIREAT', KEYS[1], ARGV[2])
return 1`

/**
 * Queue released subtasks, each unless it has moved past pending (claimed or done): a redelivered
 * release must not put claimed work back. One call for all subtasks of a release.
 * KEYS queue1, hash1, queue2, hash2...; ARGV score1, member1, score2, member2...
 */
export const enqueueEachIfPendingScript = `
local added = 0
for i = 1, #KEYS, 2 do
  local status = redis.call('HGET', KEYS[i + 1], 'status')
  if not status or status == 'pending' then
    added = added + redis.call('ZADD', KEYS[i], 'NX', ARGV[i], ARGV[i + 1])
  end
end
return added`

/** Claims a key for a given owner; the same owner claiming again succeeds (retries after a crash). */
export const claimScript = `
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then return 1 end
if owner then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`

/**
 * Sliding-window admission: drops entries older than the window, admits when fewer than `limit`
 * remain, and otherwise answers how long until the oldest leaves. Atomic, so concurrent requests
 * from several instances cannot slip past. KEYS[1] zset; ARGV now ms, window ms, limit, member.
 * Returns {1, 0} when admitted, {0, retryAfterMs} when refused.
 */
export const slidingWindowScript = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return {1, 0}`

export interface ProjectionCommands {
  slidingWindow(key: string, nowMs: string, windowMs: string, limit: string, member: string): Promise<[number, number]>
  hsetIfAbsent(key: string, ...fieldValues: string[]): Promise<number>
  hsetNewest(key: string, timestampMs: string, expireAtSeconds: string, ...fieldValues: string[]): Promise<number>
  /** numberOfKeys first (variadic script), then the keys, then one hashFields() argument per key. */
  hsetEachIfAbsent(numberOfKeys: number, ...keysThenArgs: (string | number)[]): Promise<number>
  enqueueEachIfPending(numberOfKeys: number, ...keysThenArgs: (string | number)[]): Promise<number>
  claim(key: string, owner: string, ttlMs: string): Promise<number>
}

/** Registers the scripts as commands (EVALSHA with automatic fallback to EVAL). */
export function defineProjectionCommands(redis: Redis): Redis & ProjectionCommands {
  const r = redis as Redis & Partial<ProjectionCommands>
  if (!r.hsetIfAbsent) {
    redis.defineCommand('hsetIfAbsent', { numberOfKeys: 1, lua: hsetIfAbsentScript })
    redis.defineCommand('hsetNewest', { numberOfKeys: 1, lua: hsetNewestScript })
    redis.defineCommand('hsetEachIfAbsent', { lua: hsetEachIfAbsentScript })
    redis.defineCommand('enqueueEachIfPending', { lua: enqueueEachIfPendingScript })
    redis.defineCommand('claim', { numberOfKeys: 1, lua: claimScript })
    redis.defineCommand('slidingWindow', { numberOfKeys: 1, lua: slidingWindowScript })
  }
  return redis as Redis & ProjectionCommands
}
