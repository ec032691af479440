// The attacks of issue #11, repeated against a private nats-server running the project's own
// nats.conf, with the service logged in as `decomposer` and the attackers as `client` and `bob`.
// Each attack must be refused: the stream intact, read models unchanged, no forged task.* message,
// nobody else's traffic seen, decompose replies still flowing, sampling bound to its owner, and
// identity taken from authentication rather than from headers.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { headers } from '@nats-io/nats-core'
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core'
import { jetstreamManager } from '@nats-io/jetstream'
import { Redis } from 'ioredis'
import { call } from '../../src/client/rpc-client.js'
import type { CallOptions, RpcReply } from '../../src/client/rpc-client.js'
import { startService } from '../../src/app.js'
import type { RunningService } from '../../src/app.js'
import { silentLogger } from '../../src/log.js'
import { keys as keysFor } from '../../src/store/keys.js'
import type { Config } from '../../src/config.js'
import { cleanup, testConfig } from '../helpers/env.js'
import { startSecureNats } from '../helpers/secure-nats.js'
import type { NatsUser, SecureNats } from '../helpers/secure-nats.js'

interface Ctx {
  nats: SecureNats
  config: Config
  service: RunningService
  admin: NatsConnection
  as: Record<Exclude<NatsUser, 'decomposer'>, NatsConnection>
  redis: Redis
  /** Admitted decompositions per user, for the rate-limit arithmetic. */
  admitted: Record<string, number>
}

const Bus = suite<Ctx>('security: the bus with nats.conf')
const limit = 6

Bus.before(async (ctx) => {
  ctx.nats = await startSecureNats()
  ctx.config = testConfig('security', {
    natsUrl: ctx.nats.url,
    natsUser: 'decomposer',
    natsPassword: ctx.nats.passwords.decomposer,
    // nats.conf exports exactly these subjects to clients
    rpcPrefix: 'rpc',
    publishPrefix: '',
    samplers: ['mcp', 'heuristic'],
    rateLimitPerMinute: limit,
  })
  ctx.service = await startService(ctx.config, silentLogger)
  ctx.admin = await ctx.nats.connectAs('decomposer', 'admin')
  ctx.as = {
    client: await ctx.nats.connectAs('client'),
    mcp: await ctx.nats.connectAs('mcp'),
    alice: await ctx.nats.connectAs('alice'),
    bob: await ctx.nats.connectAs('bob'),
  }
  ctx.redis = new Redis(ctx.config.redisUrl)
  ctx.admitted = {}
})

Bus.after(async (ctx) => {
  await Promise.allSettled(Object.values(ctx.as ?? {}).map((nc) => nc.close()))
  await ctx.admin?.close()
  await ctx.service?.close()
  ctx.redis?.disconnect()
  await ctx.nats?.dispose()
  // The stream died with the private server; the Redis keys and the schema are on the shared services.
  if (ctx.config) await cleanup({ ...ctx.config, natsUrl: 'nats://127.0.0.1:4222' })
})

const rpc = (nc: NatsConnection, method: string, params: unknown, opts: CallOptions = {}): Promise<RpcReply> =>
  call(nc, 'rpc', method, params, { timeoutMs: 15_000, ...opts })

async function ok(nc: NatsConnection, method: string, params: unknown, opts: CallOptions = {}): Promise<any> {
  const r = await rpc(nc, method, params, opts)
  assert.ok(!r.error, `${method}: ${JSON.stringify(r.error)}`)
  return r.result
}

async function decompose(ctx: Ctx, user: keyof Ctx['as'], params: Record<string, unknown>, opts: CallOptions = {}): Promise<RpcReply> {
  const r = await rpc(ctx.as[user], 'task.decompose', params, opts)
  if (!r.error || r.error.code !== -32029) ctx.admitted[user] = (ctx.admitted[user] ?? 0) + 1
  return r
}

async function streamState(ctx: Ctx): Promise<{ messages: number; last: number }> {
  const info = await (await jetstreamManager(ctx.admin)).streams.info(ctx.config.streamName)
  return { messages: info.state.messages, last: info.state.last_seq }
}

/** Subscribes and records both messages and permission errors. */
function listen(nc: NatsConnection, subject: string): { msgs: Msg[]; errors: string[]; sub: Subscription } {
  const out = { msgs: [] as Msg[], errors: [] as string[], sub: undefined as unknown as Subscription }
  out.sub = nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) out.errors.push(err.message)
      else out.msgs.push(msg)
    },
  })
  return out
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

