// Admission limits end to end (issue #12): refused up front, over real NATS, with nothing appended;
// a batch cannot amplify memory; open registration cannot grow a DecompositionRequested.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createConnection } from 'node:net'
import { jetstreamManager } from '@nats-io/jetstream'
import { call, callRaw } from '../../src/client/rpc-client.js'
import type { RpcReply } from '../../src/client/rpc-client.js'
import { limits } from '../../src/rpc/limits.js'
import { readAllEvents, startTestService } from '../helpers/env.js'
import type { TestService } from '../helpers/env.js'

let t: TestService
const rpc = (method: string, params: unknown, opts = {}) => call(t.client, t.config.rpcPrefix, method, params, opts)
const streamMessages = async () => (await (await jetstreamManager(t.client)).streams.info(t.config.streamName)).state.messages
const data = (r: RpcReply) => r.error?.data as { field?: string; reason?: string } | undefined

test.before(async () => {
  t = await startTestService('limits', { rateLimitPerMinute: 5 })
  await rpc('task.create', { taskId: 't-lim', title: 'limits' })
})
test.after(async () => {
  await t.dispose()
})

const deep = (n: number): unknown => {
  let v: unknown = 1
  for (let i = 0; i < n; i++) v = { d: v }
  return v
}

test('NUL, lone surrogates, over-deep and over-size values are refused up front: -32602, field, reason, nothing appended, no rate budget spent', async () => {
  const before = await streamMessages()
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['task.create', { title: 'a\u0000b' }, 'title', 'unstorable_text'],
    ['task.create', { title: 'ok', description: 'lone \uD800' }, 'description', 'unstorable_text'],
    ['task.create', { title: 'ok', metadata: { 'k\u0000': 1 } }, 'metadata.k\uFFFD', 'unstorable_text'],
    ['task.create', { title: 'ok', metadata: deep(40) }, 'metadata' + '.d'.repeat(limits.depth - 1), 'too_deep'],
    ['task.create', { title: 'ok', metadata: { blob: 'x'.repeat(limits.metadataBytes) } }, 'metadata', 'too_large'],
    ['task.decompose', { taskId: 't-lim', task: 'Add\u0000 login' }, 'task', 'unstorable_text'],
    ['task.decompose', { taskId: 't-lim', task: 'Add login', constraints: ['ok', '\uDC00'] }, 'constraints[1]', 'unstorable_text'],
    ['task.decompose', { taskId: 't-lim', task: 'Add login', metadata: { a: ['x', 'y\u0000'] } }, 'metadata.a[1]', 'unstorable_text'],
    ['task.decompose', { taskId: 't-lim', task: 'Add login', metadata: deep(500) }, 'metadata' + '.d'.repeat(limits.depth - 1), 'too_deep'],
    ['task.decompose', { taskId: 't-lim', task: 'Add login', metadata: { blob: 'x'.repeat(limits.metadataBytes) } }, 'metadata', 'too_large'],
    ['task.decompose', { taskId: 't-lim', task: 'x'.repeat(1001) }, 'task', 'too_large'],
    ['task.decompose', { taskId: 't-lim', task: 'x', constraints: Array(51).fill('c') }, 'constraints', 'too_many_items'],
    ['task.create_attachment', { taskId: 't-lim', key: 'k1', value: { text: 'a\u0000' } }, 'value.text', 'unstorable_text'],
    ['task.create_attachment', { taskId: 't-lim', key: 'k\u0000', value: 1 }, 'key', 'unstorable_text'],
    ['task.create_attachment', { taskId: 't-lim', key: 'k1', value: 'v'.repeat(limits.attachmentValueBytes) }, 'value', 'too_large'],
    ['task.create_attachment', { taskId: 't-lim', key: 'k1', value: deep(100) }, 'value' + '.d'.repeat(limits.depth - 1), 'too_deep'],
    ['system.register', { id: 'i-1', roles: ['frontend'], metadata: { note: 'x'.repeat(limits.registrationMetadataBytes) } }, 'metadata', 'too_large'],
  ]
  for (const [method, params, field, reason] of cases) {
    const r = await rpc(method, params, { clientId: 'poison' })
    assert.is(r.error?.code, -32602, `${method} ${JSON.stringify(params).slice(0, 120)} → ${JSON.stringify(r).slice(0, 300)}`)
    assert.equal([data(r)?.field, data(r)?.reason], [field, reason], `${method}: ${JSON.stringify(r.error).slice(0, 300)}`)
  }
  // 5,000 deep (issue #12 answered -32603 after parsing), written by hand: JSON.stringify would overflow here
  const body = `{"jsonrpc":"2.0","method":"task.decompose","id":"deep","params":{"taskId":"t-lim","task":"x","metadata":${'{"d":'.repeat(5000)}1${'}'.repeat(5000)}}}`
  const deep5000 = JSON.parse((await callRaw(t.client, `${t.config.rpcPrefix}.task.decompose`, body)).text)
  assert.equal([deep5000.id, deep5000.error.code, deep5000.error.data.reason], ['deep', -32602, 'too_deep'])
  // over the request size: refused before parsing, as an envelope error
  const huge = JSON.parse((await callRaw(t.client, `${t.config.rpcPrefix}.task.create`, JSON.stringify({ jsonrpc: '2.0', method: 'task.create', params: { title: 'x'.repeat(limits.requestBytes) }, id: 1 }))).text)
  assert.equal([huge.error.code, huge.error.data.reason], [-32600, 'too_large'])
  assert.is(await streamMessages(), before, 'nothing appended')
  const rateKeys = await t.redis.keys(`${t.config.redisPrefix}ratelimit:*`)
  assert.equal(rateKeys, [], 'no rate-limit budget spent by refused requests')
})

