// Issue #12 on the real services: replies and events never exceed max_payload (they are paged or
// refused with -32602, never dropped), a request too big for its events is refused before anything
// is appended, a Sampled event too big for the log becomes a recorded failure instead of an endless
// retry, and the planner's invalid plans do not open the breaker for everyone.
import { suite, test } from 'uvu'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as assert from 'uvu/assert'
import { jetstreamManager } from '@nats-io/jetstream'
import { call, callRaw } from '../../src/client/rpc-client.js'
import type { CallOptions } from '../../src/client/rpc-client.js'
import { eventually, readAllEvents, startTestService } from '../helpers/env.js'
import { freePort } from '../helpers/private-services.js'
import type { TestService } from '../helpers/env.js'
import { heuristicSampler } from '../../src/sampling/heuristic.js'
import type { Sampler } from '../../src/sampling/sampler.js'
import type { DecompositionRequested } from '../../src/domain/events.js'
import { defaultSpecialists } from '../../src/domain/specialists.js'
import { jsonBytes } from '../../src/domain/event-size.js'
import { insertAttachments } from '../../src/store/postgres.js'
import { PayloadTooLargeError } from '../../src/errors.js'

/** The 658-character task of the issue (see test/unit/heuristic-planner.test.ts). */
const task658 =
  'Build a customer analytics dashboard page with a responsive chart widget, sortable data table, date range picker, saved filter presets, CSV export button, keyboard navigation, accessible colour palette, loading skeletons, empty states, pagination controls, column visibility toggles, sticky table headers, inline row editing, bulk selection checkboxes, undo and redo support, optimistic updates, live refresh with websockets, per-user layout preferences, drag and drop widget arrangement, print friendly styles, dark and light themes, localisation of numbers and dates, tooltips with detailed breakdowns, drill-down navigation and shareable deep links for us'

// The heuristic planner, except that it can be told to answer invalid plans (as the planner did for
// the 658-character task): a non-model sampler, so no repair round.
let invalidPlansLeft = 0
const sampler: Sampler = {
  name: 'heuristic',
  repairable: false,
  async sample(req, signal) {
    if (invalidPlansLeft <= 0) return heuristicSampler.sample(req, signal)
    invalidPlansLeft--
    const output = { subtasks: [{ id: '1', description: 'x', specialist: 'general', dependencies: [], complexity: 5, estimatedMinutes: 10, context: { files: ['f'.repeat(600)] }, rationale: '' }], reasoning: '' }
    return { output, offline: true }
  },
}

let t: TestService
let maxPayload = 0
const rpc = (method: string, params: unknown, opts: CallOptions = {}) => call(t.client, t.config.rpcPrefix, method, params, { timeoutMs: 10_000, ...opts })

test.before(async () => {
  t = await startTestService('payload', { breakerThreshold: 3, breakerResetMs: 60_000 }, { sampler })
  maxPayload = t.client.info!.max_payload
  await rpc('task.create', { taskId: 't-pl', title: 'payload limits' })
})
test.after(async () => {
  await t.dispose()
})

test('the 658-character task of the issue is planned', async () => {
  assert.is(task658.length, 658)
  const r = await rpc('task.decompose', { taskId: 't-pl', task: task658 })
  assert.is(r.error, undefined, JSON.stringify(r.error))
  assert.ok((r.result as { subtaskCount: number }).subtaskCount >= 2)
})

test('three invalid plans from the offline planner fail their requests but leave the breaker closed', async () => {
  invalidPlansLeft = 3
  for (let i = 0; i < 3; i++) {
    const r = await rpc('task.decompose', { taskId: 't-pl', task: `Add a search box to header ${i}` })
    assert.is(r.error?.code, -32603, JSON.stringify(r))
    assert.ok(Array.isArray((r.error!.data as { issues?: unknown[] }).issues), JSON.stringify(r.error))
  }
  const next = await rpc('task.decompose', { taskId: 't-pl', task: 'Add a search box to the footer' })
  assert.is(next.error, undefined, JSON.stringify(next.error))
  const result = next.result as { subtaskCount: number; attachmentKey: string | null }
  assert.ok(result.subtaskCount > 0, 'a real plan, not the open-circuit fallback')
  assert.ok(result.attachmentKey)
})

test('an append over max_payload is a client error (-32602), not "Event log unavailable"', async () => {
  const store = t.service.connections.store
  const event = { type: 'TaskCreated', v: 1, taskId: 't-big', title: 'big', description: '', priority: 50, metadata: { blob: 'm'.repeat(maxPayload) }, createdBy: 'x', createdAt: 1 } as const
  try {
    await store.append(store.taskSubject('t-big'), event, { msgId: 'task:t-big', expectedLastSeq: 0 })
    assert.unreachable('append should have failed')
  } catch (err) {
    assert.instance(err, PayloadTooLargeError)
    assert.is((err as PayloadTooLargeError).code, -32602)
  }
})

