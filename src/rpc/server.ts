// The NATS face of the dispatcher: one Services API endpoint per method on `<prefix>.<method>`, plus
// the generic `<prefix>` endpoint that dispatches on `method` and takes batches. All endpoints share
// one queue group, so any number of instances split the load. The services framework does not await
// handlers, so every handler here is awaited and caught by us.
import { Svcm } from '@nats-io/services'
import type { Service, ServiceMsg } from '@nats-io/services'
import type { Msg, NatsConnection } from '@nats-io/nats-core'
import type { Logger } from '../log.js'
import { headerFailure } from './dispatcher.js'
import type { Dispatcher, RequestContext } from './dispatcher.js'
import { atEndOfTurn } from '../store/turn-batch.js'
import { parseRequestInfo } from './caller.js'
import { ErrorCode, ShuttingDownError, toJsonRpcError } from '../errors.js'
import { requestIdOf } from './json-rpc.js'
import { createReplyGuard } from './reply-guard.js'
import type { ReplyGuard, ReplyPolicy } from './reply-guard.js'

export interface RpcServerOptions {
  serviceName: string
  version: string
  rpcPrefix: string
  instanceId: string
  methods: readonly string[]
  /** Where replies may go (see reply-guard). */
  replies: ReplyPolicy
  /**
   * `nats`: the caller is the user nats-server names in `Nats-Request-Info` (clients reach the
   * service through an account import with `share: true`); `headers`: no authentication, the
   * `Client-Id` and `Session-Id` headers are trusted as given.
   */
  identity: 'nats' | 'headers'
}

export interface RpcServer {
  service: Service
  replyGuard: ReplyGuard
  /**
   * Stops taking requests at once, lets the ones in flight finish for up to `graceMs`, then
   * answers those still running with a retryable ShuttingDownError (their work is in the log and
   * finishes elsewhere; a keyed retry joins it). Resolves when every request has been answered.
   */
  stop(graceMs: number): Promise<void>
}

interface InFlight {
  msg: ServiceMsg
  /** Set once a reply is on its way, so a request is never answered twice. */
  answered: boolean
}

export async function startRpcServer(nc: NatsConnection, dispatcher: Dispatcher, opts: RpcServerOptions, log: Logger): Promise<RpcServer> {
  const contextOf = (msg: Msg): RequestContext => requestContext(msg, opts.identity)
  const replyGuard = createReplyGuard(opts.replies, log, (msg) => {
    try {
      const ctx = contextOf(msg)
      return ctx.user ? `u:${ctx.user.user}` : ctx.clientId ? `c:${ctx.clientId.slice(0, 100)}` : 'anonymous'
    } catch {
      return 'anonymous' // a header block nats.js cannot read
    }
  })
  // Every subscription of the service, its $SRV monitoring endpoints included, goes through the guard.
  const service = await new Svcm(replyGuard.wrap(nc)).add({
    name: opts.serviceName,
    version: opts.version,
    description: 'Decomposes a task into a DAG of specialist subtasks (JSON-RPC 2.0 over NATS)',
    metadata: { instance: opts.instanceId },
    queue: opts.serviceName,
  })
  const inFlight = new Map<Promise<void>, InFlight>()
  const serve = (boundMethod: string | undefined) => (err: Error | null, msg: ServiceMsg) => {
    if (err) {
      log.error('rpc endpoint failed', { err })
      return
    }
    const request: InFlight = { msg, answered: false }
    const p = answer(request, boundMethod).finally(() => inFlight.delete(p))
    inFlight.set(p, request)
  }

  async function answer(request: InFlight, boundMethod: string | undefined): Promise<void> {
    const { msg } = request
    try {
      const body = msg.string()
      let ctx: RequestContext | undefined
      try {
        ctx = contextOf(msg) // nats.js throws on a header block it cannot read
      } catch (err) {
        log.debug('malformed header block', { err: err as Error })
      }
      const out = ctx ? await dispatcher.dispatch(body, ctx, boundMethod) : headerFailure(body)
      if (out.body === undefined || !msg.reply || request.answered) return
      request.answered = true
      const reply = out.body
      // Replies finished in the same turn leave in one write (see turn-batch).
      if (out.errorCode !== undefined) {
        const code = out.errorCode
        const message = headerSafe(out.errorMessage ?? 'error')
        atEndOfTurn(() => msg.respondError(code, message, reply))
      } else atEndOfTurn(() => msg.respond(reply))
    } catch (err) {
      // dispatch never throws by design; this is the last line of defence for the process.
      log.error('rpc answer failed', { err: err as Error })
      if (msg.reply && !request.answered) msg.respondError(-32603, 'Internal error', JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null }))
    }
  }

  service.addEndpoint('rpc', { subject: opts.rpcPrefix, handler: serve(undefined), metadata: { description: 'generic JSON-RPC endpoint (batches allowed)' } })
  for (const method of opts.methods) {
    service.addEndpoint(method.replace(/\./g, '_'), { subject: `${opts.rpcPrefix}.${method}`, handler: serve(method), metadata: { method } })
  }
  async function stop(graceMs: number): Promise<void> {
    // Draining the endpoints ends intake; requests already delivered to us still run.
    await service.stop()
    let timer: NodeJS.Timeout | undefined
    const graceOver = new Promise<void>((r) => (timer = setTimeout(r, graceMs)))
    await Promise.race([Promise.allSettled([...inFlight.keys()]), graceOver])
    clearTimeout(timer)
    const late = [...inFlight.values()].filter((r) => !r.answered)
    if (late.length > 0) log.warn('shutdown grace over; answering requests still in flight with a retryable error', { requests: late.length, graceMs })
    for (const request of late) {
      request.answered = true
      const body = shutdownReply(request.msg.string(), graceMs)
      if (body && request.msg.reply) request.msg.respondError(ErrorCode.Storage, 'Service shutting down', body)
    }
    await nc.flush().catch(() => undefined)
  }
  return { service, replyGuard, stop }
}

/** The JSON-RPC answer for a request cut off by shutdown: one error per request that has an id. */
function shutdownReply(body: string, graceMs: number): string | undefined {
  const error = toJsonRpcError(
    new ShuttingDownError('Service shutting down: retry (work already accepted continues on another instance)', { reason: 'shutting_down', graceMs }),
  )
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return undefined // a parse error was answered at once; never in flight
  }
  const answers = (Array.isArray(parsed) ? parsed : [parsed])
    .filter((item) => typeof item === 'object' && item !== null && 'id' in item)
    .map((item) => ({ jsonrpc: '2.0', error, id: requestIdOf(item) }))
  if (answers.length === 0) return undefined
  return JSON.stringify(Array.isArray(parsed) ? answers : answers[0])
}

function requestContext(msg: Msg | ServiceMsg, identity: 'nats' | 'headers'): RequestContext {
  const h = msg.headers
  const get = (name: string) => {
    const v = h?.get(name)
    return v ? v : undefined
  }
  const ctx: RequestContext = { sessionId: get('Session-Id'), clientId: get('Client-Id'), idempotencyKey: get('Idempotency-Key') }
  // Only nats-server can have set this header in `nats` mode; without the mode it is client text.
  const user = identity === 'nats' ? parseRequestInfo(get('Nats-Request-Info')) : undefined
  return user ? { ...ctx, user } : ctx
}

function headerSafe(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, 512)
}
