// The NATS face of the dispatcher: one Services API endpoint per method on `<prefix>.<method>`, plus
// the generic `<prefix>` endpoint that dispatches on `method` and takes batches. All endpoints share
// one queue group, so any number of instances split the load. The services framework does not await
// handlers, so every handler here is awaited and caught by us.
import { Svcm } from '@nats-io/services'
import type { Service, ServiceMsg } from '@nats-io/services'
import type { Msg, NatsConnection } from '@nats-io/nats-core'
import type { Logger } from '../log.js'
import type { Dispatcher, RequestContext } from './dispatcher.js'
import { atEndOfTurn } from '../store/turn-batch.js'
import { parseRequestInfo } from './caller.js'
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
}

export async function startRpcServer(nc: NatsConnection, dispatcher: Dispatcher, opts: RpcServerOptions, log: Logger): Promise<RpcServer> {
  const contextOf = (msg: Msg): RequestContext => requestContext(msg, opts.identity)
  const replyGuard = createReplyGuard(opts.replies, log, (msg) => {
    const ctx = contextOf(msg)
    return ctx.user ? `u:${ctx.user.user}` : ctx.clientId ? `c:${ctx.clientId.slice(0, 100)}` : 'anonymous'
  })
  // Every subscription of the service, its $SRV monitoring endpoints included, goes through the guard.
  const service = await new Svcm(replyGuard.wrap(nc)).add({
    name: opts.serviceName,
    version: opts.version,
    description: 'Decomposes a task into a DAG of specialist subtasks (JSON-RPC 2.0 over NATS)',
    metadata: { instance: opts.instanceId },
    queue: opts.serviceName,
  })
  const inFlight = new Set<Promise<void>>()
  const serve = (boundMethod: string | undefined) => (err: Error | null, msg: ServiceMsg) => {
    if (err) {
      log.error('rpc endpoint failed', { err })
      return
    }
    const p = answer(msg, boundMethod).finally(() => inFlight.delete(p))
    inFlight.add(p)
  }

  async function answer(msg: ServiceMsg, boundMethod: string | undefined): Promise<void> {
    try {
      const out = await dispatcher.dispatch(msg.string(), contextOf(msg), boundMethod)
      if (out.body === undefined || !msg.reply) return
      const body = out.body
      // Replies finished in the same turn leave in one write (see turn-batch).
      if (out.errorCode !== undefined) {
        const code = out.errorCode
        const message = headerSafe(out.errorMessage ?? 'error')
        atEndOfTurn(() => msg.respondError(code, message, body))
      } else atEndOfTurn(() => msg.respond(body))
    } catch (err) {
      // dispatch never throws by design; this is the last line of defence for the process.
      log.error('rpc answer failed', { err: err as Error })
      if (msg.reply) msg.respondError(-32603, 'Internal error', JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null }))
    }
  }

  service.addEndpoint('rpc', { subject: opts.rpcPrefix, handler: serve(undefined), metadata: { description: 'generic JSON-RPC endpoint (batches allowed)' } })
  for (const method of opts.methods) {
    service.addEndpoint(method.replace(/\./g, '_'), { subject: `${opts.rpcPrefix}.${method}`, handler: serve(method), metadata: { method } })
  }
  const stop = service.stop.bind(service)
  service.stop = async (e?: Error) => {
    const r = await stop(e)
    await Promise.allSettled([...inFlight])
    return r
  }
  return { service, replyGuard }
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
