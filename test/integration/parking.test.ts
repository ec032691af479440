// Poison in the log never stalls a consumer (issue #12): an event a projection cannot apply is
// retried a bounded number of times, then parked (recorded with its sequence, counted, termed) and
// the consumer moves on; `decomposer parked` lists it and `--retry` re-drives it. A store outage is
// never parked (here: the consumer loop on its own; with real outages: test/faults/outage.test.ts).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { connect } from '@nats-io/transport-node'
import { sql } from 'kysely'
import { call } from '../../src/client/rpc-client.js'
import { parkedCommand } from '../../src/cli/parked-command.js'
import { StorageError } from '../../src/errors.js'
import { silentLogger } from '../../src/log.js'
import { eventSubjectPrefix } from '../../src/config.js'
import type { TaskCreated } from '../../src/domain/events.js'
import { EventStore } from '../../src/store/event-store.js'
import { parkedStore } from '../../src/store/parked.js'
import type { ParkedEntry } from '../../src/store/parked.js'
import { runConsumer } from '../../src/projectors/run-consumer.js'
import { consumerHandlers } from '../../src/projectors/consumer-handlers.js'
import { cleanup, envFor, eventually, startTestService, testConfig } from '../helpers/env.js'
import type { TestService } from '../helpers/env.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const parkAfterAttempts = 3

function taskCreated(taskId: string, title: string): TaskCreated {
  return { type: 'TaskCreated', v: 1, taskId, title, description: '', priority: 50, metadata: {}, createdBy: 'parking-test', createdAt: Date.now() }
}

/** Appends straight to the log, as a buggy or older writer could: no RPC validation in the way. */
async function appendTask(svc: TestService, event: TaskCreated): Promise<number> {
  const { store } = svc.service.connections
  return (await store.append(store.taskSubject(event.taskId), event, { msgId: `parking:${event.taskId}`, expectedLastSeq: 0 })).seq
}

async function parkedAt(svc: TestService, seq: number): Promise<ParkedEntry> {
  const parked = parkedStore(svc.service.connections.redis, svc.service.connections.keys)
  return eventually(async () => (await parked.list()).find((e) => e.seq === seq), 15_000, `seq ${seq} parked`)
}

async function taskRow(svc: TestService, taskId: string) {
  return svc.service.connections.db.selectFrom('tasks').select(['id', 'title']).where('id', '=', taskId).executeTakeFirst()
}

test('a value Postgres refuses is parked after N attempts, the consumer moves on, the CLI lists it and --retry keeps it', async () => {
  const svc = await startTestService('parking', { parkAfterAttempts })
  try {
    const { config } = svc
    const consumer = `${config.streamName}_postgres_tasks`
    const poisonSeq = await appendTask(svc, taskCreated('t-poison', 'Dark mode\u0000 for settings'))

    const entry = await parkedAt(svc, poisonSeq)
    assert.is(entry.consumer, consumer)
    assert.is(entry.type, 'TaskCreated')
    assert.is(entry.attempts, parkAfterAttempts)
    assert.match(entry.error, /postgres: .*0x00.*SQLSTATE 22021/)
    assert.is(await taskRow(svc, 't-poison'), undefined)

    // The consumer moved on: later tasks are projected, and nothing is left pending behind the poison.
    const rpc = async (method: string, params: unknown) => {
      const r = await call(svc.client, config.rpcPrefix, method, params, { timeoutMs: 15_000 })
      assert.is(r.error, undefined, JSON.stringify(r.error))
      return r.result as { attachmentKey: string }
    }
    await rpc('task.create', { taskId: 't-after', title: 'Dark mode for settings' })
    const decomposed = await rpc('task.decompose', { taskId: 't-after', task: 'Add dark mode toggle to settings page' })
    await eventually(async () => (await taskRow(svc, 't-after')) && true, 10_000, 't-after projected to Postgres')
    const attachment = await svc.service.connections.db.selectFrom('task_attachments').select('key').where('task_id', '=', 't-after').executeTakeFirst()
    assert.is(attachment?.key, decomposed.attachmentKey)
    // Not pending either: a `term` nats-server 2.9 ignores would leave the poison ack-pending for ever.
    const info = await eventually(async () => {
      const i = await svc.service.connections.store.jsm.consumers.info(config.streamName, consumer)
      return i.num_ack_pending === 0 && i.num_pending === 0 ? i : undefined
    }, 10_000, 'postgres_tasks with nothing pending (acked, or termed)')
    assert.ok(info.ack_floor.stream_seq > poisonSeq, `ack floor ${info.ack_floor.stream_seq} past the poison at ${poisonSeq}`)

    // Every consumer the service runs can be re-driven by the CLI, except the sampler (see redrive.ts).
    const handlers = consumerHandlers(svc.service.connections, config)
    for await (const c of await svc.service.connections.store.jsm.consumers.list(config.streamName)) {
      if (!c.config.durable_name?.startsWith(`${config.streamName}_`)) continue // ordered readers (outcome watcher)
      const purpose = c.name.slice(config.streamName.length + 1)
      if (purpose !== 'sampler') assert.ok(handlers.has(purpose), `no re-drive handler for consumer ${c.name}`)
    }

    // The CLI, as an operator runs it.
    const cli = (...args: string[]) =>
      run(process.execPath, ['bin/decomposer.js', 'parked', ...args], { cwd: root, env: envFor(config) }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      )
    const listed = await cli()
    assert.is(listed.code, 0, listed.stderr)
    assert.match(listed.stdout, new RegExp(`seq ${poisonSeq}  ${consumer}  TaskCreated  ${parkAfterAttempts} attempts  ".*0x00`))
    const json = await cli('--json')
    assert.equal((JSON.parse(json.stdout) as ParkedEntry[]).map((e) => [e.seq, e.consumer]), [[poisonSeq, consumer]])

    const retried = await cli('--retry')
    assert.is(retried.code, 3, retried.stderr + retried.stdout)
    assert.match(retried.stdout, new RegExp(`still failing: seq ${poisonSeq}  ${consumer}`))
    assert.match(retried.stdout, /0 re-driven, 1 still parked/)
    const kept = await parkedAt(svc, poisonSeq)
    assert.is(kept.attempts, parkAfterAttempts + 1)
    assert.is(await taskRow(svc, 't-poison'), undefined)
  } finally {
    await svc.dispose()
  }
})

