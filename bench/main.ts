// npm run bench: the service's cost against the raw primitives it stands on, in one run. The
// service runs in a child process (bench/service-process.ts), this process generates the load.
// Runs on the local services in a private namespace (stream, key prefix, schema) that it removes
// afterwards. Options: --events N (history for the stream-length and replay figures, default
// 100000), --duration MS (per closed-loop figure, default 3000).
import { spawn, spawnSync } from 'node:child_process'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { mkdirSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import { connect } from '@nats-io/transport-node'
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { sql } from 'kysely'
import { configEnv, eventSubjectPrefix, loadConfig } from '../src/config.js'
import { silentLogger } from '../src/log.js'
import { openConnections } from '../src/app.js'
import { call } from '../src/client/rpc-client.js'
import { decodeEvent, EventStore } from '../src/store/event-store.js'
import { createDb } from '../src/store/postgres.js'
import { progressBar } from '../src/cli/progress.js'
import { measurePrimitives } from './primitives.js'
import { fillLog } from './synthetic-log.js'
import { closedLoop, nowMs, openLoop, summarize } from './stats.js'
import type { Summary } from './stats.js'
import type { ReplaySummary } from '../src/replay/replay.js'

const { values } = parseArgs({ options: { events: { type: 'string' }, duration: { type: 'string' } } })
const historyEvents = Number(values.events ?? 100_000)
const durationMs = Number(values.duration ?? 3000)
const say = (s: string) => process.stderr.write(`${s}\n`)

const tag = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`
const config = loadConfig(process.env, {
  streamName: `BENCH_${tag.toUpperCase()}`,
  rpcPrefix: `bench_${tag}.rpc`,
  publishPrefix: `bench_${tag}`,
  redisPrefix: `bench_${tag}:`,
  pgSchema: `bench_${tag}`,
  instanceId: `bench-${tag}`,
  rateLimitPerMinute: 0,
  maxSubtasks: 64, // the scaling figure goes up to 64 subtasks
  replyTimeoutMs: 30_000,
  logLevel: 'silent',
})
// The service runs in a process of its own, as in production; this process is the load generator
// and the observer (its own connections to NATS, Redis and Postgres).
const childEnv = { ...process.env, ...configEnv(config), LOG_LEVEL: 'warn' }
say(`bench ${tag}: starting the service in its own process (instant sampler)`)
const serviceProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./service-process.ts', import.meta.url))], { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] })
await new Promise<void>((resolve, reject) => {
  serviceProcess.stdout.on('data', (d: Buffer) => (d.toString().includes('ready') ? resolve() : undefined))
  serviceProcess.once('exit', (code) => reject(new Error(`the service process exited (${code}) before it was ready`)))
})
let serviceClosed = false
const stopService = async () => {
  if (serviceClosed) return
  serviceClosed = true
  const exited = new Promise((r) => serviceProcess.once('exit', r))
  serviceProcess.kill('SIGTERM')
  await exited
}
const conn = await openConnections(config, silentLogger)
const client = await connect({ servers: config.natsUrl, name: 'bench-client', noAsyncTraces: true })
const control = async (body: { size?: number }) =>
  (await client.request(`${config.rpcPrefix}.bench.control`, JSON.stringify(body), { timeout: 5000 })).json<{ size: number; rssMb: number }>()
// The primitives' request/reply responder: a connection of its own, as a server's would be.
const responder = await connect({ servers: config.natsUrl, name: 'bench-responder', noAsyncTraces: true })
const jsm = await jetstreamManager(client)
const primStream = `BENCHP_${tag.toUpperCase()}`
await jsm.streams.add({ name: primStream, subjects: [`benchp.${tag}.>`], storage: 'file' as never })

const results: Record<string, unknown> = { date: new Date().toISOString(), machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version }, durationMs, historyEvents }
try {
  // 1. Raw primitives --------------------------------------------------------------------------
  say('primitives: NATS, JetStream, Redis, Postgres (sequential and at 64 concurrent)')
  const primitives = await measurePrimitives(
    { client, server: responder, js: jetstream(client), jsSubject: `benchp.${tag}.x`, redis: conn.redis, redisPrefix: config.redisPrefix, db: conn.db },
    { durationMs: Math.min(durationMs, 2000), concurrency: 64 },
  )
  const floorLatency = primitives.reduce((a, p) => a + p.latency.p50, 0)
  const floorPerSecond = 1 / primitives.reduce((a, p) => a + 1 / p.perSecond, 0)
  results.primitives = primitives
  results.floor = { latencyP50Ms: floorLatency, perSecond: floorPerSecond }

  // 2. task.decompose end to end -----------------------------------------------------------------
  for (let i = 0; i < 64; i++) await call(client, config.rpcPrefix, 'task.create', { taskId: `t-b${i}`, title: `bench ${i}` })
  let counter = 0
  const decompose = async (i: number) => {
    const r = await call(client, config.rpcPrefix, 'task.decompose', { taskId: `t-b${i % 64}`, task: `Build bench feature ${counter++}` }, { timeoutMs: 30_000 })
    if (r.error) throw new Error(`${r.error.code} ${r.error.message}`)
  }
  // Warm-up (JIT, pools, consumers), long enough that the first figure is not taken on a cold
  // service: with 100 calls, the 1-client p50 came out 15-25 % above the same figure measured
  // later in the same run.
  say('task.decompose: warm-up, 16 clients then 1')
  await closedLoop(16, Math.max(3000, durationMs), decompose)
  await closedLoop(1, 1000, decompose)
  const e2e: Record<string, { perSecond: number; latency: Summary }> = {}
  for (const c of [1, 16, 64]) {
    say(`task.decompose: closed loop, ${c} concurrent clients, ${durationMs} ms`)
    e2e[`c${c}`] = await closedLoop(c, durationMs, decompose)
  }
  results.e2e = e2e

  say('task.decompose: open loop at 200/s with projection lag probes')
  const lag = { redis: [] as number[], postgres: [] as number[] }
  const watcher = await jetstream(client).consumers.get(config.streamName, { filter_subjects: conn.store.filter('decomposition', 'outcome'), deliver_policy: DeliverPolicy.New })
  const watch = await watcher.consume({ max_messages: 512 })
  const probes: Promise<void>[] = []
  void (async () => {
    for await (const m of watch) {
      const e = decodeEvent(m.data)
      if (e.type !== 'DecompositionSampled') continue
      const appendedAt = m.info.timestampNanos / 1e6
      const first = e.decomposition.subtasks[0]!.id
      probes.push(
        (async () => {
          let redisSeen = 0
          let pgSeen = 0
          while ((!redisSeen || !pgSeen) && Date.now() - appendedAt < 5000) {
            if (!redisSeen && (await conn.redis.exists(conn.keys.subtask(first)))) redisSeen = Date.now()
            if (!pgSeen && (await conn.db.selectFrom('task_attachments').select('id').where('task_id', '=', e.taskId).where('key', '=', e.attachmentKey).executeTakeFirst())) pgSeen = Date.now()
            if (!redisSeen || !pgSeen) await new Promise((r) => setTimeout(r, 1))
          }
          if (redisSeen) lag.redis.push(redisSeen - appendedAt)
          if (pgSeen) lag.postgres.push(pgSeen - appendedAt)
        })(),
      )
    }
  })()
  const fixed = await openLoop(200, 5000, decompose)
  await Promise.all(probes)
  watch.stop()
  results.fixedRate = { rate: 200, ...fixed }
  results.projectionLag = { redis: summarize(lag.redis), postgres: summarize(lag.postgres) }

  // 3. Scaling with subtasks --------------------------------------------------------------------
  const scaling: Record<string, { perSecond: number; latency: Summary }> = {}
  for (const size of [4, 16, 64]) {
    await control({ size })
    say(`scaling: ${size} subtasks per decomposition, 16 clients`)
    scaling[`subtasks${size}`] = await closedLoop(16, durationMs, decompose)
  }
  await control({ size: 4 })
  results.scaling = scaling

  // 4. A stream holding history -----------------------------------------------------------------
  // The baseline for the comparison is taken right before the history is appended, so warm-up and
  // the earlier phases' data weigh the same on both sides.
  say('history: baseline (16 clients, then 1, median of 3 rounds) before the history is appended')
  const baseC16 = await medianOf3(() => closedLoop(16, durationMs, decompose))
  const baseC1 = await medianOf3(() => closedLoop(1, durationMs, decompose))
  say(`history: appending ${historyEvents} events of finished decompositions`)
  const before = (await jsm.streams.info(config.streamName)).state.messages
  const fillBar = progressBar(historyEvents, 'fill')
  const fillStart = nowMs()
  const filled = await fillLog(conn.store, historyEvents, (n) => fillBar.update(n))
  fillBar.done()
  const fillMs = nowMs() - fillStart
  say('history: waiting for every consumer to catch up')
  const catchStart = nowMs()
  for (let lastSay = nowMs(); ; ) {
    // The service's durable consumers (ephemeral ones belong to watchers, some already stopped).
    const infos = (await jsm.consumers.list(config.streamName).next()).filter((ci) => ci.config.durable_name)
    if (infos.every((ci) => ci.num_pending === 0 && ci.num_ack_pending === 0)) break
    if (nowMs() - lastSay > 5000) {
      lastSay = nowMs()
      say(`  behind: ${infos.filter((ci) => ci.num_pending + ci.num_ack_pending > 0).map((ci) => `${ci.name} ${ci.num_pending}+${ci.num_ack_pending}`).join(', ')}`)
    }
    if (nowMs() - catchStart > 600_000) throw new Error('consumers did not catch up within 10 minutes')
    await new Promise((r) => setTimeout(r, 100))
  }
  const catchUpMs = nowMs() - catchStart
  const streamLength = (await jsm.streams.info(config.streamName)).state.messages
  say(`history: measuring again on a ${streamLength}-event stream`)
  const afterC16 = await medianOf3(() => closedLoop(16, durationMs, decompose))
  const afterC1 = await medianOf3(() => closedLoop(1, durationMs, decompose))
  results.history = {
    eventsBefore: before,
    appended: filled,
    appendPerSecond: (filled / fillMs) * 1000,
    catchUpMs,
    catchUpEventsPerSecond: (filled / catchUpMs) * 1000,
    streamLength,
    baseline: { c16: baseC16, c1: baseC1 },
    c16: afterC16,
    c1: afterC1,
  }
  results.rssMb = (await control({})).rssMb
  results.benchRssMb = process.memoryUsage().rss / 2 ** 20

  // 5. Replay -----------------------------------------------------------------------------------
  // As an operator runs it: its own process, with the service stopped (on two cores they would
  // compete for the CPU). Two figures: the target's, a stream of exactly `historyEvents` events of
  // finished 4-subtask decompositions (filled here, in a stream of its own); and the whole bench
  // stream, whose 16- and 64-subtask decompositions cost more per event.
  await stopService()
  const replayStream = `${config.streamName}_R`
  say(`replay: filling a ${historyEvents}-event stream of its own`)
  const replayStore = await EventStore.open(conn.nc, { streamName: replayStream, subjectPrefix: eventSubjectPrefix({ streamName: replayStream }) })
  const replayFillBar = progressBar(historyEvents, 'fill')
  await fillLog(replayStore, historyEvents, (n) => replayFillBar.update(n))
  replayFillBar.done()
  say('replay: rebuilding all read models into a scratch namespace, in a child process')
  results.replay = replayRun(replayStream)
  say('replay: the whole bench stream')
  results.replayBenchStream = replayRun(config.streamName)

  report(results)
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
  writeFileSync(new URL('./results/latest.json', import.meta.url), JSON.stringify(results, null, 2))
  say('figures written to bench/results/latest.json')
} finally {
  await client.close()
  await responder.close()
  await stopService()
  conn.redis.disconnect()
  await conn.db.destroy()
  await conn.nc.close()
  await cleanupNamespace()
}

/** Runs bench/replay-run.ts on `streamName` in a process of its own; returns its summary. */
function replayRun(streamName: string): ReplaySummary {
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./replay-run.ts', import.meta.url))], {
    env: { ...childEnv, ...configEnv({ ...config, streamName }) },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  })
  if (child.status !== 0) throw new Error(`replay child failed (${child.status})`)
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as ReplaySummary
}

/** On a noisy 2-core machine one round can be off by 20 %; the median of three is steadier. */
async function medianOf3(run: () => Promise<{ perSecond: number; latency: Summary }>) {
  const rounds = [await run(), await run(), await run()].sort((a, b) => a.perSecond - b.perSecond)
  return rounds[1]!
}

async function cleanupNamespace() {
  const nc = await connect({ servers: config.natsUrl })
  const m = await jetstreamManager(nc)
  await m.streams.delete(config.streamName).catch(() => undefined)
  await m.streams.delete(primStream).catch(() => undefined)
  await m.streams.delete(`${config.streamName}_R`).catch(() => undefined)
  await nc.close()
  const { Redis } = await import('ioredis')
  const redis = new Redis(config.redisUrl)
  let cursor = '0'
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${config.redisPrefix}*`, 'COUNT', 1000)
    cursor = next
    if (found.length > 0) await redis.unlink(...found)
  } while (cursor !== '0')
  redis.disconnect()
  const db = createDb(config.databaseUrl, 'public', 1)
  await sql`DROP SCHEMA IF EXISTS ${sql.id(config.pgSchema)} CASCADE`.execute(db)
  await db.destroy()
}