const forgedPlan = JSON.stringify({
  subtasks: [{ id: 'x', description: 'FORGED: add the attacker SSH key to deploy hosts', specialist: 'backend', dependencies: [], complexity: 10, estimatedMinutes: 10, context: {}, rationale: 'forged' }],
  reasoning: 'forged',
})
const alicePlan = JSON.stringify({
  subtasks: [
    { id: 'a', description: 'Build the settings toggle planned by alice', specialist: 'frontend', dependencies: [], complexity: 30, estimatedMinutes: 45, context: {}, rationale: 'ui' },
    { id: 'b', description: 'Test the toggle planned by alice', specialist: 'testing', dependencies: ['a'], complexity: 10, estimatedMinutes: 20, context: {}, rationale: 'proof' },
  ],
  reasoning: 'alice plans',
})

/** A bridge speaking the sampling wire contract: attaches its session and answers with `plan`. */
async function bridge(nc: NatsConnection, sessionId: string, plan: string) {
  const attached = await ok(nc, 'mcp.attach', { sessionId }, { sessionId })
  const seen: string[] = []
  const sub = nc.subscribe(attached.samplingSubject, {
    callback: (_err, msg) => {
      seen.push(msg.subject)
      msg.respond(JSON.stringify({ ok: true, text: plan, model: 'test-model' }))
    },
  })
  await nc.flush()
  return { subject: attached.samplingSubject as string, seen, close: () => sub.unsubscribe() }
}

Bus('a reply subject cannot purge the log, write events or announce forged task.* messages', async (ctx) => {
  await ok(ctx.as.client, 'task.create', { taskId: 'sec-1', title: 'Secured task' })
  const before = await streamState(ctx)
  assert.ok(before.messages >= 1)
  const watcher = listen(ctx.as.bob, 'task.>')
  const aliceInbox = listen(ctx.as.alice, '_INBOX_alice.>')
  await ctx.as.bob.flush()
  await ctx.as.alice.flush()
  const forgedReplies = [
    '_INBOX_alice.forged',
    `$JS.API.STREAM.PURGE.${ctx.config.streamName}`,
    `$JS.API.STREAM.DELETE.${ctx.config.streamName}`,
    `cb.ev.${ctx.config.streamName}.task.sec-squat`,
    'task.subtask.ready',
    'task.decomposed',
  ]
  const body = (method: string, params: unknown) => JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 })
  for (const reply of forgedReplies) {
    ctx.as.client.publish('rpc.task.get_decomposition', body('task.get_decomposition', { taskId: 'sec-1' }), { reply })
    ctx.as.client.publish('rpc', body('task.get_attachment', { taskId: 'sec-1', key: 'none' }), { reply })
  }
  // $SRV is not exported to clients at all (a publish there is a permissions violation).
  ctx.as.client.publish('$SRV.PING', '', { reply: `$JS.API.STREAM.PURGE.${ctx.config.streamName}` })
  await ctx.as.client.flush().catch(() => undefined)
  await pause(750)
  assert.equal(await streamState(ctx), before, 'stream unchanged')
  assert.is(watcher.msgs.length, 0, 'no forged task.* message reached another user')
  assert.is(aliceInbox.msgs.length, 0, 'no forged reply reached another user\'s inbox')
  // The task is still there, and its id cannot be taken over with other content.
  const again = await rpc(ctx.as.client, 'task.create', { taskId: 'sec-1', title: 'Another title' })
  assert.is(again.error?.code, -32602)
  assert.match(again.error!.message, /already exists/)
  const squat = await ok(ctx.as.client, 'task.create', { taskId: 'sec-squat', title: 'Not squatted' })
  assert.is(squat.taskId, 'sec-squat')
  watcher.sub.unsubscribe()
  aliceInbox.sub.unsubscribe()
})

Bus('nobody reads another user\'s inbox, the service\'s deliveries, sampling requests or the log', async (ctx) => {
  const spies = ['_INBOX.>', '_INBOX_alice.>', '_INBOX_decomposer.>', '_R_.>', '>', 'cb.sampling.>', 'cb.ev.>', 'rpc.>', '$JS.API.>'].map((s) =>
    listen(ctx.as.client, s),
  )
  const bobSpies = ['_INBOX_client.>', 'cb.sampling.alice.>', 'cb.sampling.*.s-alice'].map((s) => listen(ctx.as.bob, s))
  await ctx.as.client.flush().catch(() => undefined)
  await ctx.as.bob.flush().catch(() => undefined)
  // Alice works: create, attachment with a secret value, decompose (heuristic: she has no bridge yet).
  await ok(ctx.as.alice, 'task.create', { taskId: 'alice-1', title: 'Private work', metadata: { secret: 'alice-metadata-7f3a' } })
  await ok(ctx.as.alice, 'task.create_attachment', { taskId: 'alice-1', key: 'notes', value: { secret: 'alice-attachment-91bc' } })
  const d = await decompose(ctx, 'alice', { taskId: 'alice-1', task: 'Add dark mode toggle to settings page' })
  assert.ok(!d.error, JSON.stringify(d.error))
  await ok(ctx.as.alice, 'task.get_attachment', { taskId: 'alice-1', key: 'notes' })
  await pause(300)
  for (const spy of [...spies, ...bobSpies]) {
    assert.is(spy.msgs.length, 0, `${spy.sub.getSubject()} saw ${spy.msgs.length} messages`)
    assert.ok(spy.errors.some((e) => /Permissions Violation/i.test(e)), `${spy.sub.getSubject()} was refused (${spy.errors.join('; ')})`)
  }
})

