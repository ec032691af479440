// The whole service in-process, driven over real NATS by a separate client connection.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Svcm } from '@nats-io/services'
import { call, callRaw } from '../../src/client/rpc-client.js'
import { darkModeRequest, eventually, startTestService } from '../helpers/env.js'
import type { TestService } from '../helpers/env.js'

let t: TestService
const rpc = (method: string, params: unknown, opts = {}) => call(t.client, t.config.rpcPrefix, method, params, opts)
const raw = (body: string, subject = `${t.config.rpcPrefix}.task.decompose`) => callRaw(t.client, subject, body)

test.before(async () => {
  t = await startTestService('service')
})
test.after(async () => {
  await t.dispose()
})

test('bad input of every kind gets the right code, naming the field, and the service keeps serving', async () => {
  const parse = await raw('{"jsonrpc":"2.0",')
  assert.is(JSON.parse(parse.text).error.code, -32700)
  assert.is(parse.headers['Nats-Service-Error-Code'], '-32700')

  const cases: [string, unknown, number, string | undefined][] = [
    ['task.decompose', { taskId: 't-1', task: 5 }, -32602, 'task'],
    ['task.decompose', { taskId: 't-1', task: 'x', priority: 101 }, -32602, 'priority'],
    ['task.decompose', { taskId: 't-1', task: 'x', priority: -3 }, -32602, 'priority'],
    ['task.decompose', { taskId: 't-1', task: 'x'.repeat(1001) }, -32602, 'task'],
    ['task.decompose', { taskId: 't-unknown', task: 'x' }, -32602, 'taskId'],
    ['task.decompose', { taskId: 't.1', task: 'x' }, -32602, 'taskId'],
    ['task.decompose', { taskId: 't*', task: 'x' }, -32602, 'taskId'],
    ['task.decompose', { taskId: 't>', task: 'x' }, -32602, 'taskId'],
    ['task.decompose', { taskId: 't 1', task: 'x' }, -32602, 'taskId'],
    ['task.decompose', { taskId: 't-1', task: 'x', constraints: 'one' }, -32602, 'constraints'],
  ]
  for (const [method, params, code, field] of cases) {
    const r = await rpc(method, params)
    assert.is(r.error?.code, code, `${JSON.stringify(params)} → ${JSON.stringify(r)}`)
    assert.is((r.error?.data as { field?: string })?.field, field, JSON.stringify(r.error))
  }
  const unknown = JSON.parse((await raw(JSON.stringify({ jsonrpc: '2.0', method: 'task.nope', id: 1 }), t.config.rpcPrefix)).text)
  assert.is(unknown.error.code, -32601)
  const notFound = await rpc('task.decompose', { taskId: 't-999999', task: 'x' })
  assert.is(notFound.error?.message, 'Task t-999999 not found')

  // still serving
  const ok = await rpc('task.create', { taskId: 't-alive', title: 'still here' })
  assert.is((ok.result as { taskId: string }).taskId, 't-alive')
})

test('create, decompose, get: the spec result shape, persisted before the reply', async () => {
  await rpc('task.create', { taskId: 't-123456', title: 'Dark mode' })
  const r = await rpc('task.decompose', darkModeRequest)
  assert.is(r.error, undefined, JSON.stringify(r.error))
  const result = r.result as { taskId: string; subtaskCount: number; attachmentKey: string; decomposition: { subtasks: { id: string; rationale: string }[]; architecturalConsiderations: string[] } }
  assert.is(result.taskId, 't-123456')
  assert.is(result.subtaskCount, 4)
  assert.match(result.attachmentKey, /^decomposition_\d+$/)
  const ts = result.attachmentKey.slice('decomposition_'.length)
  result.decomposition.subtasks.forEach((s, i) => assert.is(s.id, `st-${ts}-${i + 1}`))
  assert.ok(result.decomposition.subtasks.every((s) => s.rationale.length > 0))
  // read-your-writes: the attachment exists the moment the reply arrives
  const att = await rpc('task.get_attachment', { taskId: 't-123456', key: result.attachmentKey })
  assert.is((att.result as { value: { subtaskCount: number } }).value.subtaskCount, 4)
  const got = await rpc('task.get_decomposition', { taskId: 't-123456' })
  assert.equal((got.result as { decomposition: unknown }).decomposition, result.decomposition)
})

