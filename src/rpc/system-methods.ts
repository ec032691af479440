// Specialist registry: system.register and system.heartbeat keep `cb:instance:{id}` (roles as a
// JSON array) alive for 30 s past the last heartbeat. A sorted set of instances scored by expiry
// makes "who is healthy now" one range read instead of a SCAN over the keyspace.
// An instance id belongs to the caller that registered it (the authenticated user, or without
// authentication the Client-Id it sent): nobody else may re-register it (and so rewrite the roles
// and capability text that LLM prompts are given) or keep it alive, until it expires.
// Registration is open to every caller, so each owner may hold at most
// `limits.registrationsPerOwner` live instances: counted in the same script that registers, in a
// per-owner set scored by expiry, so concurrent registrations cannot overshoot.
import Type from 'typebox'
import { ConflictError, InvalidParamsError, NotFoundError } from '../errors.js'
import { safeIdPattern } from '../domain/ids.js'
import { redisCall } from '../store/redis.js'
import { forgetRegistry, ownerInstancesKey } from '../store/specialist-registry.js'
import type { MethodDeps } from './method-deps.js'
import { Metadata, parseParams } from './params.js'
import type { RequestContext } from './dispatcher.js'
import { callerOf } from './caller.js'
import { limits } from './limits.js'

// KEYS: instance hash, instances zset, the owner's instances zset.
// ARGV: owner, roles, metadata, now, ttlMs, expiresAt, id, max per owner.
// Returns 0 when another owner holds the id, -2 when the owner is at its limit, 1 when registered.
const registerScript = `
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner and owner ~= ARGV[1] then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[4])
if not redis.call('ZSCORE', KEYS[3], ARGV[7]) and redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[8]) then return -2 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'id', ARGV[7], 'owner', ARGV[1], 'roles', ARGV[2], 'metadata', ARGV[3], 'registeredAt', ARGV[4], 'lastHeartbeat', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[7])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[7])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
return 1`
// KEYS as above. ARGV: owner, now, ttlMs, expiresAt, id. Returns -1 expired, 0 another owner's, 1 alive.
// The owner's set outlives each member's expiry: every write renews it for one TTL.
const heartbeatScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner and owner ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lastHeartbeat', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return 1`

const RegisterParams = Type.Object(
  {
    id: Type.String({ pattern: safeIdPattern }),
    roles: Type.Array(Type.String({ pattern: '^[a-z][a-z0-9_-]{0,39}$' }), { minItems: 1, maxItems: limits.rolesPerRegistration }),
    metadata: Type.Optional(Metadata(limits.registrationMetadataBytes)),
  },
  { additionalProperties: false },
)
const HeartbeatParams = Type.Object({ id: Type.String({ pattern: safeIdPattern }) }, { additionalProperties: false })

export function systemMethods(deps: MethodDeps & { instanceTtlMs: number }) {
  const { redis, keys } = deps
  const ownerOf = (ctx: RequestContext) => callerOf({ user: ctx.user, clientId: ctx.clientId, explicitSessionId: ctx.sessionId }).owner
  const taken = (id: string) => new ConflictError(`Instance ${id} is registered by another caller`, { field: 'id', instanceId: id })
  async function register(raw: unknown, ctx: RequestContext) {
    const p = parseParams(RegisterParams, raw)
    const now = deps.now()
    const expiresAt = now + deps.instanceTtlMs
    const owner = ownerOf(ctx)
    const ok = await redisCall(() =>
      redis.eval(
        registerScript,
        3,
        keys.instance(p.id),
        keys.instances,
        ownerInstancesKey(keys, owner),
        owner,
        JSON.stringify([...new Set(p.roles)]),
        JSON.stringify(p.metadata ?? {}),
        String(now),
        String(deps.instanceTtlMs),
        String(expiresAt),
        p.id,
        String(limits.registrationsPerOwner),
      ),
    )
    if (ok === -2) {
      throw new InvalidParamsError(
        `Invalid params: this caller already has ${limits.registrationsPerOwner} live registrations; reuse an id or let one expire`,
        { field: 'id', reason: 'too_many_registrations', limit: limits.registrationsPerOwner },
      )
    }
    if (ok !== 1) throw taken(p.id)
    forgetRegistry(redis)
    return { id: p.id, roles: [...new Set(p.roles)], expiresAt: new Date(expiresAt).toISOString() }
  }
  async function heartbeat(raw: unknown, ctx: RequestContext) {
    const p = parseParams(HeartbeatParams, raw)
    const now = deps.now()
    const expiresAt = now + deps.instanceTtlMs
    const owner = ownerOf(ctx)
    const alive = await redisCall(() =>
      redis.eval(
        heartbeatScript,
        3,
        keys.instance(p.id),
        keys.instances,
        ownerInstancesKey(keys, owner),
        owner,
        String(now),
        String(deps.instanceTtlMs),
        String(expiresAt),
        p.id,
      ),
    )
    if (alive === -1) throw new NotFoundError(`Instance ${p.id} is not registered (or expired); call system.register`, { field: 'id' })
    if (alive !== 1) throw taken(p.id)
    return { id: p.id, expiresAt: new Date(expiresAt).toISOString() }
  }
  return { 'system.register': register, 'system.heartbeat': heartbeat }
}