test('a batch of 50 task.get_attachment on a 250 KB attachment is bounded: one reply under max_payload, the rest answered', async () => {
  const value = { text: 'y'.repeat(250_000) }
  const created = await rpc('task.create_attachment', { taskId: 't-lim', key: 'big', value })
  assert.is(created.error, undefined, JSON.stringify(created.error))
  const batch = Array.from({ length: limits.batchItems }, (_, i) => ({ jsonrpc: '2.0', method: 'task.get_attachment', params: { taskId: 't-lim', key: 'big' }, id: i }))
  global.gc?.()
  const rss0 = process.memoryUsage().rss
  const started = Date.now()
  const { text } = await callRaw(t.client, t.config.rpcPrefix, JSON.stringify(batch), { timeoutMs: 20_000 })
  const rss1 = process.memoryUsage().rss
  const replies = JSON.parse(text) as RpcReply[]
  console.log(`  batch of ${batch.length} × 250 KB: reply ${text.length} bytes in ${Date.now() - started} ms, RSS +${((rss1 - rss0) / 1e6).toFixed(1)} MB`)
  assert.ok(text.length <= limits.replyBytes, `reply ${text.length} bytes`)
  assert.equal(
    replies.map((r) => r.id),
    batch.map((b) => b.id),
  )
  const ok = replies.filter((r) => r.result !== undefined).length
  assert.ok(ok >= 1 && ok <= 4, `${ok} values fit`)
  for (const r of replies.filter((x) => x.error)) {
    const expected = { reply_too_large: -32602, batch_budget_exhausted: -32600 }[data(r)!.reason!]
    assert.is(r.error!.code, expected, JSON.stringify(r.error))
  }
  assert.ok(rss1 - rss0 < 200e6, `RSS grew ${rss1 - rss0} bytes`)
  // 51 items: refused whole
  const tooMany = JSON.parse((await callRaw(t.client, t.config.rpcPrefix, JSON.stringify([...batch, { ...batch[0], id: 99 }]))).text)
  assert.equal([tooMany.error.code, tooMany.error.data.reason], [-32600, 'too_many_items'])
  // The attack of #12 as it was sent: 5,000 (529 kB) and 1,000 items. Before, 1,000 items took the
  // process to 2.18 GB and 5,000 aborted it; now each is refused whole before anything runs.
  for (const n of [5000, 1000]) {
    const attack = JSON.stringify(Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', method: 'task.get_attachment', params: { taskId: 't-lim', key: 'big' }, id: i })))
    const before = process.memoryUsage().rss
    const answer = JSON.parse((await callRaw(t.client, t.config.rpcPrefix, attack, { timeoutMs: 10_000 })).text)
    const grown = process.memoryUsage().rss - before
    console.log(`  batch of ${n} (${attack.length} bytes): ${answer.error.data.reason}, RSS +${(grown / 1e6).toFixed(1)} MB`)
    assert.is(answer.error.code, -32600)
    assert.ok(['too_large', 'too_many_items'].includes(answer.error.data.reason), answer.error.data.reason)
    assert.ok(grown < 100e6, `RSS grew ${grown} bytes`)
  }
})

test('registrations: one past the bound per owner is refused; decompositions stay small and keep working', async () => {
  const roles = (i: number) => Array.from({ length: limits.rolesPerRegistration }, (_, j) => `r${i}-${j}`)
  const replies = await Promise.all(
    Array.from({ length: limits.registrationsPerOwner }, (_, i) => rpc('system.register', { id: `inst-${i}`, roles: roles(i) }, { clientId: 'fleet' })),
  )
  assert.ok(replies.every((r) => r.error === undefined), JSON.stringify(replies.find((r) => r.error)))
  const past = await rpc('system.register', { id: 'inst-extra', roles: ['backend'] }, { clientId: 'fleet' })
  assert.is(past.error?.code, -32602)
  assert.equal([data(past)?.field, data(past)?.reason], ['id', 'too_many_registrations'])
  // re-registering a held id and heartbeats still work; another owner has its own allowance
  assert.is((await rpc('system.register', { id: 'inst-0', roles: ['frontend'] }, { clientId: 'fleet' })).error, undefined)
  assert.is((await rpc('system.heartbeat', { id: 'inst-1' }, { clientId: 'fleet' })).error, undefined)
  assert.is((await rpc('system.register', { id: 'other-0', roles: ['backend'] }, { clientId: 'other' })).error, undefined)
  // ~2,000 distinct roles registered; the decomposition carries a bounded list and answers
  const started = Date.now()
  const r = await rpc('task.decompose', { taskId: 't-lim', task: 'Add a login page' }, { clientId: 'fleet' })
  assert.is(r.error, undefined, JSON.stringify(r.error))
  assert.ok(Date.now() - started < 10_000)
  const requested = (await readAllEvents(t.config, 'decomposition')).map((e) => e.event).filter((e) => e.type === 'DecompositionRequested')
  const specialists = (requested.at(-1) as { specialists: string[] }).specialists
  assert.ok(specialists.length <= limits.specialistsPerDecomposition, `${specialists.length} specialists`)
  assert.ok(specialists.includes('general'))
})

test('a header block nats.js cannot read is answered -32600 invalid_headers with the request id, not -32603', async () => {
  // nats.js refuses to build such headers, so the request goes out as raw protocol on its own socket.
  const inbox = `_INBOX.badheaders${Date.now()}`
  const got: string[] = []
  const sub = t.client.subscribe(inbox, { callback: (_e, m) => void got.push(m.string()) })
  await t.client.flush()
  const url = new URL(t.config.natsUrl)
  const socket = createConnection(Number(url.port || 4222), url.hostname)
  await new Promise<void>((r) => socket.once('connect', () => r()))
  const body = JSON.stringify({ jsonrpc: '2.0', method: 'task.get_decomposition', params: { taskId: 't-none' }, id: 'hdr-1' })
  const hdr = 'NATS/1.0\r\nBad Header Name: x\r\n\r\n'
  const subject = `${t.config.rpcPrefix}.task.get_decomposition`
  socket.write(`CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\nHPUB ${subject} ${inbox} ${hdr.length} ${hdr.length + body.length}\r\n${hdr}${body}\r\nPING\r\n`)
  const until = Date.now() + 5000
  while (got.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
  socket.destroy()
  sub.unsubscribe()
  assert.is(got.length, 1, 'one reply')
  const reply = JSON.parse(got[0]!) as RpcReply
  assert.is(reply.id, 'hdr-1')
  assert.is(reply.error?.code, -32600)
  assert.is(data(reply)?.reason, 'invalid_headers')
})

test.run()
