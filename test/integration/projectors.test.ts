// Projectors against real Redis and Postgres: every event applied twice changes nothing.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect } from '@nats-io/transport-node'
import { redisProjector } from '../../src/projectors/redis-projector.js'
import { postgresProjector } from '../../src/projectors/postgres-projector.js'
import { persistStep } from '../../src/workers/persist-step.js'
import { migrate } from '../../src/store/postgres.js'
import { EventStore } from '../../src/store/event-store.js'
import type { StoredEvent } from '../../src/store/event-store.js'
import { decide, fold } from '../../src/domain/decomposition.js'
import type { DecompositionEvent, DecompositionRequested } from '../../src/domain/events.js'
import { planDecomposition } from '../../src/domain/heuristic-planner.js'
import { acceptDecomposition } from '../../src/domain/accept-decomposition.js'
import { defaultSpecialists } from '../../src/domain/specialists.js'
import { cleanup, darkModeRequest, testConfig, withRedis } from '../helpers/env.js'

function chain(taskId: string, ts: number) {
  const request: Omit<DecompositionRequested, 'type' | 'v'> = {
    decompositionId: `d-${ts}`,
    taskId,
    task: darkModeRequest.task,
    priority: 75,
    constraints: darkModeRequest.constraints,
    sessionId: 'session-abc123',
    clientId: 'c',
    specialists: [...defaultSpecialists],
    requestedBy: 'i',
    requestedAt: ts,
  }
  const raw = planDecomposition({ task: request.task, constraints: request.constraints, priority: 75, specialists: defaultSpecialists })
  const accepted = acceptDecomposition(raw, { timestampMs: ts, activeSpecialists: defaultSpecialists, maxSubtasks: 50 })
  if (!accepted.ok) throw new Error('plan invalid')
  const events: DecompositionEvent[] = []
  const step = (cmd: Parameters<typeof decide>[0]) => events.push(...decide(cmd, fold(events)))
  step({ type: 'RequestDecomposition', request })
  step({ type: 'RecordSample', decomposition: accepted.decomposition, timestamp: ts, decomposedBy: 'w', sampler: { provider: 'heuristic', latencyMs: 1 } })
  step({ type: 'MarkPersisted', sampledSeq: 2, at: ts + 1 })
  step({ type: 'ReleaseSubtasks', at: ts + 2 })
  return events
}

test('redis projector: applying every event twice gives the same keys, expiry and queue', async () => {
  await withRedis('redisproj', async ({ redis, keys, config }) => {
    const apply = redisProjector({ redis, keys, ttlSeconds: 604800 })
    const ts = Date.now()
    const events = chain('t-r1', ts)
    for (const e of events) await apply(e)
    const snapshot = async () => {
      const found = (await redis.keys(`${config.redisPrefix}*`)).sort()
      return Promise.all(found.map(async (k) => [k, (await redis.type(k)) === 'hash' ? await redis.hgetall(k) : await redis.zrange(k, '0', '-1', 'WITHSCORES'), await redis.expiretime(k)]))
    }
    const first = await snapshot()
    for (const e of events) await apply(e)
    assert.equal(await snapshot(), first)
    const expireAt = await redis.expiretime(keys.decomposition('t-r1'))
    assert.is(expireAt, Math.floor(ts / 1000) + 604800)
    const frontend = await redis.zrange(keys.queue('frontend'), '0', '-1', 'WITHSCORES')
    assert.is(frontend.length, 2) // one dependency-free frontend subtask, with its score
    const sampled = events[1]!
    if (sampled.type !== 'DecompositionSampled') throw new Error()
    const root = sampled.decomposition.subtasks.find((s) => s.specialist === 'frontend' && s.dependencies.length === 0)!
    assert.equal(frontend, [root.id, String(ts + root.complexity)])
  })
})

