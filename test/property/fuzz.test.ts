// Property-based fuzzing of the RPC surface over real NATS (issue #12). Generated envelopes and
// params for every method, valid-ish and hostile (wrong types, huge strings, deep nesting, NUL and
// unpaired surrogates, unknown fields, batches, notifications), against one in-process service.
// Properties: every reply is well-formed JSON-RPC 2.0 carrying the request's id (none for a
// notification, an array for a batch); client mistakes are never -32603/-32000; a run of requests
// that are all refused appends nothing and spends no rate limit; afterwards the service still
// answers a normal create + decompose promptly. Seeded (FUZZ_SEED) so a failure replays;
// fast-check prints the seed and the shrunk case. FUZZ_RUNS (default 2000) sets the case count.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { createInbox, headers } from '@nats-io/nats-core'
import { jetstreamManager } from '@nats-io/jetstream'
import { call, callRaw } from '../../src/client/rpc-client.js'
import { startTestService } from '../helpers/env.js'
import type { TestService } from '../helpers/env.js'
import { expectationOf, problemsOf } from './rpc-model.js'
import type { Case } from './rpc-model.js'
import { anyCase, hostileCase } from './arbitraries.js'

const runs = Number(process.env.FUZZ_RUNS ?? 2000)
const seed = Number(process.env.FUZZ_SEED ?? 1207)

let t: TestService
let stray = 0
let strayInbox = ''

test.before(async () => {
  t = await startTestService('fuzz', { rateLimitPerMinute: 1000 })
  await call(t.client, t.config.rpcPrefix, 'task.create', { taskId: 't-fz', title: 'fuzz target' })
  strayInbox = createInbox()
  t.client.subscribe(strayInbox, { callback: () => void stray++ })
})
test.after(async () => {
  await t.dispose()
})

/** Replies seen, by outcome (`ok`, an error code, `batch`): printed so a run shows what it covered. */
const seen = new Map<string, number>()
function tally(text: string): void {
  const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1)
  try {
    const r = JSON.parse(text) as { error?: { code: number } } | unknown[]
    if (Array.isArray(r)) count('batch')
    else count(r.error ? String(r.error.code) : 'ok')
    if (Array.isArray(r)) for (const x of r as { error?: unknown }[]) count(x.error ? 'batch item error' : 'batch item ok')
  } catch {
    count('unparsable')
  }
}

const streamMessages = async () => (await (await jetstreamManager(t.client)).streams.info(t.config.streamName)).state.messages

/** Sends one case; returns what is wrong with the reply (empty when it is right). */
async function exchange(c: Case): Promise<string[]> {
  const body = c.raw ?? JSON.stringify(c.body)
  const subject = c.bound ? `${t.config.rpcPrefix}.${c.bound}` : t.config.rpcPrefix
  const expected = expectationOf(c, body)
  if (expected.kind === 'none') {
    // No reply may come: sent with a reply subject of its own, counted if anything arrives there.
    const h = headers()
    for (const [k, v] of Object.entries(c.headers)) if (v !== undefined) h.set(k, v)
    t.client.publish(subject, body, { reply: strayInbox, headers: h })
    seen.set('notification', (seen.get('notification') ?? 0) + 1)
    return []
  }
  const opts = { timeoutMs: 15_000, clientId: c.headers['Client-Id'], sessionId: c.headers['Session-Id'], idempotencyKey: c.headers['Idempotency-Key'] }
  const { text } = await callRaw(t.client, subject, body, opts)
  tally(text)
  return problemsOf(text, expected, c.hostile)
}

const property = (arb: fc.Arbitrary<Case>) =>
  fc.asyncProperty(arb, async (c) => {
    const problems = await exchange(c)
    if (problems.length > 0) throw new Error(`${problems.join('; ')}\n  request: ${(c.raw ?? JSON.stringify(c.body)).slice(0, 400)}`)
  })

test(`hostile only (${Math.ceil(runs / 2)} cases): every request refused with a well-formed reply; nothing appended; no rate budget spent`, async () => {
  const before = await streamMessages()
  await fc.assert(property(hostileCase), { numRuns: Math.ceil(runs / 2), seed, endOnFailure: false })
  await t.client.flush()
  assert.is(await streamMessages(), before, 'refused requests appended nothing')
  assert.equal(await t.redis.keys(`${t.config.redisPrefix}ratelimit:*`), [], 'refused requests spent no rate limit')
})

test(`valid-ish and hostile mixed (${Math.floor(runs / 2)} cases): well-formed replies, truthful codes, ids echoed`, async () => {
  await fc.assert(property(anyCase), { numRuns: Math.floor(runs / 2), seed: seed + 1 })
})

test('no notification was answered, and a normal create + decompose still answers promptly', async () => {
  // A last round trip, then a moment, so any late reply to a notification would have arrived.
  await call(t.client, t.config.rpcPrefix, 'task.get_decomposition', { taskId: 't-fz' })
  await new Promise((r) => setTimeout(r, 300))
  assert.is(stray, 0, 'replies to notifications')
  console.log(`  fuzz (seed ${seed}, ${runs} cases): ${[...seen].map(([k, n]) => `${k} ${n}`).join(', ')}`)
  const started = Date.now()
  const created = await call(t.client, t.config.rpcPrefix, 'task.create', { taskId: 't-after', title: 'after the fuzz' }, { clientId: 'after' })
  assert.is(created.error, undefined, JSON.stringify(created.error))
  const decomposed = await call(t.client, t.config.rpcPrefix, 'task.decompose', { taskId: 't-after', task: 'Add a dark mode toggle' }, { clientId: 'after' })
  assert.is(decomposed.error, undefined, JSON.stringify(decomposed.error))
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`)
})

test.run()
