// The outcome watcher against forged JetStream status messages. On an open NATS server anyone can
// see the service's pull requests (`$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>`, reply to an
// `_INBOX…` subject) and publish into those inboxes. nats.js ends a consume() loop on a 400 status
// (and on other terminal errors); the watcher must then come back on its own, and an outcome that
// lands while it is away must still reach its caller.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Empty, headers } from '@nats-io/nats-core'
import type { NatsConnection, Subscription } from '@nats-io/nats-core'
import { connect } from '@nats-io/transport-node'
import { call } from '../../src/client/rpc-client.js'
import { eventually, startTestService } from '../helpers/env.js'
import type { TestService } from '../helpers/env.js'

let t: TestService
let attacker: NatsConnection | undefined
let sniffer: Subscription | undefined

// A short reply timeout: a dead watcher shows as -32001 after 5 s rather than 15.
test.before(async () => {
  t = await startTestService('watcher', { replyTimeoutMs: 5000 })
})
test.after(async () => {
  sniffer?.unsubscribe()
  await attacker?.close()
  await t.dispose()
})

const rpc = (method: string, params: unknown) => call(t.client, t.config.rpcPrefix, method, params, { timeoutMs: 10_000 })

/** The forged statuses, each with an empty payload as the server's own would have. */
const forged: [number, string][] = [
  [409, 'Consumer Deleted'],
  [409, 'Consumer is push based'],
  [404, 'No Messages'],
  [408, 'Request Timeout'],
  [400, 'Bad Request'],
]

let round = 0
async function decompose(taskId: string): Promise<number> {
  const started = Date.now()
  const r = await rpc('task.decompose', { taskId, task: `Add dark mode toggle to settings page (call ${++round})`, priority: 60 })
  const took = Date.now() - started
  assert.is(r.error, undefined, `call ${round}: ${JSON.stringify(r.error)} after ${took} ms`)
  const result = r.result as { taskId: string; subtaskCount: number }
  assert.is(result.taskId, taskId)
  assert.ok(result.subtaskCount > 0)
  return took
}

test('forged JetStream statuses in the service inboxes do not stop task.decompose from answering', async () => {
  const taskId = 't-409409'
  const created = await rpc('task.create', { taskId, title: 'Forged statuses' })
  assert.is(created.error, undefined, JSON.stringify(created.error))
  await decompose(taskId) // healthy to begin with

  // The attacker: a plain connection watching everything. Pull requests of this test's stream
  // (`$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>`) reply to `_INBOX…` subjects (the default
  // `_INBOX.` or a per-service `_INBOX_<name>.` prefix): those inboxes are the targets. Durable
  // consumers are named `<stream>_<purpose>`; the others are the ordered (ephemeral) ones, the
  // watcher's, and only those are attacked here: the durable consumers (sampler, projectors) have
  // their own resubscribe loop in run-consumer, and other suites on the same server are left alone.
  attacker = await connect({ servers: t.config.natsUrl, name: 'attacker' })
  const pullPrefix = `$JS.API.CONSUMER.MSG.NEXT.${t.config.streamName}.`
  const durable = `${t.config.streamName}_`
  const inboxes = new Set<string>()
  sniffer = attacker.subscribe('>', {
    callback: (err, m) => {
      if (err || !m.subject.startsWith(pullPrefix) || !m.reply?.startsWith('_INBOX')) return
      if (!m.subject.slice(pullPrefix.length).startsWith(durable)) inboxes.add(m.reply)
    },
  })
  await attacker.flush()

  const attacked = new Set<string>()
  for (let wave = 1; wave <= 3; wave++) {
    // Wait (while a decomposition runs) until the pulls of both ordered consumers (outcome and
    // persisted) have been seen on inboxes not attacked yet: a pull is renewed every 5 s at most,
    // and a consumer the watcher recreated pulls at once.
    const running = decompose(taskId)
    const fresh = () => [...inboxes].filter((inbox) => !attacked.has(inbox))
    await eventually(async () => (fresh().length >= 2 ? true : undefined), 15_000, `the watcher's pull inboxes (wave ${wave})`)
    await running
    for (const inbox of fresh()) {
      for (const [code, description] of forged) attacker.publish(inbox, Empty, { headers: headers(code, description) })
      // and a data message pretending to be an event
      attacker.publish(inbox, JSON.stringify({ type: 'DecompositionFailed', decompositionId: 'd-forged' }))
      attacked.add(inbox)
    }
    await attacker.flush()

    // Several calls in a row, each answered with its result within a few seconds.
    for (let i = 0; i < 3; i++) {
      const took = await decompose(taskId)
      assert.ok(took < 4000, `wave ${wave}, call ${i + 1} took ${took} ms`)
    }
  }
})

test.run()
