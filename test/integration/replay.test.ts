// Replay: the read models rebuilt from the log equal the live ones (content and absolute expiry),
// replay appends and republishes nothing, applying every event twice changes nothing, and
// `decomposer replay --verify` reports a damaged read model and `replay --clean` repairs it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import { call } from '../../src/client/rpc-client.js'
import { silentLogger } from '../../src/log.js'
import { rebuildLive, verifyReadModels } from '../../src/replay/rebuild.js'
import { darkModeRequest, envFor, eventually, readAllEvents, startTestService } from '../helpers/env.js'
import type { TestService } from '../helpers/env.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))

async function populate(svc: TestService): Promise<string[]> {
  const rpc = async (method: string, params: unknown) => {
    const r = await call(svc.client, svc.config.rpcPrefix, method, params, { timeoutMs: 15_000 })
    assert.is(r.error, undefined, JSON.stringify(r.error))
    return r.result as any
  }
  const subtaskIds: string[] = []
  for (const [i, text] of ['Add dark mode toggle to settings page', 'Implement user authentication with OAuth2', 'Fix crash when saving profile'].entries()) {
    await rpc('task.create', { taskId: `t-r${i}`, title: text })
    const d = await rpc('task.decompose', { ...darkModeRequest, taskId: `t-r${i}`, task: text })
    subtaskIds.push(...d.decomposition.subtasks.map((s: { id: string }) => s.id))
  }
  await rpc('task.decompose', { ...darkModeRequest, taskId: 't-r0', task: 'Add dark mode, second plan' })
  await rpc('task.create_attachment', { taskId: 't-r1', key: 'notes', value: { a: 1 } })
  // Wait for the tail of the chain (release → queues) before comparing.
  await eventually(async () => ((await released(svc)) >= 4 ? true : undefined), 10_000, 'releases')
  return subtaskIds
}

async function released(svc: TestService): Promise<number> {
  return (await readAllEvents(svc.config, 'decomposition')).filter((e) => e.event.type === 'SubtasksReleased').length
}

const settings = (svc: TestService) => ({ databaseUrl: svc.config.databaseUrl, pgSchema: svc.config.pgSchema, ttlSeconds: svc.config.decompositionTtlSeconds, log: silentLogger })

test('a rebuild equals the live read models; replay appends nothing and republishes nothing; twice changes nothing', async () => {
  await using svc = await startTestService('replay')
  const subtaskIds = await populate(svc)
  const conn = svc.service.connections
  const before = await conn.store.jsm.streams.info(svc.config.streamName)
  const republished: string[] = []
  const sub = svc.client.subscribe(`${svc.config.publishPrefix}.task.>`, { callback: (_e, m) => void republished.push(m.subject) })
  await svc.client.flush()

  const report = await verifyReadModels(conn, settings(svc))
  assert.equal(report.differences, [])
  assert.is(report.summary.events, before.state.messages)
  assert.ok(report.summary.byType['DecompositionSampled']! >= 4)
  const sampledSubtasks = (await readAllEvents(svc.config, 'decomposition')).flatMap((e) => (e.event.type === 'DecompositionSampled' ? e.event.decomposition.subtasks : []))
  assert.ok(sampledSubtasks.length > subtaskIds.length) // the second plan of t-r0 counts too
  assert.is(report.summary.subtasks, sampledSubtasks.length)

  // Every event applied again (and again) to the live models: nothing moves.
  await rebuildLive(conn, settings(svc))
  await rebuildLive(conn, { ...settings(svc), concurrency: 1 })
  assert.equal((await verifyReadModels(conn, settings(svc))).differences, [])

  await svc.client.flush()
  sub.unsubscribe()
  assert.equal(republished, [])
  assert.is((await conn.store.jsm.streams.info(svc.config.streamName)).state.messages, before.state.messages)
  // The scratch namespaces are gone.
  assert.equal(await svc.redis.keys(`${svc.config.redisPrefix.replace(/:$/, '')}_verify_*`), [])
})

test('replay --verify reports damage (exit 3), replay --clean repairs it with the same expiries', async () => {
  await using svc = await startTestService('replaycli')
  const subtaskIds = await populate(svc)
  const { redis, db } = svc.service.connections
  const p = svc.config.redisPrefix
  const cacheKey = `${p}decomposition:t-r1`
  const expireAt = Number(await redis.call('EXPIRETIME', cacheKey))
  const strategy = await redis.hget(cacheKey, 'strategy')
  assert.ok(expireAt > Date.now() / 1000 + 604_000)

  // Damage: a lost subtask hash, an edited cache field, a queue entry gone, a row deleted.
  await redis.del(`${p}subtask:${subtaskIds[0]}`)
  await redis.hset(cacheKey, 'strategy', 'tampered')
  await redis.del(`${p}queue:specialist:frontend`)
  await sql`DELETE FROM task_attachments WHERE key = 'notes'`.execute(db)

  const env = envFor(svc.config)
  const cli = (...args: string[]) => run(process.execPath, ['bin/decomposer.js', 'replay', ...args], { cwd: root, env }).catch((e: { code: number; stdout: string; stderr: string }) => e)
  const verified = (await cli('--verify')) as { code?: number; stdout: string; stderr: string }
  assert.is(verified.code, 3, verified.stderr)
  assert.match(verified.stdout, new RegExp(`redis subtask:${subtaskIds[0]}: missing in live`))
  assert.match(verified.stdout, /redis decomposition:t-r1: differs/)
  assert.match(verified.stdout, /redis queue:specialist:frontend: missing in live/)
  assert.match(verified.stdout, /postgres task_attachments\/t-r1\/notes: missing in live/)
  assert.match(verified.stderr, /verify 100%/) // progress, on stderr

  const repaired = (await cli('--clean')) as { code?: number; stdout: string }
  assert.is(repaired.code, undefined)
  assert.match(repaired.stdout, /replayed \d+ events up to seq \d+/)
  const again = (await cli('--verify')) as { code?: number; stdout: string }
  assert.is(again.code, undefined, again.stdout)
  assert.match(again.stdout, /read models match the log/)
  assert.is(await redis.hget(cacheKey, 'strategy'), strategy)
  assert.is(Number(await redis.call('EXPIRETIME', cacheKey)), expireAt)
})

test.run()