test('task.* events are published only once what they announce can be read', async () => {
  // Checked the moment each message arrives: a subscriber that reacts at once must find the
  // subtask queued, the task hash written, the attachment row present.
  const checks: Promise<string | undefined>[] = []
  const sub = t.client.subscribe(`${t.config.publishPrefix}.task.>`, {
    callback: (_e, m) => {
      const body = m.json<{ type: string; payload: Record<string, string> }>()
      const p = body.payload
      if (body.type === 'task.subtask.ready') {
        checks.push(t.redis.zscore(`${t.config.redisPrefix}queue:specialist:${p.specialist}`, p.subtaskId!).then((score) => (score === null ? `${p.subtaskId} not queued` : undefined)))
      } else if (body.type === 'task.created') {
        checks.push(t.redis.exists(`${t.config.redisPrefix}task:${p.taskId}`).then((n) => (n === 0 ? `task ${p.taskId} not in Redis` : undefined)))
      } else if (body.type === 'task.attachment_created') {
        checks.push(rpc('task.get_attachment', { taskId: p.taskId, key: p.key }).then((r) => (r.error ? `attachment ${p.key} not readable` : undefined)))
      }
    },
  })
  await t.client.flush()
  const ids = Array.from({ length: 8 }, (_, i) => `t-order-${i}`)
  await Promise.all(ids.map((taskId) => rpc('task.create', { taskId, title: 'order' })))
  await Promise.all(ids.map((taskId) => rpc('task.create_attachment', { taskId, key: 'notes', type: 'text', value: 'x' })))
  await Promise.all(ids.map((taskId) => rpc('task.decompose', { ...darkModeRequest, taskId })))
  await eventually(async () => (checks.length >= 8 + 8 + 16 ? true : undefined), 5000, 'published events')
  sub.unsubscribe()
  assert.equal((await Promise.all(checks)).filter(Boolean), [])
})

test('subtask ids are unique across decompositions made at the same moment', async () => {
  await rpc('task.create', { taskId: 't-burst', title: 'burst' })
  const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => rpc('task.decompose', { taskId: 't-burst', task: `Build report ${i} page` })))
  const ids = replies.flatMap((r) => (r.result as { decomposition: { subtasks: { id: string }[] } }).decomposition.subtasks.map((s) => s.id))
  assert.is(new Set(ids).size, ids.length)
})

test('the same Idempotency-Key returns the same decomposition; no second one is made', async () => {
  await rpc('task.create', { taskId: 't-idem', title: 'idem' })
  const params = { taskId: 't-idem', task: 'Add CSV export to the reports page' }
  const keyed = { clientId: 'app-idem', idempotencyKey: 'k-1' }
  const [a, b] = await Promise.all([rpc('task.decompose', params, keyed), rpc('task.decompose', params, keyed)])
  const c = await rpc('task.decompose', params, keyed)
  const key = (r: typeof a) => (r.result as { attachmentKey: string }).attachmentKey
  assert.is(key(a), key(b))
  assert.is(key(a), key(c))
  const list = await rpc('task.list_attachments', { taskId: 't-idem' })
  assert.is((list.result as { totalCount: number }).totalCount, 1)
  // The same key with another request is refused, naming the header: never the first request's plan.
  const other = await rpc('task.decompose', { ...params, task: 'Add XML export instead' }, keyed)
  assert.is(other.error?.code, -32602)
  assert.is((other.error?.data as { field?: string }).field, 'Idempotency-Key')
  // A key from a caller with no identity at all (no Client-Id, no session) would share one scope
  // with every other such caller: refused.
  const anonymous = await rpc('task.decompose', params, { idempotencyKey: 'k-1' })
  assert.is(anonymous.error?.code, -32602)
  assert.is((anonymous.error?.data as { field?: string }).field, 'Idempotency-Key')
})

test('without a key, the same request retried inside the duplicate window joins the first; other params do not', async () => {
  await rpc('task.create', { taskId: 't-retry', title: 'retry' })
  const params = { taskId: 't-retry', task: 'Add PDF export to the reports page', constraints: ['Keep it small'] }
  const [a, b] = await Promise.all([rpc('task.decompose', params, { clientId: 'app-1' }), rpc('task.decompose', params, { clientId: 'app-1' })])
  const c = await rpc('task.decompose', params, { clientId: 'app-1' })
  const key = (r: typeof a) => (r.result as { attachmentKey: string }).attachmentKey
  assert.is(key(a), key(b))
  assert.is(key(a), key(c))
  // A different client, or different constraints, is a new decomposition.
  const otherClient = await rpc('task.decompose', params, { clientId: 'app-2' })
  const otherParams = await rpc('task.decompose', { ...params, constraints: ['Keep it tiny'] }, { clientId: 'app-1' })
  assert.is.not(key(otherClient), key(a))
  assert.is.not(key(otherParams), key(a))
  assert.is.not(key(otherParams), key(otherClient))
  const list = await rpc('task.list_attachments', { taskId: 't-retry' })
  assert.is((list.result as { totalCount: number }).totalCount, 3)
})

