// Rate limit, circuit breaker, sampling timeout and the specialist registry, on real NATS and Redis.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { call } from '../../src/client/rpc-client.js'
import { startService } from '../../src/app.js'
import { silentLogger } from '../../src/log.js'
import { heuristicSampler } from '../../src/sampling/heuristic.js'
import type { Sampler } from '../../src/sampling/sampler.js'
import { startTestService } from '../helpers/env.js'

test('rate limit: the 11th decomposition in a minute is refused, another client is not, and two instances share the count', async () => {
  const a = await startTestService('ratelimit', { rateLimitPerMinute: 10 })
  // a second instance on the same stream, Redis prefix and schema
  const b = await startService({ ...a.config, instanceId: `${a.config.instanceId}-b` }, silentLogger)
  try {
    const rpc = (clientId: string) => call(a.client, a.config.rpcPrefix, 'task.decompose', { taskId: 't-rl', task: 'Add a settings page' }, { clientId })
    await call(a.client, a.config.rpcPrefix, 'task.create', { taskId: 't-rl', title: 'rl' })
    // five through each instance's dispatcher directly, so both instances are certainly involved
    const direct = (svc: typeof b) =>
      svc.dispatcher!.dispatch(JSON.stringify({ jsonrpc: '2.0', method: 'task.decompose', params: { taskId: 't-rl', task: 'Add a settings page' }, id: 1 }), { clientId: 'client-a' })
    for (let i = 0; i < 5; i++) {
      assert.not.ok(JSON.parse((await direct(a.service)).body!).error)
      assert.not.ok(JSON.parse((await direct(b)).body!).error)
    }
    const refused = await rpc('client-a')
    assert.is(refused.error?.code, -32029)
    const retryAfter = (refused.error?.data as { retryAfterMs: number }).retryAfterMs
    assert.ok(retryAfter > 0 && retryAfter <= 60_000, `retryAfterMs ${retryAfter}`)
    const other = await rpc('client-b')
    assert.is(other.error, undefined, JSON.stringify(other.error))
  } finally {
    await b.close()
    await a.dispose()
  }
})

test('rate limit: retries with the Idempotency-Key of an existing decomposition are not new admissions', async () => {
  const t = await startTestService('ratelimitkey', { rateLimitPerMinute: 3 })
  try {
    const rpc = (task: string, idempotencyKey?: string) =>
      call(t.client, t.config.rpcPrefix, 'task.decompose', { taskId: 't-rk', task }, { clientId: 'client-k', ...(idempotencyKey ? { idempotencyKey } : {}) })
    await call(t.client, t.config.rpcPrefix, 'task.create', { taskId: 't-rk', title: 'rk' })
    const first = await rpc('Add an export button', 'k-1')
    assert.is(first.error, undefined, JSON.stringify(first.error))
    // Ten retries of the same keyed request: all answered with the same decomposition.
    for (let i = 0; i < 10; i++) {
      const again = await rpc('Add an export button', 'k-1')
      assert.is(again.error, undefined, JSON.stringify(again.error))
      assert.is((again.result as { attachmentKey: string }).attachmentKey, (first.result as { attachmentKey: string }).attachmentKey)
    }
    // The limit of 3 still holds for new work: two more are admitted, the third is refused.
    assert.is((await rpc('Add an import button', 'k-2')).error, undefined)
    assert.is((await rpc('Add a print button', 'k-3')).error, undefined)
    assert.is((await rpc('Add a share button', 'k-4')).error?.code, -32029)
  } finally {
    await t.dispose()
  }
})