test('list_attachments pages ~200 KB attachments under max_payload; every one is listed', async () => {
  await rpc('task.create', { taskId: 't-many', title: 'many attachments' })
  const keys = Array.from({ length: 12 }, (_, i) => `a-${i}`)
  for (const key of keys) {
    const r = await rpc('task.create_attachment', { taskId: 't-many', key, type: 'text', value: `${key}:${'x'.repeat(200_000)}` })
    assert.is(r.error, undefined, JSON.stringify(r.error))
  }
  await eventually(async () => {
    const r = await rpc('task.list_attachments', { taskId: 't-many', limit: 1 })
    return (r.result as { totalCount: number }).totalCount === 12 ? true : undefined
  }, 10_000, 'attachments projected')
  const listed: string[] = []
  let pages = 0
  for (let offset = 0, more = true; more; pages++) {
    const body = JSON.stringify({ jsonrpc: '2.0', method: 'task.list_attachments', params: { taskId: 't-many', offset }, id: pages })
    const { text } = await callRaw(t.client, `${t.config.rpcPrefix}.task.list_attachments`, body, { timeoutMs: 5000 })
    assert.ok(Buffer.byteLength(text) <= maxPayload)
    const page = JSON.parse(text).result as { attachments: { key: string }[]; totalCount: number; hasMore: boolean; nextOffset: number; limit: number }
    assert.is(page.totalCount, 12)
    assert.is(page.limit, 50)
    assert.ok(page.attachments.length > 0)
    listed.push(...page.attachments.map((a) => a.key))
    assert.is(page.nextOffset, offset + page.attachments.length)
    more = page.hasMore
    offset = page.nextOffset
    assert.ok(pages < 12, 'paging ends')
  }
  assert.ok(pages > 1, 'more than one page')
  assert.equal(listed.sort(), [...keys].sort())
})

test('an attachment too large for any reply is refused -32602 reply_too_large, and listing can skip it', async () => {
  // Only a row stored before the size checks can be this large: write it straight to Postgres.
  await rpc('task.create', { taskId: 't-huge', title: 'huge attachment' })
  const db = t.service.connections.db
  await insertAttachments(db, [
    { taskId: 't-huge', key: 'huge', type: 'text', value: 'h'.repeat(maxPayload), createdBy: 'old', createdAt: new Date(1000), eventSeq: 1 },
    { taskId: 't-huge', key: 'small', type: 'text', value: 's', createdBy: 'old', createdAt: new Date(2000), eventSeq: 2 },
  ])
  const got = await rpc('task.get_attachment', { taskId: 't-huge', key: 'huge' }, { timeoutMs: 5000 })
  assert.is(got.error?.code, -32602, JSON.stringify(got).slice(0, 300))
  assert.is((got.error!.data as { reason?: string }).reason, 'reply_too_large')
  const list = await rpc('task.list_attachments', { taskId: 't-huge' }, { timeoutMs: 5000 })
  assert.is(list.error?.code, -32602, JSON.stringify(list).slice(0, 300))
  const data = list.error!.data as { reason: string; key: string; nextOffset: number }
  assert.is(data.reason, 'reply_too_large')
  assert.is(data.key, 'huge')
  const rest = await rpc('task.list_attachments', { taskId: 't-huge', offset: data.nextOffset }, { timeoutMs: 5000 })
  assert.equal((rest.result as { attachments: { key: string }[] }).attachments.map((a) => a.key), ['small'])
})

test('a Sampled event too big for the log is recorded as a failure (-32602 metadata), not retried for ever', async () => {
  // A Requested event the RPC would now refuse (one logged before the check): appended directly.
  const store = t.service.connections.store
  const requested: DecompositionRequested = {
    type: 'DecompositionRequested',
    v: 1,
    decompositionId: 'd-too-big-sampled',
    taskId: 't-pl',
    task: 'Add dark mode toggle to settings page',
    priority: 50,
    constraints: ['Use React hooks', 'Follow atomic design pattern', 'Ensure mobile responsiveness'],
    sessionId: 's-big',
    clientId: 'c-big',
    metadata: { blob: 'm'.repeat(maxPayload - 1200) },
    specialists: [...defaultSpecialists],
    requestedBy: 'test',
    requestedAt: Date.now(),
  }
  assert.ok(jsonBytes(requested) + 300 < maxPayload, 'the Requested event fits with its headers')
  await store.append(store.decompositionSubject(requested.decompositionId, 'requested'), requested, { msgId: 'requested:d-too-big-sampled', expectedLastSeq: 0 })
  const outcome = await eventually(async () => {
    const events = await readAllEvents(t.config, 'decomposition')
    return events.find((e) => 'decompositionId' in e.event && e.event.decompositionId === requested.decompositionId && e.subject.endsWith('.outcome'))?.event
  }, 10_000, 'the outcome of the oversized decomposition')
  assert.is(outcome.type, 'DecompositionFailed')
  if (outcome.type !== 'DecompositionFailed') return
  assert.is(outcome.error.code, -32602)
  assert.is((outcome.error.data as { field?: string }).field, 'metadata')
})

