// End to end: the service runs as a separate process (`src/cli/main.ts start`), and the test talks to
// it only through NATS, then inspects Redis and Postgres as an operator would.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection, Subscription } from '@nats-io/nats-core'
import { Redis } from 'ioredis'
import pg from 'pg'
import { call } from '../../src/client/rpc-client.js'
import { cleanup, darkModeRequest, envFor, eventually, testConfig } from '../helpers/env.js'

const config = testConfig('e2e', { logLevel: 'info' })
let child: ChildProcess
let nc: NatsConnection
let logs = ''

test.before(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
    env: envFor(config, { INSTANCE_ID: 'worker-1', LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()))
  await eventually(async () => (logs.includes('decomposer started') ? true : undefined), 30_000, `service start; logs: ${logs}`)
  nc = await connect({ servers: config.natsUrl })
})

test.after(async () => {
  await nc?.close()
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  await cleanup(config)
})

function collect(sub: Subscription): unknown[] {
  const got: unknown[] = []
  void (async () => {
    for await (const m of sub) got.push(m.json())
  })()
  return got
}

test("the spec's dark-mode example, end to end through NATS", async () => {
  const decomposed = collect(nc.subscribe(`${config.publishPrefix}.task.decomposed`))
  const ready = collect(nc.subscribe(`${config.publishPrefix}.task.subtask.ready`))
  await nc.flush()

  const created = await call(nc, config.rpcPrefix, 'task.create', { taskId: darkModeRequest.taskId, title: 'Dark mode for settings' })
  assert.is(created.error, undefined, JSON.stringify(created.error))
  const before = Date.now()
  const reply = await call(nc, config.rpcPrefix, 'task.decompose', darkModeRequest, { timeoutMs: 20_000 })
  assert.is(reply.error, undefined, JSON.stringify(reply.error))
  type Sub = { id: string; specialist: string; dependencies: string[]; complexity: number; description: string; rationale: string; context: { patterns?: string[] } }
  const result = reply.result as {
    taskId: string
    subtaskCount: number
    attachmentKey: string
    decomposition: { subtasks: Sub[]; executionStrategy: string; totalComplexity: number; reasoning: string; architecturalConsiderations: string[] }
  }

  // the reply
  assert.is(result.taskId, 't-123456')
  assert.is(result.subtaskCount, 4)
  const d = result.decomposition
  assert.is(d.executionStrategy, 'mixed')
  assert.is(d.totalComplexity, d.subtasks.reduce((s, x) => s + x.complexity, 0))
  assert.ok(d.architecturalConsiderations.length > 0)
  const ts = Number(result.attachmentKey.replace('decomposition_', ''))
  assert.ok(ts >= before - 1000 && ts <= Date.now(), 'timestamp is the decomposition time')
  const [component, backend, styles, tests] = d.subtasks as [Sub, Sub, Sub, Sub]
  assert.equal([component.specialist, backend.specialist, styles.specialist, tests.specialist], ['frontend', 'backend', 'frontend', 'testing'])
  assert.equal(styles.dependencies, [component.id])
  assert.equal(new Set(tests.dependencies), new Set([component.id, backend.id, styles.id]))

  // Redis: cache hash with the spec's fields and an absolute 7-day expiry
  const redis = new Redis(config.redisUrl)
  const pgc = new pg.Client({ connectionString: config.databaseUrl })
  try {
    const cacheKey = `${config.redisPrefix}decomposition:t-123456`
    const cache = await eventually(async () => {
      const h = await redis.hgetall(cacheKey)
      return Object.keys(h).length > 0 ? h : undefined
    }, 5000, 'decomposition cache')
    assert.equal(cache, {
      taskId: 't-123456',
      taskText: darkModeRequest.task,
      strategy: 'mixed',
      totalComplexity: String(d.totalComplexity),
      subtaskCount: '4',
      timestamp: String(ts),
      sessionId: 'session-abc123',
    })
    assert.is(await redis.expiretime(cacheKey), Math.floor(ts / 1000) + 604800)
    const ttl = await redis.ttl(cacheKey)
    assert.ok(ttl > 604800 - 60 && ttl <= 604800, `ttl ${ttl}`)

    // subtask hashes
    for (const s of d.subtasks) {
      const h = await redis.hgetall(`${config.redisPrefix}subtask:${s.id}`)
      assert.is(h.parentTaskId, 't-123456')
      assert.is(h.status, 'pending')
      assert.equal(JSON.parse(h.dependencies!), s.dependencies)
      assert.is(h.complexity, String(s.complexity))
    }

    // queues: only dependency-free subtasks, score = timestamp + complexity
    const frontendQ = await eventually(async () => {
      const q = await redis.zrange(`${config.redisPrefix}queue:specialist:frontend`, '0', '-1', 'WITHSCORES')
      return q.length > 0 ? q : undefined
    }, 5000, 'frontend queue')
    assert.equal(frontendQ, [component.id, String(ts + component.complexity)])
    assert.equal(await redis.zrange(`${config.redisPrefix}queue:specialist:backend`, '0', '-1', 'WITHSCORES'), [backend.id, String(ts + backend.complexity)])
    assert.is(await redis.exists(`${config.redisPrefix}queue:specialist:testing`), 0)

    // Postgres attachment row
    await pgc.connect()
    const { rows } = await pgc.query(`SELECT key, type, value, created_by FROM ${config.pgSchema}.task_attachments WHERE task_id = $1`, ['t-123456'])
    assert.is(rows.length, 1)
    assert.is(rows[0].key, result.attachmentKey)
    assert.is(rows[0].type, 'json')
    assert.is(rows[0].created_by, 'worker-1')
    assert.is(rows[0].value.decomposedBy, 'worker-1')
    assert.is(rows[0].value.sessionId, 'session-abc123')
    assert.is(rows[0].value.strategy, 'mixed')
    assert.is(rows[0].value.subtasks.length, 4)
    assert.is(rows[0].value.decomposedAt, new Date(ts).toISOString())
  } finally {
    redis.disconnect()
    await pgc.end()
  }

  // published events: one task.decomposed, one task.subtask.ready per dependency-free subtask
  await eventually(async () => (decomposed.length >= 1 && ready.length >= 2 ? true : undefined), 5000, 'published events')
  assert.equal(decomposed[0], {
    id: (decomposed[0] as { id: string }).id,
    type: 'task.decomposed',
    payload: { taskId: 't-123456', subtaskCount: 4, strategy: 'mixed', totalComplexity: d.totalComplexity, attachmentKey: result.attachmentKey },
    metadata: { decomposedBy: 'worker-1', sessionId: 'session-abc123', timestamp: ts },
  })
  const readyIds = (ready as { payload: { subtaskId: string } }[]).map((e) => e.payload.subtaskId).sort()
  assert.equal(readyIds, [component.id, backend.id].sort())
  const componentReady = (ready as { payload: { subtaskId: string; requiredCapabilities: string[] }; metadata: unknown }[]).find((e) => e.payload.subtaskId === component.id)!
  assert.equal(componentReady.metadata, { priority: 75, sessionId: 'session-abc123' })
  assert.equal(componentReady.payload.requiredCapabilities, component.context.patterns)
})

test('bad input does not hurt the process: it answers and keeps serving', async () => {
  const bad = await nc.request(`${config.rpcPrefix}.task.decompose`, '{not json', { timeout: 5000 })
  assert.is(bad.json<{ error: { code: number } }>().error.code, -32700)
  const r = await call(nc, config.rpcPrefix, 'task.decompose', { taskId: 'a b', task: 'x' })
  assert.is(r.error?.code, -32602)
  const again = await call(nc, config.rpcPrefix, 'task.get_decomposition', { taskId: 't-123456' })
  assert.is(again.error, undefined)
  assert.is(child.exitCode, null)
  assert.not.match(logs, /"level":"error"/)
})

test.run()
