// Reads of the specialist registry that `system.register`/`system.heartbeat` maintain: which
// specialist types are healthy now, and what the sampler should know about each of them.
import type { Redis } from 'ioredis'
import { activeSpecialists, specialistProfiles } from '../domain/specialists.js'
import type { RegisteredInstance, SpecialistProfile } from '../domain/specialists.js'
import type { Keys } from './keys.js'
import { redisCall } from './redis.js'

interface RegistryDeps {
  redis: Redis
  keys: Keys
}

/**
 * Registrations change rarely and every decomposition asks twice (admission and sampling), so each
 * process keeps what it read for a second: a new registration is seen within 1 s everywhere, and
 * at once by the instance that took it.
 */
const cacheMs = 1000
const cache = new WeakMap<Redis, Map<string, { at: number; instances: Promise<RegisteredInstance[]> }>>()

export function forgetRegistry(redis: Redis): void {
  cache.delete(redis)
}

function healthyInstances(deps: RegistryDeps, nowMs: number): Promise<RegisteredInstance[]> {
  let byPrefix = cache.get(deps.redis)
  if (!byPrefix) cache.set(deps.redis, (byPrefix = new Map()))
  const hit = byPrefix.get(deps.keys.prefix)
  if (hit && nowMs - hit.at < cacheMs && nowMs >= hit.at) return hit.instances
  const instances = readHealthyInstances(deps, nowMs)
  byPrefix.set(deps.keys.prefix, { at: nowMs, instances })
  instances.catch(() => byPrefix.delete(deps.keys.prefix)) // never cache a failure
  return instances
}

/** The healthy instances, read from the expiry-scored set (no SCAN) and their hashes. */
async function readHealthyInstances({ redis, keys }: RegistryDeps, nowMs: number): Promise<RegisteredInstance[]> {
  const ids = await redisCall(async () => {
    await redis.zremrangebyscore(keys.instances, '-inf', nowMs)
    return redis.zrange(keys.instances, '0', '-1')
  })
  if (ids.length === 0) return []
  const pipeline = redis.pipeline()
  for (const id of ids) pipeline.hmget(keys.instance(id), 'roles', 'metadata')
  const rows = (await redisCall(() => pipeline.exec())) ?? []
  return rows.flatMap(([err, value]) => {
    if (err || !Array.isArray(value)) return []
    const [roles, metadata] = value as (string | null)[]
    if (!roles) return [] // expired between the range read and the hash read
    const parsedRoles = parseJson(roles)
    const parsedMeta = parseJson(metadata ?? '{}')
    return [
      {
        roles: Array.isArray(parsedRoles) ? parsedRoles.filter((r): r is string => typeof r === 'string') : [],
        metadata: parsedMeta && typeof parsedMeta === 'object' && !Array.isArray(parsedMeta) ? (parsedMeta as Record<string, unknown>) : {},
      },
    ]
  })
}

/** The specialist types of healthy instances, or the default set when none is registered. */
export async function currentSpecialists(deps: RegistryDeps, nowMs: number): Promise<string[]> {
  const instances = await healthyInstances(deps, nowMs)
  return activeSpecialists(instances.flatMap((i) => i.roles))
}

/** Capabilities, healthy instances, queue length and spare capacity of each named specialist. */
export async function readSpecialistProfiles(deps: RegistryDeps, names: readonly string[], nowMs: number): Promise<SpecialistProfile[]> {
  const instances = await healthyInstances(deps, nowMs)
  const lengths = await redisCall(() => Promise.all(names.map((n) => deps.redis.zcard(deps.keys.queue(n)))))
  return specialistProfiles(names, instances, Object.fromEntries(names.map((n, i) => [n, lengths[i] ?? 0])))
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
