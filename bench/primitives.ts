// The raw primitives one decomposition stands on, measured in the same run as the service: a NATS
// request/reply round trip, a JetStream publish with ack, the Redis pipeline of one
// decomposition's writes, and one Postgres transaction inserting one attachment row.
import type { NatsConnection } from '@nats-io/nats-core'
import type { JetStreamClient } from '@nats-io/jetstream'
import type { Redis } from 'ioredis'
import type { Db } from '../src/store/postgres.js'
import { closedLoop } from './stats.js'
import type { Summary } from './stats.js'

export interface PrimitiveFigure {
  name: string
  /** Sequential: one at a time. */
  latency: Summary
  /** Closed loop at the given concurrency. */
  perSecond: number
}

export interface PrimitiveDeps {
  client: NatsConnection
  server: NatsConnection
  js: JetStreamClient
  /** A subject the bench stream captures. */
  jsSubject: string
  redis: Redis
  redisPrefix: string
  db: Db
}

export async function measurePrimitives(d: PrimitiveDeps, opts: { durationMs: number; concurrency: number }): Promise<PrimitiveFigure[]> {
  const echoSubject = `bench.echo.${Math.random().toString(36).slice(2)}`
  const sub = d.server.subscribe(echoSubject, { callback: (_e, m) => void m.respond(m.data) })
  await d.server.flush()
  const payload = JSON.stringify({ jsonrpc: '2.0', method: 'task.decompose', params: { taskId: 't-1', task: 'Add dark mode toggle to settings page' }, id: 1 })
  const event = JSON.stringify({ type: 'DecompositionSampled', v: 1, padding: 'x'.repeat(1500) }) // about one Sampled event

  const ops: { name: string; op: (i: number) => Promise<void> }[] = [
    { name: 'NATS request/reply', op: async () => void (await d.client.request(echoSubject, payload, { timeout: 5000 })) },
    { name: 'JetStream publish+ack', op: async () => void (await d.js.publish(d.jsSubject, event)) },
    {
      name: 'Redis pipeline (1 decomposition)',
      op: async (i) => {
        const p = d.redis.pipeline()
        const k = `${d.redisPrefix}bench:${i}`
        p.hset(`${k}:decomposition`, { taskId: 't', taskText: 'x', strategy: 'mixed', totalComplexity: 40, subtaskCount: 4, timestamp: i, sessionId: 's' })
        p.expireat(`${k}:decomposition`, Math.floor(Date.now() / 1000) + 600)
        for (let s = 0; s < 4; s++) {
          p.hset(`${k}:subtask:${s}`, { id: `st-${i}-${s}`, parentTaskId: 't', description: 'd', specialist: 'frontend', complexity: 10, estimatedMinutes: 30, dependencies: '[]', status: 'pending', createdAt: i })
          p.expire(`${k}:subtask:${s}`, 600)
        }
        p.zadd(`${d.redisPrefix}bench:queue`, i, `st-${i}-0`)
        p.zadd(`${d.redisPrefix}bench:queue`, i, `st-${i}-1`)
        await p.exec()
      },
    },
    {
      name: 'Postgres tx (1 attachment row)',
      op: async (i) => {
        await d.db.transaction().execute(async (trx) => {
          await trx
            .insertInto('task_attachments')
            .values({ task_id: `bench-${i % 1000}`, key: `k-${i}-${Math.random().toString(36).slice(2)}`, type: 'json', value: JSON.stringify({ padding: 'x'.repeat(1500) }), created_by: 'bench', created_at: new Date(), event_seq: i })
            .execute()
        })
      },
    },
  ]
  const out: PrimitiveFigure[] = []
  for (const { name, op } of ops) {
    for (let i = 0; i < 50; i++) await op(i) // warm-up
    const sequential = await closedLoop(1, opts.durationMs, op)
    const parallel = await closedLoop(opts.concurrency, opts.durationMs, op)
    out.push({ name, latency: sequential.latency, perSecond: parallel.perSecond })
  }
  sub.unsubscribe()
  return out
}
