// Issue #13: a keyed retry after a circuit-open fallback. The fallback is not an outcome of the
// request (nothing was sampled): once the breaker has had time to close, a retry with the same
// Idempotency-Key starts a new attempt and gets a real decomposition; concurrent retries share that
// one attempt. A keyed request that really failed still answers its failure. On real NATS, Redis
// and Postgres, with a sampler that is down for its first calls.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { call } from '../../src/client/rpc-client.js'
import type { RpcReply } from '../../src/client/rpc-client.js'
import { heuristicSampler } from '../../src/sampling/heuristic.js'
import type { Sampler } from '../../src/sampling/sampler.js'
import type { DecompositionFailed, DecompositionRequested } from '../../src/domain/events.js'
import { readAllEvents, startTestService } from '../helpers/env.js'

interface Result {
  subtaskCount: number
  decomposition: { subtasks: unknown[]; reasoning: string }
  attachmentKey: string | null
}

const resetMs = 1500

test('keyed retry after the circuit-open fallback: a real decomposition once the breaker closed, one new attempt for concurrent retries', async () => {
  let outagesLeft = 2
  let sampled = 0
  const outage: Sampler = {
    name: 'outage',
    repairable: false,
    async sample(req, signal) {
      if (outagesLeft > 0) {
        outagesLeft--
        throw new Error('provider unreachable')
      }
      sampled++
      return heuristicSampler.sample(req, signal)
    },
  }
  const t = await startTestService('keyedretry', { breakerThreshold: 2, breakerResetMs: resetMs }, { sampler: outage })
  try {
    const rpc = (task: string, idempotencyKey: string): Promise<RpcReply> =>
      call(t.client, t.config.rpcPrefix, 'task.decompose', { taskId: 't-kr', task }, { clientId: 'client-kr', idempotencyKey })
    await call(t.client, t.config.rpcPrefix, 'task.create', { taskId: 't-kr', title: 'kr' })

    // Given two real failures (provider outages) that open the breaker
    for (const [task, key] of [['Add a login form', 'k-fail-1'], ['Add a logout button', 'k-fail-2']] as const) {
      const r = await rpc(task, key)
      assert.is(r.error?.code, -32603, JSON.stringify(r))
      assert.match(r.error!.message, /provider unreachable/)
    }
    // When a keyed request arrives while the breaker is open, it gets the spec's fallback
    const task = 'Add a search box to the header'
    const fallback = await rpc(task, 'k-1')
    assert.is(fallback.error, undefined, JSON.stringify(fallback.error))
    const fb = fallback.result as Result
    assert.is(fb.subtaskCount, 0)
    assert.is(fb.attachmentKey, null)
    assert.is(fb.decomposition.reasoning, 'Service temporarily unavailable')

    // and a retry before the breaker can have closed joins that attempt: the fallback again, nothing appended
    const early = await rpc(task, 'k-1')
    assert.is((early.result as Result).attachmentKey, null, JSON.stringify(early))
    const requestedFor = async (text: string) =>
      (await readAllEvents(t.config, 'decomposition')).filter((s) => s.event.type === 'DecompositionRequested' && (s.event as DecompositionRequested).task === text)
    assert.is((await requestedFor(task)).length, 1, 'no new attempt while the breaker is open')

    // When the same key is retried twice at once after the reset
    await new Promise((r) => setTimeout(r, resetMs + 300))
    const [a, b] = await Promise.all([rpc(task, 'k-1'), rpc(task, 'k-1')])
    // Then both get the same real decomposition, from one new attempt and one sampling
    assert.is(a.error, undefined, JSON.stringify(a.error))
    assert.is(b.error, undefined, JSON.stringify(b.error))
    const ra = a.result as Result
    const rb = b.result as Result
    assert.ok(ra.subtaskCount > 0, JSON.stringify(ra))
    assert.type(ra.attachmentKey, 'string')
    assert.is(rb.attachmentKey, ra.attachmentKey)
    assert.is(sampled, 1, 'one sampling for both retries')
    const requested = await requestedFor(task)
    assert.is(requested.length, 2, 'the first attempt and one new attempt')
    const [first, second] = requested.map((s) => (s.event as DecompositionRequested).decompositionId)
    assert.is.not(first, second)
    const events = await readAllEvents(t.config, 'decomposition')
    const failedFirst = events.find((s) => s.event.type === 'DecompositionFailed' && (s.event as DecompositionFailed).decompositionId === first)
    assert.is((failedFirst?.event as DecompositionFailed | undefined)?.error.code, -32002, 'the first attempt stays failed (circuit open) in the log')

    // And later retries keep answering that decomposition, with no further attempt
    const later = await rpc(task, 'k-1')
    assert.is((later.result as Result).attachmentKey, ra.attachmentKey)
    assert.is((await requestedFor(task)).length, 2)
    assert.is(sampled, 1)

    // The same key with other params is still a conflict, never the decomposition
    const other = await rpc('Add a search box to the footer', 'k-1')
    assert.is(other.error?.code, -32602, JSON.stringify(other))
    assert.is((other.error?.data as { field?: string }).field, 'Idempotency-Key')

    // A keyed request that really failed (the provider outage) still answers its failure
    const failedAgain = await rpc('Add a login form', 'k-fail-1')
    assert.is(failedAgain.error?.code, -32603, JSON.stringify(failedAgain))
    assert.is((await requestedFor('Add a login form')).length, 1)
    assert.is(sampled, 1)
  } finally {
    await t.dispose()
  }
})

test.run()
