// Reads of the specialist registry that `system.register`/`system.heartbeat` maintain: which
// specialist types are healthy now, and what the sampler should know about each of them.
// Anyone may register, so what is read is bounded whatever is registered: at most
// `registryBounds.instancesRead` instances (the most recently refreshed) and at most
// `registryBounds.specialistsPerDecomposition` specialist types, so a DecompositionRequested stays small.
import type { Redis } from 'ioredis'
import { activeSpecialists, fallbackSpecialist, normalizeSpecialist, specialistProfiles } from '../domain/specialists.js'
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

export const registryBounds = {
  /**
   * Distinct specialist types put on a DecompositionRequested (and so in every prompt), whatever is
   * registered: 64 roles of at most 40 characters are under 3 KB.
   */
  specialistsPerDecomposition: 64,
  /** Healthy instances read to build the specialist list (the most recently refreshed first). */
  instancesRead: 1000,
} as const

/** The instances one owner holds, scored by expiry: what `system.register` counts against its limit. */
export function ownerInstancesKey(keys: Pick<Keys, 'instances'>, owner: string): string {
  return `${keys.instances}:owner:${owner}`
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
    return redis.zrevrangebyscore(keys.instances, '+inf', `(${nowMs}`, 'LIMIT', 0, registryBounds.instancesRead)
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

/** The specialist types of healthy instances (at most `max`), or the default set when none is registered. */
export async function currentSpecialists(deps: RegistryDeps, nowMs: number, max: number = registryBounds.specialistsPerDecomposition): Promise<string[]> {
  const instances = await healthyInstances(deps, nowMs)
  return activeSpecialists(mostCommonRoles(instances, max - 1)) // one place is kept for `general`
}

/**
 * The `max` roles held by the most instances (ties by name), so the cut is deterministic and keeps
 * the specialists that can take the most work. `general` is left out: activeSpecialists adds it.
 */
export function mostCommonRoles(instances: readonly RegisteredInstance[], max: number): string[] {
  const counts = new Map<string, number>()
  for (const i of instances) {
    for (const role of new Set(i.roles.map(normalizeSpecialist))) {
      if (role !== '' && role !== fallbackSpecialist) counts.set(role, (counts.get(role) ?? 0) + 1)
    }
  }
  const ranked = [...counts].sort(([a, na], [b, nb]) => nb - na || (a < b ? -1 : a > b ? 1 : 0)).map(([role]) => role)
  const kept = ranked.slice(0, Math.max(0, max))
  // An instance registered only as `general` still counts as a registration (not the default set).
  return kept.length === 0 && instances.some((i) => i.roles.length > 0) ? [fallbackSpecialist] : kept
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