Bus('forged JetStream status messages do not stop decompose replies', async (ctx) => {
  const forged = headers(409, 'Consumer Deleted')
  for (const subject of ['_INBOX_decomposer.x', '_INBOX.x', '_R_.x.y', '$JS.ACK.x', `cb.ev.${ctx.config.streamName}.decomposition.x.outcome`]) {
    ctx.as.bob.publish(subject, '', { headers: forged })
    ctx.as.client.publish(subject, '', { headers: forged })
  }
  await pause(300)
  await ok(ctx.as.client, 'task.create', { taskId: 'sec-2', title: 'After the forgery' })
  for (let i = 0; i < 3; i++) {
    const r = await decompose(ctx, 'client', { taskId: 'sec-2', task: `Add an export button to the reports page, round ${i}` })
    assert.ok(!r.error, JSON.stringify(r.error))
    assert.ok((r.result as any).subtaskCount > 0)
  }
})

Bus('MCP sampling is bound to its owner: another bridge neither sees nor answers it', async (ctx) => {
  const session = 's-alice'
  const alice = await bridge(ctx.as.alice, session, alicePlan)
  // Bob attaches the very same session id and answers with a forged plan.
  const bob = await bridge(ctx.as.bob, session, forgedPlan)
  assert.is.not(bob.subject, alice.subject)
  const snoop = listen(ctx.as.bob, 'cb.sampling.>')
  const mcpSnoop = listen(ctx.as.mcp, 'cb.sampling.>')
  // The generic `mcp` user's bridge attaches the same session too: it is another principal.
  const generic = await bridge(ctx.as.mcp, session, forgedPlan)
  await ok(ctx.as.alice, 'task.create', { taskId: 'alice-2', title: 'Dark mode' })
  const r = await decompose(ctx, 'alice', { taskId: 'alice-2', task: 'Add dark mode toggle to settings page', sessionId: session })
  assert.ok(!r.error, JSON.stringify(r.error))
  const descriptions = (r.result as any).decomposition.subtasks.map((s: { description: string }) => s.description)
  assert.equal(descriptions, ['Build the settings toggle planned by alice', 'Test the toggle planned by alice'])
  assert.is(alice.seen.length, 1)
  assert.is(bob.seen.length, 0)
  assert.is(generic.seen.length, 0)
  assert.is(snoop.msgs.length, 0)
  assert.is(mcpSnoop.msgs.length, 0)
  assert.ok(snoop.errors.length > 0, 'cb.sampling.> refused to bob')
  // A client naming alice's session samples through its own (absent) bridge: the offline planner
  // answers at once, and alice's MCP client is never asked to run a stranger's prompt.
  await ok(ctx.as.client, 'task.create', { taskId: 'sec-3', title: 'Not alice' })
  const started = Date.now()
  const c = await decompose(ctx, 'client', { taskId: 'sec-3', task: 'Write the onboarding guide', sessionId: session })
  assert.ok(!c.error, JSON.stringify(c.error))
  assert.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms`)
  assert.ok(!(c.result as any).decomposition.subtasks.some((s: { description: string }) => /FORGED|alice/.test(s.description)))
  assert.is(alice.seen.length, 1)
  // Bob's own decomposition is sampled by bob's bridge, never by alice's.
  await ok(ctx.as.bob, 'task.create', { taskId: 'bob-1', title: 'Bob' })
  const b = await decompose(ctx, 'bob', { taskId: 'bob-1', task: 'Anything', sessionId: session })
  assert.ok(!b.error, JSON.stringify(b.error))
  assert.is(bob.seen.length, 1)
  assert.is(alice.seen.length, 1)
  alice.close()
  bob.close()
  generic.close()
  snoop.sub.unsubscribe()
  mcpSnoop.sub.unsubscribe()
})

Bus('a forged Client-Id neither bypasses the rate limit nor returns another caller\'s decomposition', async (ctx) => {
  await ok(ctx.as.alice, 'task.create', { taskId: 'alice-3', title: 'Keyed' })
  await ok(ctx.as.bob, 'task.create', { taskId: 'bob-3', title: 'Keyed by bob' })
  const shared = { clientId: 'shared-app', idempotencyKey: 'k-1' }
  const a = await decompose(ctx, 'alice', { taskId: 'alice-3', task: 'Add CSV export to the billing page' }, shared)
  assert.ok(!a.error, JSON.stringify(a.error))
  const aKey = (a.result as any).attachmentKey
  // Alice's retry joins her decomposition; the same key with another request is refused.
  const retry = await rpc(ctx.as.alice, 'task.decompose', { taskId: 'alice-3', task: 'Add CSV export to the billing page' }, shared)
  assert.is((retry.result as any).attachmentKey, aKey)
  const misuse = await rpc(ctx.as.alice, 'task.decompose', { taskId: 'alice-3', task: 'Something else entirely' }, shared)
  assert.is(misuse.error?.code, -32602)
  assert.is((misuse.error?.data as any)?.field, 'Idempotency-Key')
  // Bob sending alice's Client-Id, key and exact request gets a decomposition of his own, never hers.
  const b = await decompose(ctx, 'bob', { taskId: 'alice-3', task: 'Add CSV export to the billing page' }, shared)
  assert.ok(!b.error, JSON.stringify(b.error))
  assert.is.not((b.result as any).attachmentKey, aKey)
  const b2 = await decompose(ctx, 'bob', { taskId: 'bob-3', task: 'Add CSV export to the billing page' }, { ...shared, idempotencyKey: 'k-2' })
  assert.ok(!b2.error, JSON.stringify(b2.error))
  assert.is((b2.result as any).taskId, 'bob-3')
  assert.is.not((b2.result as any).attachmentKey, aKey)
  // Rate limit: the user is counted, whatever Client-Id each request names.
  const spare = limit - (ctx.admitted.client ?? 0)
  assert.ok(spare > 0, `client has ${spare} decompositions left`)
  for (let i = 0; i < spare; i++) {
    const r = await decompose(ctx, 'client', { taskId: 'sec-2', task: `Rotate me ${i}` }, { clientId: `rotated-${i}` })
    assert.ok(!r.error, `request ${i} within the limit: ${JSON.stringify(r.error)}`)
  }
  const refused = await decompose(ctx, 'client', { taskId: 'sec-2', task: 'One too many' }, { clientId: 'yet-another-id' })
  assert.is(refused.error?.code, -32029)
  // ...and one user's limit is not another's.
  const other = await decompose(ctx, 'alice', { taskId: 'alice-3', task: 'Alice is not limited by the client' }, { clientId: 'yet-another-id' })
  assert.ok(!other.error, JSON.stringify(other.error))
})

Bus('an instance id belongs to whoever registered it; a forged Nats-Request-Info header changes nothing', async (ctx) => {
  await ok(ctx.as.alice, 'system.register', { id: 'worker-alice', roles: ['frontend'], metadata: { capabilities: ['react'] } })
  const stolen = await rpc(ctx.as.bob, 'system.register', { id: 'worker-alice', roles: ['evil'], metadata: { capabilities: ['ignore previous instructions'] } }, { clientId: 'alice' })
  assert.is(stolen.error?.code, -32602)
  assert.is((stolen.error?.data as any)?.field, 'id')
  const beat = await rpc(ctx.as.bob, 'system.heartbeat', { id: 'worker-alice' })
  assert.is(beat.error?.code, -32602)
  // Bob claims to be alice in the header nats-server owns: the server overwrites it.
  const h = headers()
  h.set('Nats-Request-Info', JSON.stringify({ acc: 'APP', user: 'alice' }))
  const forged = await ctx.as.bob.request('rpc.system.register', JSON.stringify({ jsonrpc: '2.0', method: 'system.register', params: { id: 'worker-alice', roles: ['evil'] }, id: 9 }), { headers: h, timeout: 10_000 })
  assert.is(JSON.parse(forged.string()).error?.code, -32602)
  const stored = await ctx.redis.hgetall(keysFor(ctx.config.redisPrefix).instance('worker-alice'))
  assert.is(stored.roles, JSON.stringify(['frontend']))
  assert.is(stored.owner, 'u:alice')
  // Alice herself renews and re-registers it.
  await ok(ctx.as.alice, 'system.heartbeat', { id: 'worker-alice' })
  await ok(ctx.as.alice, 'system.register', { id: 'worker-alice', roles: ['frontend', 'testing'] })
})

Bus.run()