test('a refusal that goes away: the parked event is re-driven, projected, and leaves the list', async () => {
  const svc = await startTestService('parkredrive', { parkAfterAttempts })
  try {
    const { db } = svc.service.connections
    // The test's own schema refuses this title for now, as a store with a stricter rule would.
    await sql`ALTER TABLE tasks ADD CONSTRAINT parking_test_refuse CHECK (title NOT LIKE 'blocked%')`.execute(db)
    const seq = await appendTask(svc, taskCreated('t-blocked', 'blocked for now'))
    const entry = await parkedAt(svc, seq)
    assert.match(entry.error, /SQLSTATE 23514/)

    // Still refused: re-driving keeps it.
    const lines: string[] = []
    const io = { print: (l: string) => void lines.push(l), fail: (m: string) => assert.unreachable(m) as never }
    assert.is(await parkedCommand(svc.config, ['--retry', '--seq', String(seq)], io), 3)

    await sql`ALTER TABLE tasks DROP CONSTRAINT parking_test_refuse`.execute(db)
    lines.length = 0
    assert.is(await parkedCommand(svc.config, ['--retry', '--seq', String(seq)], io), 0, lines.join('\n'))
    assert.match(lines.join('\n'), new RegExp(`re-driven: seq ${seq}  ${svc.config.streamName}_postgres_tasks  TaskCreated`))
    assert.equal(await taskRow(svc, 't-blocked'), { id: 't-blocked', title: 'blocked for now' })
    assert.equal(await parkedStore(svc.service.connections.redis, svc.service.connections.keys).list(), [])
    lines.length = 0
    assert.is(await parkedCommand(svc.config, [], io), 0)
    assert.equal(lines, ['no parked events'])
  } finally {
    await svc.dispose()
  }
})

test('consumer loop: an outage is retried past the limit and never parked; a refusal is parked and counted', async () => {
  const config = testConfig('parkloop')
  const nc = await connect({ servers: config.natsUrl })
  try {
    const store = await EventStore.open(nc, { streamName: config.streamName, subjectPrefix: eventSubjectPrefix(config) })
    const outageSeq = (await store.append(store.taskSubject('t-outage'), taskCreated('t-outage', 'a'), { msgId: 'o' })).seq
    const refusedSeq = (await store.append(store.taskSubject('t-refused'), taskCreated('t-refused', 'b'), { msgId: 'r' })).seq
    const parked: ParkedEntry[] = []
    const applied: number[] = []
    const attempts = new Map<number, number>()
    const running = await runConsumer(
      store,
      { durable: `${config.streamName}_loop`, filterSubject: store.filter('task'), concurrency: 4 },
      async (stored) => {
        const n = (attempts.get(stored.seq) ?? 0) + 1
        attempts.set(stored.seq, n)
        if (stored.seq === outageSeq && n <= 3) {
          throw new StorageError('PostgreSQL unavailable', { store: 'postgres' }, { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })
        }
        if (stored.seq === refusedSeq) {
          throw new StorageError('PostgreSQL unavailable', { store: 'postgres' }, { cause: Object.assign(new Error('invalid byte sequence'), { code: '22021' }) })
        }
        applied.push(stored.seq)
      },
      silentLogger,
      { store: { park: async (e) => void parked.push(e) }, afterAttempts: 2 },
    )
    try {
      await eventually(async () => (applied.includes(outageSeq) && parked.length > 0 ? true : undefined), 10_000, 'outage applied, refusal parked')
      assert.is(attempts.get(outageSeq), 4) // past afterAttempts (2), yet retried until the store was back
      assert.equal(parked.map((e) => [e.seq, e.attempts, e.type]), [[refusedSeq, 2, 'TaskCreated']])
      assert.equal(running.stats(), { durable: `${config.streamName}_loop`, parked: 1 })
      await new Promise((r) => setTimeout(r, 500))
      assert.is(attempts.get(refusedSeq), 2, 'a parked event is not delivered again')
    } finally {
      await running.stop()
    }
  } finally {
    await nc.close()
    await cleanup(config)
  }
})

test.run()
