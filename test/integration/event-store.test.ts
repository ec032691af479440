import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'
import { EventStore } from '../../src/store/event-store.js'
import { WrongLastSequenceError } from '../../src/errors.js'
import type { DecompositionEvent, TaskCreated } from '../../src/domain/events.js'
import { uniqueName } from '../helpers/env.js'
import { appendStep } from '../../src/workers/append-step.js'

const requested = (decompositionId: string): DecompositionEvent => ({
  type: 'DecompositionRequested',
  v: 1,
  decompositionId,
  taskId: 't',
  task: 'x',
  priority: 50,
  constraints: [],
  sessionId: 's',
  clientId: 'c',
  specialists: ['general'],
  requestedBy: 'i',
  requestedAt: 1,
})

const created = (taskId: string, title = 'T'): TaskCreated => ({
  type: 'TaskCreated',
  v: 1,
  taskId,
  title,
  description: '',
  priority: 50,
  metadata: {},
  createdBy: 'test',
  createdAt: 1,
})

async function withStore(fn: (store: EventStore) => Promise<void>) {
  const nc = await connect({ servers: '127.0.0.1:4222' })
  const name = uniqueName('es').toUpperCase()
  try {
    const store = await EventStore.open(nc, { streamName: `T_${name}`, subjectPrefix: `cb.ev.T_${name}` })
    await fn(store)
  } finally {
    await (await jetstreamManager(nc)).streams.delete(`T_${name}`).catch(() => undefined)
    await nc.close()
  }
}

test('append with expected sequence; a stale expectation is a WrongLastSequenceError', () =>
  withStore(async (store) => {
    const subject = store.taskSubject('t-1')
    const a = await store.append(subject, created('t-1'), { msgId: 'm1', expectedLastSeq: 0 })
    assert.is(a.duplicate, false)
    try {
      await store.append(subject, created('t-1', 'other'), { msgId: 'm2', expectedLastSeq: 0 })
      assert.unreachable('second create must conflict')
    } catch (err) {
      assert.instance(err, WrongLastSequenceError)
    }
    const last = await store.last(subject)
    assert.is(last?.seq, a.seq)
    assert.is((last?.event as TaskCreated).title, 'T')
  }))

test('a repeated msgID is a duplicate, not a second event', () =>
  withStore(async (store) => {
    const subject = store.taskSubject('t-2')
    const a = await store.append(subject, created('t-2'), { msgId: 'same' })
    const b = await store.append(subject, created('t-2'), { msgId: 'same' })
    assert.is(b.duplicate, true)
    assert.is(b.seq, a.seq)
    assert.is((await store.readAggregate(subject)).length, 1)
  }))

test('N concurrent appends with the same expected sequence: exactly one wins', () =>
  withStore(async (store) => {
    const subject = store.taskSubject('t-3')
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.append(subject, created('t-3', `v${i}`), { msgId: `c${i}`, expectedLastSeq: 0 })),
    )
    assert.is(results.filter((r) => r.status === 'fulfilled').length, 1)
    assert.ok(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof WrongLastSequenceError))
  }))

test('N concurrent steps from the same state: one appends, the rest find the step done', () =>
  withStore(async (store) => {
    const id = 'd-steps'
    await appendStep(store, requested(id), 'requested')
    // 20 workers took the same Requested event; each proposes its own outcome, some a failure.
    const outcome = (i: number): DecompositionEvent =>
      i % 2 === 0
        ? { type: 'DecompositionFailed', v: 1, decompositionId: id, taskId: 't', error: { code: -32603, message: `worker ${i}` }, failedBy: `w${i}`, failedAt: i }
        : { type: 'DecompositionPersisted', v: 1, decompositionId: id, taskId: 't', attachmentKey: 'k', sampledSeq: i, persistedAt: i }
    const failures = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? appendStep(store, outcome(i), `outcome-${i}`) : undefined)))
    assert.is(failures.filter((o) => o === 'appended').length, 1)
    assert.is(failures.filter((o) => o === 'already-done').length, 9)
    const persisted = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 1 ? appendStep(store, outcome(i), `persisted-${i}`) : undefined)))
    assert.is(persisted.filter((o) => o === 'appended').length, 1)
    const aggregate = await store.readAggregate(store.decompositionAggregate(id))
    assert.equal(aggregate.map((e) => e.event.type), ['DecompositionRequested', 'DecompositionFailed', 'DecompositionPersisted'])
    // A retry of the winning step (same msgID) is a no-op too, inside the window and after it.
    const winner = Number((aggregate[1]!.event as { failedBy: string }).failedBy.slice(1))
    assert.is(await appendStep(store, outcome(winner), `outcome-${winner}`), 'already-done')
    assert.is((await store.readAggregate(store.decompositionAggregate(id))).length, 3)
    // Other decompositions are not part of the aggregate.
    await appendStep(store, requested('d-other'), 'requested-other')
    assert.is((await store.readAggregate(store.decompositionAggregate(id))).length, 3)
    // A sequence that cannot exist (a Persisted event naming seq 0) is "no such event", not an outage.
    assert.is(await store.get(0), undefined)
  }))

test('readAggregate returns one aggregate in order, ignoring other subjects', () =>
  withStore(async (store) => {
    const s1 = store.taskSubject('t-4')
    await store.append(s1, created('t-4', 'a'), { msgId: 'x1' })
    await store.append(store.taskSubject('t-5'), created('t-5'), { msgId: 'x2' })
    await store.append(s1, created('t-4', 'b'), { msgId: 'x3' })
    const events = await store.readAggregate(s1)
    assert.equal(
      events.map((e) => (e.event as TaskCreated).title),
      ['a', 'b'],
    )
    assert.is(await store.last(store.taskSubject('nothing')), undefined)
  }))

test('unsafe subjects are refused before they reach NATS', () =>
  withStore(async (store) => {
    try {
      await store.append(store.taskSubject('a.*'), created('x'), { msgId: 'bad' })
      assert.unreachable()
    } catch (err) {
      assert.match((err as Error).message, /unsafe subject/)
    }
  }))

test.run()