test('circuit breaker: opens after 3 consecutive failures, answers the fallback without persisting, half-opens and closes', async () => {
  let failing = true
  const flaky: Sampler = {
    name: 'flaky',
    repairable: false,
    async sample(req, signal) {
      if (failing) throw new Error('provider exploded')
      return heuristicSampler.sample(req, signal)
    },
  }
  const t = await startTestService('breaker', { breakerThreshold: 3, breakerResetMs: 700 }, { sampler: flaky })
  try {
    const rpc = (params: unknown) => call(t.client, t.config.rpcPrefix, 'task.decompose', params)
    await call(t.client, t.config.rpcPrefix, 'task.create', { taskId: 't-br', title: 'br' })
    const params = { taskId: 't-br', task: 'Add a search box to the header' }
    for (let i = 0; i < 3; i++) {
      const r = await rpc(params)
      assert.is(r.error?.code, -32603, JSON.stringify(r))
      assert.match(r.error!.message, /provider exploded/)
    }
    const fallback = await rpc(params)
    assert.is(fallback.error, undefined, JSON.stringify(fallback.error))
    const fb = fallback.result as { subtaskCount: number; decomposition: { subtasks: unknown[]; reasoning: string }; attachmentKey: unknown }
    assert.is(fb.subtaskCount, 0)
    assert.equal(fb.decomposition.subtasks, [])
    assert.is(fb.decomposition.reasoning, 'Service temporarily unavailable')
    assert.is(fb.attachmentKey, null)
    const list = await call(t.client, t.config.rpcPrefix, 'task.list_attachments', { taskId: 't-br' })
    assert.is((list.result as { totalCount: number }).totalCount, 0)
    assert.is(await t.redis.exists(`${t.config.redisPrefix}decomposition:t-br`), 0)

    await new Promise((r) => setTimeout(r, 800)) // half-open: one trial call goes through
    failing = false
    const recovered = await rpc(params)
    assert.is(recovered.error, undefined, JSON.stringify(recovered.error))
    assert.ok((recovered.result as { subtaskCount: number }).subtaskCount > 0)
    const again = await rpc(params)
    assert.ok((again.result as { subtaskCount: number }).subtaskCount > 0, 'closed again')
  } finally {
    await t.dispose()
  }
})

test('sampling timeout: a hung provider is aborted and the client gets -32001', async () => {
  let aborted = false
  const hung: Sampler = {
    name: 'hung',
    repairable: false,
    sample: (_req, signal) =>
      new Promise(() => {
        signal.addEventListener('abort', () => (aborted = true))
      }),
  }
  const t = await startTestService('timeout', { samplingTimeoutMs: 300 }, { sampler: hung })
  try {
    await call(t.client, t.config.rpcPrefix, 'task.create', { taskId: 't-to', title: 'to' })
    const started = Date.now()
    const r = await call(t.client, t.config.rpcPrefix, 'task.decompose', { taskId: 't-to', task: 'Anything' })
    assert.is(r.error?.code, -32001, JSON.stringify(r))
    assert.ok(Date.now() - started < 5000)
    assert.ok(aborted, 'the provider call was aborted, not left running')
  } finally {
    await t.dispose()
  }
})

test('specialist registry: registered roles are what the sampler plans with; they expire without heartbeats', async () => {
  const t = await startTestService('registry', { instanceTtlMs: 1000 })
  try {
    const rpc = (method: string, params: unknown) => call(t.client, t.config.rpcPrefix, method, params)
    await rpc('task.create', { taskId: 't-reg', title: 'reg' })
    // Nobody registered yet: the default set (and this instance now holds it in its 1 s cache).
    const before = await rpc('task.decompose', { taskId: 't-reg', task: 'Add a dark mode toggle to the profile page' })
    const beforeSet = new Set((before.result as { decomposition: { subtasks: { specialist: string }[] } }).decomposition.subtasks.map((s) => s.specialist))
    assert.ok(beforeSet.has('testing'), [...beforeSet].join(','))
    // A registration is seen at once by the instance that took it, cache or not.
    const reg = await rpc('system.register', { id: 'fe-1', roles: ['frontend'] })
    assert.is(reg.error, undefined, JSON.stringify(reg.error))
    assert.is(await t.redis.hget(`${t.config.redisPrefix}instance:fe-1`, 'roles'), '["frontend"]')
    const pttl = await t.redis.pttl(`${t.config.redisPrefix}instance:fe-1`)
    assert.ok(pttl > 0 && pttl <= 1000)
    const hb = await rpc('system.heartbeat', { id: 'fe-1' })
    assert.is(hb.error, undefined)
    const d = await rpc('task.decompose', { taskId: 't-reg', task: 'Add dark mode toggle to settings page' })
    const specialists = new Set((d.result as { decomposition: { subtasks: { specialist: string }[] } }).decomposition.subtasks.map((s) => s.specialist))
    assert.equal([...specialists].sort(), ['frontend', 'general'])

    assert.is((await rpc('system.heartbeat', { id: 'ghost' })).error?.code, -32602)
    assert.is(((await rpc('system.register', { id: 'x', roles: [] })).error?.data as { field: string }).field, 'roles')

    await new Promise((r) => setTimeout(r, 1100)) // expired: back to the default set
    // (Other text: the same request again inside the duplicate window would join the first one.)
    const later = await rpc('task.decompose', { taskId: 't-reg', task: 'Add a dark mode toggle to the settings page' })
    const after = new Set((later.result as { decomposition: { subtasks: { specialist: string }[] } }).decomposition.subtasks.map((s) => s.specialist))
    assert.ok(after.has('backend') && after.has('testing'))
  } finally {
    await t.dispose()
  }
})

test.run()
