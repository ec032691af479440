// Three `decomposer start` processes share the work (RPC queue group, shared durable consumers);
// one is killed with -9 under load. Clients retry with their Idempotency-Key, as real clients do:
// every request is answered, and no decomposition or step happens twice.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { call } from '../../src/client/rpc-client.js'
import { verifyReadModels } from '../../src/replay/rebuild.js'
import { silentLogger } from '../../src/log.js'
import { aggregateOf, eventually, readAllEvents } from '../helpers/env.js'
import { ServiceProcess } from '../helpers/private-services.js'
import { faultRig } from './harness.js'

test('three instances under load, one killed: every request answered once, no step done twice', async () => {
  const rig = await faultRig('instances')
  const { config, client } = rig
  const instances = await Promise.all([1, 2, 3].map((i) => ServiceProcess.start(config, { INSTANCE_ID: `inst-${i}` })))
  try {
    const total = 90
    const answers = new Map<number, string>()
    let retries = 0
    let next = 0
    const requestOnce = async (i: number) => {
      const taskId = `t-i${i}`
      for (let attempt = 0; attempt < 10; attempt++) {
        try {
          const created = await call(client, config.rpcPrefix, 'task.create', { taskId, title: taskId }, { timeoutMs: 3000 })
          if (created.error) throw new Error(created.error.message)
          const r = await call(client, config.rpcPrefix, 'task.decompose', { taskId, task: 'Implement user authentication with OAuth2' }, { timeoutMs: 6000, clientId: 'loadgen', idempotencyKey: `req-${i}` })
          if (r.error) throw new Error(r.error.message)
          answers.set(i, (r.result as { attachmentKey: string }).attachmentKey)
          return
        } catch {
          retries++
        }
      }
      throw new Error(`request ${i} never answered`)
    }
    const client_ = async () => {
      for (let i = next++; i < total; i = next++) await requestOnce(i)
    }
    const load = Promise.all(Array.from({ length: 6 }, client_))
    await eventually(async () => (answers.size >= total / 3 ? true : undefined), 30_000, 'a third answered')
    await instances[1]!.kill('SIGKILL')
    await load

    assert.is(answers.size, total)

    await eventually(
      async () => {
        const events = await readAllEvents(config, 'decomposition')
        return events.filter((e) => e.event.type === 'SubtasksReleased').length >= total ? events : undefined
      },
      40_000,
      'all released',
    ).catch(async (err: Error) => {
      const events = await readAllEvents(config, 'decomposition')
      const by = new Map<string, string[]>()
      for (const e of events) by.set(aggregateOf(e.event), [...(by.get(aggregateOf(e.event)) ?? []), e.event.type])
      const stuck = [...by].filter(([, t]) => t.length < 4)
      throw new Error(`${err.message}; stuck: ${JSON.stringify(stuck.slice(0, 5))}; logs: ${instances.map((p) => p.logs.slice(-800)).join('\n---\n')}`)
    }
    )
    const events = await readAllEvents(config, 'decomposition')
    const perDecomposition = new Map<string, string[]>()
    for (const e of events) perDecomposition.set(aggregateOf(e.event), [...(perDecomposition.get(aggregateOf(e.event)) ?? []), e.event.type])
    assert.is(perDecomposition.size, total, 'one decomposition per request, retries included')
    for (const [subject, types] of perDecomposition) {
      assert.equal(types, ['DecompositionRequested', 'DecompositionSampled', 'DecompositionPersisted', 'SubtasksReleased'], subject)
    }
    // The work was shared: samples were taken by more than one instance.
    const samplers = new Set(events.flatMap((e) => (e.event.type === 'DecompositionSampled' ? [e.event.decomposedBy] : [])))
    assert.ok(samplers.size >= 2, `sampled by ${[...samplers].join(', ')}`)
    const conn = await rig.open()
    const settings = { databaseUrl: config.databaseUrl, pgSchema: config.pgSchema, ttlSeconds: config.decompositionTtlSeconds, log: silentLogger }
    await eventually(async () => ((await verifyReadModels(conn, settings)).differences.length === 0 ? true : undefined), 40_000, 'read models equal the log')
    const rows = await conn.db.selectFrom('task_attachments').select(['task_id', 'key']).execute()
    assert.is(rows.length, total)
    for (const [i, key] of answers) assert.ok(rows.some((r) => r.task_id === `t-i${i}` && r.key === key))
    console.log(`instances: ${total} requests answered, ${retries} client retries after the kill`)
  } finally {
    for (const p of instances) await p.kill('SIGKILL')
    await rig.dispose()
  }
})

test.run()
