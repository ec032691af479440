// MCP bridges attach their session before they can sample: `mcp.attach {sessionId}` records the
// session under its caller (the authenticated user, see caller.ts) for INSTANCE_TTL_MS and answers
// the one subject the bridge must listen on. Two reasons:
//  - the sampling subject carries the caller's token, and the bridge learns it from the service
//    (for nkey or creds users the token is not the name the bridge was configured with);
//  - the `mcp` sampler asks only attached sessions. Across an account import nats-server does not
//    answer "no responders" for a subject nobody listens on, so without presence a decomposition
//    of a session with no bridge would wait for the whole sampling timeout.
import Type from 'typebox'
import { redisCall } from '../store/redis.js'
import { samplingSubject, sessionTokenPattern } from '../sampling/mcp-wire.js'
import type { MethodDeps } from './method-deps.js'
import type { RequestContext } from './dispatcher.js'
import { callerOf } from './caller.js'
import { parseParams } from './params.js'

const SessionParams = Type.Object(
  { sessionId: Type.String({ pattern: sessionTokenPattern.source, description: 'the bridge session: 1-128 of A-Z a-z 0-9 _ : -' }) },
  { additionalProperties: false },
)

export interface SessionMethodDeps extends MethodDeps {
  samplingSubjectPrefix: string
}

export function sessionMethods(deps: SessionMethodDeps) {
  const callerFor = (ctx: RequestContext) => callerOf({ user: ctx.user, clientId: ctx.clientId, explicitSessionId: ctx.sessionId })
  async function attach(raw: unknown, ctx: RequestContext) {
    const p = parseParams(SessionParams, raw)
    const caller = callerFor(ctx)
    const now = deps.now()
    const key = deps.keys.mcpSession(caller.samplingOwner, p.sessionId)
    await redisCall(() => deps.redis.set(key, JSON.stringify({ caller: caller.id, attachedAt: now }), 'PX', deps.config.instanceTtlMs))
    return {
      sessionId: p.sessionId,
      samplingSubject: samplingSubject(deps.samplingSubjectPrefix, caller.samplingOwner, p.sessionId),
      expiresAt: new Date(now + deps.config.instanceTtlMs).toISOString(),
      ttlMs: deps.config.instanceTtlMs,
    }
  }
  async function detach(raw: unknown, ctx: RequestContext) {
    const p = parseParams(SessionParams, raw)
    const removed = await redisCall(() => deps.redis.del(deps.keys.mcpSession(callerFor(ctx).samplingOwner, p.sessionId)))
    return { sessionId: p.sessionId, detached: removed === 1 }
  }
  return { 'mcp.attach': attach, 'mcp.detach': detach }
}
