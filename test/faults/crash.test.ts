// kill -9 between every two steps of a decomposition: each step runs in its own process (roles split
// across processes), which is killed the moment its event is in the log. The next process resumes
// from the log, and the decomposition completes exactly once.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { call } from '../../src/client/rpc-client.js'
import type { DomainEvent } from '../../src/domain/events.js'
import { verifyReadModels } from '../../src/replay/rebuild.js'
import { silentLogger } from '../../src/log.js'
import { eventually, readAllEvents } from '../helpers/env.js'
import { ServiceProcess } from '../helpers/private-services.js'
import { faultRig } from './harness.js'

test('a decomposition survives kill -9 after every step and completes exactly once', async () => {
  const rig = await faultRig('crash')
  const procs: ServiceProcess[] = []
  try {
    const { config, client } = rig
    const types = async () => (await readAllEvents(config, 'decomposition')).map((e) => e.event.type)
    const step = async (roles: string, waitFor: DomainEvent['type']) => {
      const p = await ServiceProcess.start(config, { ROLES: roles, INSTANCE_ID: `crash-${roles.replace(/,/g, '-')}` })
      procs.push(p)
      await eventually(async () => ((await types()).includes(waitFor) ? true : undefined), 15_000, `${waitFor} (logs: ${p.logs})`)
      await p.kill('SIGKILL')
    }
    const rpc = (method: string, params: unknown, opts = {}) => call(client, config.rpcPrefix, method, params, { timeoutMs: 20_000, ...opts })

    // 1. The RPC instance accepts the request and dies before anything else happens.
    const rpcOnly = await ServiceProcess.start(config, { ROLES: 'rpc', INSTANCE_ID: 'crash-rpc' })
    procs.push(rpcOnly)
    assert.is((await rpc('task.create', { taskId: 't-crash', title: 'crash' })).error, undefined)
    const firstTry = rpc('task.decompose', { taskId: 't-crash', task: 'Add dark mode toggle to settings page' }, { clientId: 'crash-client', idempotencyKey: 'k-crash', timeoutMs: 3000 })
    firstTry.catch(() => undefined)
    await eventually(async () => ((await types()).includes('DecompositionRequested') ? true : undefined), 10_000, 'Requested')
    await rpcOnly.kill('SIGKILL')
    await firstTry.then(
      () => assert.unreachable('the killed instance cannot have answered'),
      () => undefined,
    )

    // 2-4. Each worker step in a process of its own, killed as soon as its event is appended.
    await step('sampler', 'DecompositionSampled')
    await step('projectors', 'DecompositionPersisted')
    await step('release', 'SubtasksReleased')

    // 5. A full instance comes back; the client retries with its key and gets the one result.
    const republished: string[] = []
    const sub = client.subscribe(`${config.publishPrefix}.task.>`, { callback: (_e, m) => void republished.push(m.subject) })
    procs.push(await ServiceProcess.start(config, { INSTANCE_ID: 'crash-all' }))
    const retry = await rpc('task.decompose', { taskId: 't-crash', task: 'Add dark mode toggle to settings page' }, { clientId: 'crash-client', idempotencyKey: 'k-crash' })
    assert.is(retry.error, undefined, JSON.stringify(retry.error))
    const result = retry.result as { attachmentKey: string; decomposition: { subtasks: { id: string; dependencies: string[] }[] } }
    const ready = result.decomposition.subtasks.filter((s) => s.dependencies.length === 0)

    const events = await readAllEvents(config, 'decomposition')
    assert.equal(events.map((e) => e.event.type), ['DecompositionRequested', 'DecompositionSampled', 'DecompositionPersisted', 'SubtasksReleased'])
    await eventually(async () => (republished.filter((s) => s.endsWith('task.subtask.ready')).length >= ready.length && republished.some((s) => s.endsWith('task.decomposed')) ? true : undefined), 10_000, 'republished events')
    sub.unsubscribe()

    const conn = await rig.open()
    // Read models: exactly what the log implies (verify = replay into scratch and diff).
    await eventually(async () => ((await verifyReadModels(conn, { databaseUrl: config.databaseUrl, pgSchema: config.pgSchema, ttlSeconds: config.decompositionTtlSeconds, log: silentLogger })).differences.length === 0 ? true : undefined), 10_000, 'read models converge')
    const queued = await Promise.all(['frontend', 'backend', 'testing', 'docs', 'general'].map((s) => conn.redis.zrange(`${config.redisPrefix}queue:specialist:${s}`, '0', '-1')))
    assert.equal(queued.flat().sort(), ready.map((s) => s.id).sort())
    for (const s of result.decomposition.subtasks) assert.is(await conn.redis.exists(`${config.redisPrefix}subtask:${s.id}`), 1)
    const rows = await conn.db.selectFrom('task_attachments').select(['key']).where('task_id', '=', 't-crash').execute()
    assert.equal(rows.map((r) => r.key), [result.attachmentKey])
  } finally {
    for (const p of procs) await p.kill('SIGKILL')
    await rig.dispose()
  }
})

test.run()
