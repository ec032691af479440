// Specialist registry: system.register and system.heartbeat keep `cb:instance:{id}` (roles as a
// JSON array) alive for 30 s past the last heartbeat. A sorted set of instances scored by expiry
// makes "who is healthy now" one range read instead of a SCAN over the keyspace.
import Type from 'typebox'
import { NotFoundError } from '../errors.js'
import { safeIdPattern } from '../domain/ids.js'
import { redisCall } from '../store/redis.js'
import { forgetRegistry } from '../store/specialist-registry.js'
import type { MethodDeps } from './method-deps.js'
import { parseParams } from './params.js'

const RegisterParams = Type.Object(
  {
    id: Type.String({ pattern: safeIdPattern }),
    roles: Type.Array(Type.String({ pattern: '^[a-z][a-z0-9_-]{0,39}$' }), { minItems: 1, maxItems: 20 }),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
)
const HeartbeatParams = Type.Object({ id: Type.String({ pattern: safeIdPattern }) }, { additionalProperties: false })

export function systemMethods(deps: MethodDeps & { instanceTtlMs: number }) {
  const { redis, keys } = deps
  async function register(raw: unknown) {
    const p = parseParams(RegisterParams, raw)
    const now = deps.now()
    const expiresAt = now + deps.instanceTtlMs
    await redisCall(() =>
      redis
        .multi()
        .del(keys.instance(p.id))
        .hset(keys.instance(p.id), {
          id: p.id,
          roles: JSON.stringify([...new Set(p.roles)]),
          metadata: JSON.stringify(p.metadata ?? {}),
          registeredAt: String(now),
          lastHeartbeat: String(now),
        })
        .pexpire(keys.instance(p.id), deps.instanceTtlMs)
        .zadd(keys.instances, expiresAt, p.id)
        .exec(),
    )
    forgetRegistry(redis)
    return { id: p.id, roles: [...new Set(p.roles)], expiresAt: new Date(expiresAt).toISOString() }
  }
  async function heartbeat(raw: unknown) {
    const p = parseParams(HeartbeatParams, raw)
    const now = deps.now()
    const expiresAt = now + deps.instanceTtlMs
    const alive = await redisCall(() => redis.pexpire(keys.instance(p.id), deps.instanceTtlMs))
    if (alive !== 1) throw new NotFoundError(`Instance ${p.id} is not registered (or expired); call system.register`, { field: 'id' })
    await redisCall(() => redis.multi().hset(keys.instance(p.id), 'lastHeartbeat', String(now)).zadd(keys.instances, expiresAt, p.id).exec())
    return { id: p.id, expiresAt: new Date(expiresAt).toISOString() }
  }
  return { 'system.register': register, 'system.heartbeat': heartbeat }
}
