// Outages under a steady stream of requests, against private servers: Redis killed for 5 s,
// Postgres cut off for 5 s, NATS restarted. Requests that need a missing store fail with a clear
// error; afterwards every accepted decomposition is in every read model exactly once.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { call } from '../../src/client/rpc-client.js'
import { verifyReadModels } from '../../src/replay/rebuild.js'
import { silentLogger } from '../../src/log.js'
import { aggregateOf, eventually, readAllEvents } from '../helpers/env.js'
import { ServiceProcess } from '../helpers/private-services.js'
import { faultRig } from './harness.js'

interface Outcome {
  at: number
  taskId: string
  ok: boolean
  code?: number
  message?: string
  attachmentKey?: string
  subtaskIds?: string[]
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('Redis down 5 s, Postgres down 5 s, NATS restarted: nothing accepted is lost or doubled', async () => {
  const rig = await faultRig('outage', { replyTimeoutMs: 20_000 })
  const { config, client } = rig
  const service = await ServiceProcess.start(config, { INSTANCE_ID: 'outage-1' })
  const outcomes: Outcome[] = []
  const started = Date.now()
  let stop = false
  let n = 0
  const worker = async (w: number) => {
    while (!stop) {
      const taskId = `t-o${w}-${n++}`
      const at = Date.now() - started
      try {
        const created = await call(client, config.rpcPrefix, 'task.create', { taskId, title: taskId }, { timeoutMs: 4000 })
        const r = created.error
          ? created
          : await call(client, config.rpcPrefix, 'task.decompose', { taskId, task: 'Add dark mode toggle to settings page' }, { timeoutMs: 25_000, clientId: `c-${w}` })
        if (r.error) outcomes.push({ at, taskId, ok: false, code: r.error.code, message: r.error.message })
        else {
          const res = r.result as { attachmentKey?: string; decomposition?: { subtasks: { id: string }[] } }
          outcomes.push({ at, taskId, ok: true, ...(res.attachmentKey ? { attachmentKey: res.attachmentKey, subtaskIds: res.decomposition!.subtasks.map((s) => s.id) } : {}) })
        }
      } catch (err) {
        outcomes.push({ at, taskId, ok: false, message: (err as Error).message }) // no reply (NATS down)
        await sleep(200)
      }
      await sleep(50)
    }
  }
  const load = Promise.all([0, 1, 2].map(worker))
  try {
    await sleep(1500)
    await rig.redis.stop('SIGKILL')
    await sleep(5000)
    await rig.redis.start()
    await sleep(2000)
    await rig.pg.cut()
    await sleep(5000)
    await rig.pg.restore()
    await sleep(2000)
    await rig.nats.stop('SIGTERM')
    await sleep(1000)
    await rig.nats.start()
    const natsBack = Date.now() - started
    // A fresh request after the restart must succeed (the load's workers may all be mid-call).
    const probe = await eventually(
      async () => {
        const taskId = `t-probe-${Date.now()}`
        try {
          const c = await call(client, config.rpcPrefix, 'task.create', { taskId, title: taskId }, { timeoutMs: 3000 })
          if (c.error) return undefined
          const d = await call(client, config.rpcPrefix, 'task.decompose', { taskId, task: 'Add dark mode toggle to settings page' }, { timeoutMs: 5000 })
          return d.error ? undefined : { taskId, ms: Date.now() - started - natsBack, result: d.result as { attachmentKey: string; decomposition: { subtasks: { id: string }[] } } }
        } catch {
          return undefined
        }
      },
      30_000,
      `a decomposition after the NATS restart; service logs: ${service.logs.slice(-1500)}`,
    )
    outcomes.push({ at: natsBack, taskId: probe.taskId, ok: true, attachmentKey: probe.result.attachmentKey, subtaskIds: probe.result.decomposition.subtasks.map((s) => s.id) })
    await sleep(2000)
    stop = true
    await load

    const ok = outcomes.filter((o) => o.ok && o.attachmentKey)
    const failed = outcomes.filter((o) => !o.ok)
    const phase = (from: number, to: number) => outcomes.filter((o) => o.at >= from && o.at < to)
    // Served before the faults, during them only with clear errors, and again after every one.
    assert.ok(phase(0, 1500).some((o) => o.ok), 'served before the faults')
    assert.ok(phase(1800, 6300).some((o) => !o.ok && o.code === -32000 && /Redis/i.test(o.message ?? '')), 'Redis outage reported as -32000 naming Redis: ' + JSON.stringify(phase(1000, 7500).map((o) => [o.at, o.ok, o.code, o.message?.slice(0, 60)])))
    for (const f of failed) {
      // Errors are storage (-32000) or a reply that could not arrive in time while a store was
      // down (-32001); with NATS down there is no reply at all.
      if (f.code !== undefined) assert.ok([-32000, -32001].includes(f.code), JSON.stringify(f))
    }

    // Every decomposition the log accepted completes exactly once, and the read models hold
    // exactly what the log implies.
    const conn = await rig.open()
    const settings = { databaseUrl: config.databaseUrl, pgSchema: config.pgSchema, ttlSeconds: config.decompositionTtlSeconds, log: silentLogger }
    await eventually(
      async () => {
        const events = await readAllEvents(config, 'decomposition')
        const requested = events.filter((e) => e.event.type === 'DecompositionRequested').length
        const released = events.filter((e) => e.event.type === 'SubtasksReleased').length
        return requested === released ? true : undefined
      },
      45_000,
      'every accepted decomposition released',
    )
    const events = await readAllEvents(config, 'decomposition')
    const perDecomposition = new Map<string, string[]>()
    for (const e of events) perDecomposition.set(aggregateOf(e.event), [...(perDecomposition.get(aggregateOf(e.event)) ?? []), e.event.type])
    for (const [subject, types] of perDecomposition) {
      assert.equal(types, ['DecompositionRequested', 'DecompositionSampled', 'DecompositionPersisted', 'SubtasksReleased'], subject)
    }
    await eventually(async () => ((await verifyReadModels(conn, settings)).differences.length === 0 ? true : undefined), 40_000, 'read models equal the log')
    for (const o of ok) {
      const rows = await conn.db.selectFrom('task_attachments').select('key').where('task_id', '=', o.taskId).execute()
      assert.equal(rows.map((r) => r.key), [o.attachmentKey])
      for (const id of o.subtaskIds!) assert.is(await conn.redis.exists(`${config.redisPrefix}subtask:${id}`), 1)
    }
    console.log(`outage: first decomposition ${probe.ms} ms after NATS came back; ${outcomes.length} requests, ${ok.length} decomposed, ${failed.length} failed cleanly, ${perDecomposition.size} decompositions in the log`)
  } finally {
    stop = true
    await load.catch(() => undefined)
    await service.kill('SIGKILL')
    await rig.dispose()
  }
})

test.run()