test('task.create: an existing id with other content conflicts; the same request retried succeeds', async () => {
  const first = await rpc('task.create', { taskId: 't-dup', title: 'one' })
  const retry = await rpc('task.create', { taskId: 't-dup', title: 'one' })
  assert.equal(retry.result, first.result)
  const other = await rpc('task.create', { taskId: 't-dup', title: 'two' })
  assert.is(other.error?.code, -32602)
  assert.match(other.error!.message, /already exists/)
})

test('attachments: create, read back at once, conflict on a taken key, list with type filter and paging', async () => {
  await rpc('task.create', { taskId: 't-att', title: 'attachments' })
  for (let i = 0; i < 5; i++) {
    const r = await rpc('task.create_attachment', { taskId: 't-att', key: `note-${i}`, type: i % 2 ? 'text' : 'json', value: { i } })
    assert.is(r.error, undefined, JSON.stringify(r.error))
  }
  const got = await rpc('task.get_attachment', { taskId: 't-att', key: 'note-3' })
  assert.equal((got.result as { value: unknown }).value, { i: 3 })
  const taken = await rpc('task.create_attachment', { taskId: 't-att', key: 'note-3', value: 'other' })
  assert.is(taken.error?.code, -32602)
  assert.is((taken.error?.data as { field: string }).field, 'key')
  const reserved = await rpc('task.create_attachment', { taskId: 't-att', key: 'decomposition_1', value: 1 })
  assert.is((reserved.error?.data as { field: string }).field, 'key')
  const missing = await rpc('task.get_attachment', { taskId: 't-att', key: 'nope' })
  assert.is(missing.error?.code, -32602)

  // projections are asynchronous: wait until all five rows are listed
  let page: { attachments: { key: string }[]; totalCount: number; hasMore: boolean } | undefined
  for (let i = 0; i < 100; i++) {
    page = (await rpc('task.list_attachments', { taskId: 't-att', limit: 2, offset: 0 })).result as typeof page
    if (page!.totalCount === 5) break
    await new Promise((r) => setTimeout(r, 20))
  }
  assert.is(page!.totalCount, 5)
  assert.is(page!.attachments.length, 2)
  assert.is(page!.hasMore, true)
  const last = (await rpc('task.list_attachments', { taskId: 't-att', limit: 2, offset: 4 })).result as NonNullable<typeof page>
  assert.is(last.attachments.length, 1)
  assert.is(last.hasMore, false)
  const texts = (await rpc('task.list_attachments', { taskId: 't-att', type: 'text' })).result as NonNullable<typeof page>
  assert.equal(
    texts.attachments.map((a) => a.key),
    ['note-1', 'note-3'],
  )
  const badPage = await rpc('task.list_attachments', { taskId: 't-att', limit: 0 })
  assert.is((badPage.error?.data as { field: string }).field, 'limit')
})

test('the generic subject takes batches; swarm.decompose is an alias of task.decompose', async () => {
  await rpc('task.create', { taskId: 't-batch', title: 'batch' })
  const body = JSON.stringify([
    { jsonrpc: '2.0', method: 'swarm.decompose', params: { taskId: 't-batch', task: 'Write unit tests for the billing module' }, id: 'a' },
    { jsonrpc: '2.0', method: 'task.get_attachment', params: { taskId: 't-batch', key: 'none' }, id: 'b' },
    { jsonrpc: '2.0', method: 'task.create', params: { title: 'notification, no reply' } },
  ])
  const replies = JSON.parse((await raw(body, t.config.rpcPrefix)).text) as { id: string; result?: { subtaskCount: number }; error?: { code: number } }[]
  assert.is(replies.length, 2)
  assert.ok(replies.find((r) => r.id === 'a')!.result!.subtaskCount >= 2)
  assert.is(replies.find((r) => r.id === 'b')!.error!.code, -32602)
})

test('registered with the NATS Services API under the service name', async () => {
  const client = new Svcm(t.client).client()
  const infos = []
  for await (const info of await client.info(t.config.serviceName)) infos.push(info)
  const mine = infos.find((i) => i.metadata?.instance === t.config.instanceId)
  assert.ok(mine, 'this instance answers $SRV.INFO')
  assert.ok(mine!.endpoints.some((e) => e.subject === `${t.config.rpcPrefix}.task.decompose`))
  assert.ok(mine!.endpoints.some((e) => e.subject === t.config.rpcPrefix))
})

test.run()