test('redis projector: a subtask hash holds every field exactly, whatever its text', async () => {
  await withRedis('redisproj3', async ({ redis, keys }) => {
    const apply = redisProjector({ redis, keys, ttlSeconds: 604800 })
    const ts = Date.now()
    const sampled = chain('t-r3', ts)[1]!
    if (sampled.type !== 'DecompositionSampled') throw new Error()
    // Quotes, backslashes, control characters, Lua escapes, non-BMP text, and a lone surrogate
    // (which Redis stores as U+FFFD, as it would any argument of its own).
    const text = 'He said "no" \\ C:\\path\n\ttab %s %d [[x]] ü 漢字 🚀 \u0000 end \ud800!'
    const subtasks = sampled.decomposition.subtasks.map((s, i) => (i === 0 ? { ...s, description: text } : s))
    await apply({ ...sampled, decomposition: { ...sampled.decomposition, subtasks } })
    for (const [i, s] of subtasks.entries()) {
      assert.equal(await redis.hgetall(keys.subtask(s.id)), {
        id: s.id,
        parentTaskId: 't-r3',
        description: i === 0 ? 'He said "no" \\ C:\\path\n\ttab %s %d [[x]] ü 漢字 🚀 \u0000 end \ufffd!' : s.description,
        specialist: s.specialist,
        complexity: String(s.complexity),
        estimatedMinutes: String(s.estimatedMinutes),
        dependencies: JSON.stringify(s.dependencies),
        status: 'pending',
        createdAt: String(ts),
      })
    }
  })
})

test('redis projector: a redelivered release does not requeue claimed work; older decompositions never overwrite newer', async () => {
  await withRedis('redisproj2', async ({ redis, keys }) => {
    const apply = redisProjector({ redis, keys, ttlSeconds: 604800 })
    const ts = Date.now()
    const events = chain('t-r2', ts)
    for (const e of events) await apply(e)
    const released = events[3]!
    if (released.type !== 'SubtasksReleased') throw new Error()
    const claimed = released.released[0]!
    await redis.zrem(keys.queue(claimed.specialist), claimed.id)
    await redis.hset(keys.subtask(claimed.id), 'status', 'claimed')
    await apply(released)
    assert.is(await redis.zscore(keys.queue(claimed.specialist), claimed.id), null)

    const older = chain('t-r2', ts - 5000)
    await apply(older[1]!)
    assert.is(await redis.hget(keys.decomposition('t-r2'), 'timestamp'), String(ts))
  })
})

test('postgres projector: attachment row in the spec shape, written once; Persisted appended once even on redelivery', async () => {
  const config = testConfig('pgproj')
  const db = await migrate(config.databaseUrl, config.pgSchema)
  const nc = await connect({ servers: config.natsUrl })
  try {
    const store = await EventStore.open(nc, { streamName: config.streamName, subjectPrefix: `cb.ev.${config.streamName}` })
    const ts = Date.now()
    const events = chain('t-p1', ts)
    await store.append(store.decompositionSubject(`d-${ts}`, 'requested'), events[0]!, { msgId: 'r' })
    const subject = store.decompositionSubject(`d-${ts}`, 'outcome')
    const sampledAck = await store.append(subject, events[1]!, { msgId: 's' })
    // The projection, then the persist step, composed as consumer-handlers.ts composes them.
    const project = postgresProjector({ db })
    const markPersisted = persistStep({ store, now: Date.now })
    const apply = async (s: StoredEvent) => {
      await project(s)
      await markPersisted(s)
    }
    const stored = { seq: sampledAck.seq, subject, event: events[1]! }
    await apply(stored)
    await apply(stored) // redelivery
    const rows = await db.selectFrom('task_attachments').selectAll().execute()
    assert.is(rows.length, 1)
    assert.is(rows[0]!.key, `decomposition_${ts}`)
    const value = rows[0]!.value as Record<string, unknown>
    for (const field of ['taskId', 'taskText', 'strategy', 'totalComplexity', 'reasoning', 'subtaskCount', 'subtasks', 'decomposedAt', 'decomposedBy', 'sessionId']) {
      assert.ok(field in value, `attachment has ${field}`)
    }
    assert.is((value.subtasks as { status: string }[])[0]!.status, 'pending')
    const aggregate = await store.readAggregate(store.decompositionAggregate(`d-${ts}`))
    assert.equal(
      aggregate.map((e) => e.event.type),
      ['DecompositionRequested', 'DecompositionSampled', 'DecompositionPersisted'],
    )
  } finally {
    await nc.close()
    await db.destroy()
    await cleanup(config)
  }
})

test.run()
