// The NATS face of the dispatcher: one Services API endpoint per method on `<prefix>.<method>`, plus
// the generic `<prefix>` endpoint that dispatches on `method` and takes batches. All endpoints share
// one queue group, so any number of instances split the load. The services framework does not await
// handlers, so every handler here is awaited and caught by us.
import { Svcm } from '@nats-io/services'
import type { Service, ServiceMsg } from '@nats-io/services'
import type { NatsConnection } from '@nats-io/nats-core'
import type { Logger } from '../log.js'
import type { Dispatcher, RequestContext } from './dispatcher.js'
import { atEndOfTurn } from '../store/turn-batch.js'

export interface RpcServerOptions {
  serviceName: string
  version: string
  rpcPrefix: string
  instanceId: string
  methods: readonly string[]
}

export async function startRpcServer(nc: NatsConnection, dispatcher: Dispatcher, opts: RpcServerOptions, log: Logger): Promise<Service> {
  const service = await new Svcm(nc).add({
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
  return service
}

function contextOf(msg: ServiceMsg): RequestContext {
  const h = msg.headers
  const get = (name: string) => {
    const v = h?.get(name)
    return v ? v : undefined
  }
  return { sessionId: get('Session-Id'), clientId: get('Client-Id'), idempotencyKey: get('Idempotency-Key') }
}

function headerSafe(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, 512)
}