test.run()

// On a server with a small max_payload (48 KiB, a deployment choice), the admission limits of
// rpc/limits.ts no longer keep events under it: the size checks against the largest event are what
// refuses such requests, -32602 naming the param, before anything is appended.
const small = suite('small max_payload')
let s: TestService
let server: { child: ChildProcess; dir: string } | undefined
const smallPayload = 48 * 1024
const smallRpc = (method: string, params: unknown) => call(s.client, s.config.rpcPrefix, method, params, { timeoutMs: 10_000 })
const smallStreamMessages = async () => (await (await jetstreamManager(s.client)).streams.info(s.config.streamName)).state.messages

small.before(async () => {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'decomposer-small-nats-'))
  writeFileSync(join(dir, 'nats.conf'), `listen: 127.0.0.1:${port}\nmax_payload: ${smallPayload}\njetstream { store_dir: "${dir}" }\n`)
  server = { child: spawn('nats-server', ['-c', join(dir, 'nats.conf')], { stdio: 'ignore' }), dir }
  const natsUrl = `nats://127.0.0.1:${port}`
  s = await eventually(() => startTestService('smallpayload', { natsUrl }).catch(() => undefined), 10_000, 'service on the private nats-server')
  assert.is(s.client.info!.max_payload, smallPayload)
  await smallRpc('task.create', { taskId: 't-small', title: 'small max_payload' })
})
small.after(async () => {
  await s?.dispose()
  if (server) {
    const { child, dir } = server
    await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGKILL'))))
    rmSync(dir, { recursive: true, force: true })
  }
})

small('an ordinary decomposition still fits', async () => {
  const r = await smallRpc('task.decompose', { taskId: 't-small', task: 'Add dark mode toggle to settings page', constraints: ['Use React hooks'] })
  assert.is(r.error, undefined, JSON.stringify(r.error))
  // The reply comes once it is persisted; its release is appended just after. Let it land, so the
  // next tests' "nothing appended" counts only what they cause.
  await eventually(async () => ((await readAllEvents(s.config, 'decomposition')).some((e) => e.event.type === 'SubtasksReleased') ? true : undefined), 10_000, 'release')
})

small('metadata that would make the Sampled event too big is refused -32602 before anything is appended', async () => {
  const before = await smallStreamMessages()
  const metadata = { blob: 'm'.repeat(15_000) } // under the 16 KiB admission limit; the request and its Requested event fit
  const r = await smallRpc('task.decompose', { taskId: 't-small', task: 'Add dark mode toggle to settings page', metadata })
  assert.is(r.error?.code, -32602, JSON.stringify(r).slice(0, 300))
  assert.is((r.error!.data as { field?: string }).field, 'metadata')
  assert.is((r.error!.data as { reason?: string }).reason, 'too_large')
  assert.is(await smallStreamMessages(), before)
})

small('requests just under max_payload whose events would be over it answer -32602, not -32000', async () => {
  const before = await smallStreamMessages()
  const constraints = (last: number) => [...Array.from({ length: 49 }, (_, i) => `${i} ${'c'.repeat(990)}`), 'c'.repeat(last)]
  const body = (last: number) => JSON.stringify({ jsonrpc: '2.0', method: 'task.decompose', params: { taskId: 't-small', task: 'Add a toggle', constraints: constraints(last) }, id: 1 })
  const last = smallPayload - 64 - body(0).length
  assert.ok(last > 0 && last <= 1000)
  const reply = JSON.parse((await callRaw(s.client, `${s.config.rpcPrefix}.task.decompose`, body(last), { timeoutMs: 10_000 })).text)
  assert.is(reply.error?.code, -32602, JSON.stringify(reply).slice(0, 300))
  assert.is(reply.error.data.field, 'constraints')
  const attachment = await smallRpc('task.create_attachment', { taskId: 't-small', key: 'big', value: 'v'.repeat(smallPayload - 152) })
  assert.is(attachment.error?.code, -32602, JSON.stringify(attachment).slice(0, 300))
  assert.is((attachment.error!.data as { field?: string }).field, 'value')
  assert.is(await smallStreamMessages(), before)
})

small.run()