function report(r: Record<string, any>) {
  const ms = (v: number) => `${v.toFixed(2)} ms`
  const ps = (v: number) => `${Math.round(v).toLocaleString('en-US')}/s`
  const rows: [string, string, string, string, string][] = []
  const row = (figure: string, value: string, floor = '', ratio = '', target = '') => rows.push([figure, value, floor, ratio, target])
  for (const p of r.primitives) row(`${p.name}: p50 / at 64`, `${ms(p.latency.p50)} / ${ps(p.perSecond)}`)
  row('floor: sum of the primitives', `${ms(r.floor.latencyP50Ms)} / ${ps(r.floor.perSecond)}`)
  const c1 = r.e2e.c1
  row('decompose, 1 client: p50 (p99)', `${ms(c1.latency.p50)} (${ms(c1.latency.p99)})`, ms(r.floor.latencyP50Ms), `${(c1.latency.p50 / r.floor.latencyP50Ms).toFixed(1)}x`, '<= 3x floor')
  for (const c of ['c1', 'c16', 'c64']) {
    const e = r.e2e[c]
    row(`decompose, ${c.slice(1)} clients: throughput`, ps(e.perSecond), ps(r.floor.perSecond), `${(r.floor.perSecond / e.perSecond).toFixed(1)}x`, c === 'c64' ? '>= 1,000/s' : '')
  }
  row(`decompose at ${r.fixedRate.rate}/s: p50 / p99`, `${ms(r.fixedRate.latency.p50)} / ${ms(r.fixedRate.latency.p99)}`, '', '', 'p99 <= 15 ms')
  row('projection lag, Redis: p50 / p99', `${ms(r.projectionLag.redis.p50)} / ${ms(r.projectionLag.redis.p99)}`, '', '', 'p99 <= 25 ms')
  row('projection lag, Postgres: p50 / p99', `${ms(r.projectionLag.postgres.p50)} / ${ms(r.projectionLag.postgres.p99)}`, '', '', 'p99 <= 25 ms')
  for (const [k, v] of Object.entries(r.scaling) as [string, any][]) row(`${k.replace('subtasks', '')} subtasks, 16 clients`, `${ps(v.perSecond)}, p50 ${ms(v.latency.p50)}`)
  const h = r.history
  row(`16 clients: throughput, ${h.eventsBefore.toLocaleString('en-US')} → ${h.streamLength.toLocaleString('en-US')} events`, `${ps(h.baseline.c16.perSecond)} → ${ps(h.c16.perSecond)}`, '', `${(h.c16.perSecond / h.baseline.c16.perSecond).toFixed(2)}x`, '1.0x ±10 %')
  row(`1 client: p50, ${h.eventsBefore.toLocaleString('en-US')} → ${h.streamLength.toLocaleString('en-US')} events`, `${ms(h.baseline.c1.latency.p50)} → ${ms(h.c1.latency.p50)}`, '', `${(h.c1.latency.p50 / h.baseline.c1.latency.p50).toFixed(2)}x`, '1.0x ±10 %')
  row('history: append / live catch-up', `${ps(h.appendPerSecond)} / ${ps(h.catchUpEventsPerSecond)}`)
  row(`replay of a ${r.replay.events.toLocaleString('en-US')}-event stream (own process)`, `${ps(r.replay.eventsPerSecond)} (${ps(r.replay.subtasksPerSecond)} subtasks)`, '', '', '>= 20,000/s')
  const all = r.replayBenchStream
  row(`replay of the bench stream, ${all.events.toLocaleString('en-US')} events`, `${ps(all.eventsPerSecond)} (${ps(all.subtasksPerSecond)} subtasks)`)
  row('service RSS after the load phases (own process)', `${r.rssMb.toFixed(0)} MB`)
  const head: [string, string, string, string, string] = ['figure', 'value', 'floor', 'ratio', 'target']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]!.length)))
  const line = (cols: string[]) => `| ${cols.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  console.log(line(head))
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
  for (const x of rows) console.log(line(x))
}
