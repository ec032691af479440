// A small JSON-RPC client over NATS request/reply, for the CLI, tests and benchmarks.
import { headers } from '@nats-io/nats-core'
import type { NatsConnection } from '@nats-io/nats-core'

export interface CallOptions {
  timeoutMs?: number
  sessionId?: string
  clientId?: string
  idempotencyKey?: string
}

export interface RpcReply {
  jsonrpc: '2.0'
  id: string | number | null
  result?: unknown
  error?: { code: number; message: string; data?: unknown }
}

let nextId = 1

export async function callRaw(nc: NatsConnection, subject: string, body: string, opts: CallOptions = {}): Promise<{ text: string; headers: Record<string, string> }> {
  const h = headers()
  if (opts.sessionId) h.set('Session-Id', opts.sessionId)
  if (opts.clientId) h.set('Client-Id', opts.clientId)
  if (opts.idempotencyKey) h.set('Idempotency-Key', opts.idempotencyKey)
  const m = await nc.request(subject, body, { timeout: opts.timeoutMs ?? 30_000, headers: h })
  const out: Record<string, string> = {}
  for (const k of m.headers?.keys() ?? []) out[k] = m.headers!.get(k)
  return { text: m.string(), headers: out }
}

export async function call(nc: NatsConnection, rpcPrefix: string, method: string, params: unknown, opts: CallOptions = {}): Promise<RpcReply> {
  const body = JSON.stringify({ jsonrpc: '2.0', method, params, id: nextId++ })
  const { text } = await callRaw(nc, `${rpcPrefix}.${method}`, body, opts)
  return JSON.parse(text) as RpcReply
}
