// Admission of a decomposition (domain/admission.ts) and the msgID formats (domain/msg-ids.ts):
// given what the log holds / when a request is admitted or an append answers / then the decision.
import { createHash } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  afterAppend,
  afterHistory,
  decompositionIdOf,
  exemptFromRateLimit,
  keyedAttemptAfter,
  maxKeylessAttempts,
  planAdmission,
  retryAfter,
  sameRequest,
} from '../../src/domain/admission.js'
import type { AdmissionInput, AdmissionPlan, Attempt } from '../../src/domain/admission.js'
import * as msgIds from '../../src/domain/msg-ids.js'
import type { DecompositionFailed, DecompositionRequested, DomainEvent } from '../../src/domain/events.js'

/** The digest the service passes in: sha256 of the JSON. */
const sha = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex')

const params = { taskId: 't-1', task: 'Add dark mode', priority: 75, constraints: ['Use React hooks'], metadata: undefined }
const keyless: AdmissionInput = { callerId: 'c:app', explicitSessionId: 's-1', params, now: 1_700_000_000_000, random: 'abc123' }
const keyed: AdmissionInput = { ...keyless, idempotency: { scope: 'c:app', key: 'req-42' } }

function requestedEvent(decompositionId: string, p: Partial<DecompositionRequested> = {}): DecompositionRequested {
  return {
    type: 'DecompositionRequested',
    v: 1,
    decompositionId,
    taskId: params.taskId,
    task: params.task,
    priority: params.priority,
    constraints: params.constraints,
    sessionId: 's-1',
    clientId: 'app',
    specialists: ['general'],
    requestedBy: 'i-1',
    requestedAt: 1,
    ...p,
  }
}
function failedEvent(decompositionId: string, code: number, failedAt: number, data?: unknown): DecompositionFailed {
  return {
    type: 'DecompositionFailed',
    v: 1,
    decompositionId,
    taskId: params.taskId,
    error: { code, message: 'failed', ...(data !== undefined ? { data } : {}) },
    failedBy: 'w-1',
    failedAt,
  }
}
const circuitOpen = (id: string, failedAt: number, retryInMs = 60_000) => failedEvent(id, -32002, failedAt, { retryInMs })

/** given a plan and the attempt that was appended / when the log answered this history / then the verdict */
function given(plan: AdmissionPlan, attempt: Attempt = plan.first) {
  return {
    whenHistory: (inspected: string, history: DomainEvent[], now: number) => afterHistory(plan, attempt, inspected, history, now, sha),
  }
}

// ids and msgIDs

test('keyed id: d- and 32 hex of sha256(scope, key), whatever the time and randomness; the scope separates callers', () => {
  const id = decompositionIdOf(keyed, sha)
  assert.is(id, `d-${sha(['c:app', 'req-42']).slice(0, 32)}`)
  assert.is(decompositionIdOf({ ...keyed, now: 5, random: 'other' }, sha), id)
  assert.is.not(decompositionIdOf({ ...keyed, idempotency: { scope: 'c:other', key: 'req-42' } }, sha), id)
})

test('keyless id: from the time and randomness given', () => {
  assert.is(decompositionIdOf(keyless, sha), `d-${keyless.now.toString(36)}-abc123`)
  assert.is.not(decompositionIdOf({ ...keyless, random: 'zzz' }, sha), decompositionIdOf(keyless, sha))
})

test('Requested msgIDs: keyed names the id; keyless fingerprints caller, explicit session and params (the formats streams hold)', () => {
  const k = planAdmission(keyed, sha)
  assert.is(k.firstMsgId, `requested:${k.decompositionId}`)
  assert.equal(k.first, { decompositionId: k.decompositionId, msgId: k.firstMsgId, hop: 0 })
  const a = planAdmission(keyless, sha)
  assert.is(a.firstMsgId, `requested:auto:${sha(['c:app', 's-1', 't-1', 'Add dark mode', 75, ['Use React hooks'], null])}`)
  assert.is(planAdmission({ ...keyless, explicitSessionId: undefined }, sha).firstMsgId, `requested:auto:${sha(['c:app', null, 't-1', 'Add dark mode', 75, ['Use React hooks'], null])}`)
  assert.is(planAdmission({ ...keyless, random: 'other', now: 9 }, sha).firstMsgId, a.firstMsgId, 'the same request → the same msgID')
  assert.is.not(planAdmission({ ...keyless, callerId: 'c:other' }, sha).firstMsgId, a.firstMsgId)
  assert.is.not(planAdmission({ ...keyless, params: { ...params, priority: 10 } }, sha).firstMsgId, a.firstMsgId)
})

test('every msgID format, literally', () => {
  assert.is(msgIds.taskCreatedMsgId('t-1', 'f'), 'task:t-1:f')
  assert.is(msgIds.attachmentCreatedMsgId('t-1', 'k', 'f'), 'attachment:t-1:k:f')
  assert.is(msgIds.keyedRequestedMsgId('d-1'), 'requested:d-1')
  assert.is(msgIds.autoRequestedMsgId('f'), 'requested:auto:f')
  assert.is(msgIds.newAttemptMsgId('requested:auto:f', 'd-1'), 'requested:auto:f:after:d-1')
  assert.is(msgIds.outcomeMsgId('DecompositionSampled', 'd-1'), 'DecompositionSampled:d-1')
  assert.is(msgIds.outcomeMsgId('DecompositionFailed', 'd-1'), 'DecompositionFailed:d-1')
  assert.is(msgIds.substituteOutcomeMsgId('DecompositionFailed', 'd-1'), 'DecompositionFailed:d-1:substitute')
  assert.is(msgIds.persistedMsgId('d-1'), 'persisted:d-1')
  assert.is(msgIds.releasedMsgId('d-1'), 'released:d-1')
})

// rate limit and conflicts

test('rate limit: only a keyed retry of a known decomposition is exempt', () => {
  const k = planAdmission(keyed, sha)
  const known = requestedEvent(k.decompositionId)
  assert.ok(exemptFromRateLimit(k, known))
  assert.not.ok(exemptFromRateLimit(k, undefined), 'a new key counts')
  assert.not.ok(exemptFromRateLimit(planAdmission(keyless, sha), known), 'keyless requests always count')
})

test('same key, other params → conflict; same params → the same request; keyless never conflicts', () => {
  const k = planAdmission(keyed, sha)
  assert.ok(sameRequest(k, [requestedEvent(k.decompositionId)], sha))
  assert.ok(sameRequest(k, [], sha), 'nothing recorded yet')
  assert.not.ok(sameRequest(k, [requestedEvent(k.decompositionId, { task: 'Something else' })], sha))
  assert.not.ok(sameRequest(k, [requestedEvent(k.decompositionId, { metadata: { a: 1 } })], sha))
  assert.ok(sameRequest(planAdmission(keyless, sha), [requestedEvent('d-x', { task: 'Something else' })], sha))
  assert.equal(given(k).whenHistory(k.decompositionId, [requestedEvent(k.decompositionId, { priority: 1 })], 0), { kind: 'conflict' })
})

// after the append

test('after the append: appended → started; a duplicate → inspect the decomposition its first event names; wrong last sequence → inspect the attempt', () => {
  const a = planAdmission(keyless, sha)
  assert.equal(afterAppend(a.first, { kind: 'appended' }), { kind: 'started', decompositionId: a.decompositionId })
  assert.equal(afterAppend(a.first, { kind: 'duplicate', first: requestedEvent('d-first') }), { kind: 'inspect', decompositionId: 'd-first' })
  assert.equal(afterAppend(a.first, { kind: 'duplicate', first: undefined }), { kind: 'inspect', decompositionId: a.decompositionId })
  assert.equal(afterAppend(a.first, { kind: 'wrong-last-sequence' }), { kind: 'inspect', decompositionId: a.decompositionId })
})

// keyless: join, or a new attempt after a failure

test('keyless: given a running or finished first request → join it', () => {
  const a = planAdmission(keyless, sha)
  assert.equal(given(a).whenHistory('d-first', [requestedEvent('d-first')], 0), { kind: 'join', decompositionId: 'd-first' })
})

test('keyless: given the first request failed (any failure, circuit open included) → a new attempt under this id, msgID naming the failure', () => {
  const a = planAdmission(keyless, sha)
  for (const failure of [failedEvent('d-first', -32603, 5), circuitOpen('d-first', 5)]) {
    assert.equal(given(a).whenHistory('d-first', [requestedEvent('d-first'), failure], 6), {
      kind: 'new-attempt',
      attempt: { decompositionId: a.decompositionId, msgId: `${a.firstMsgId}:after:d-first`, hop: 1 },
    })
  }
})

test(`keyless: after ${maxKeylessAttempts} new attempts, or when the failure is its own → join the failure`, () => {
  const a = planAdmission(keyless, sha)
  const history = (id: string) => [requestedEvent(id), failedEvent(id, -32603, 5)]
  assert.equal(given(a, { ...a.first, hop: maxKeylessAttempts }).whenHistory('d-5', history('d-5'), 6), { kind: 'join', decompositionId: 'd-5' })
  assert.equal(given(a).whenHistory(a.decompositionId, history(a.decompositionId), 6), { kind: 'join', decompositionId: a.decompositionId })
})

// keyed: the same outcome, except the circuit-open fallback once the breaker can have closed

test('keyed: given the decomposition is running, done, or really failed → join it (failures are answered again)', () => {
  const k = planAdmission(keyed, sha)
  const id = k.decompositionId
  assert.equal(given(k).whenHistory(id, [requestedEvent(id)], 10), { kind: 'join', decompositionId: id })
  for (const code of [-32603, -32001, -32602, -32000]) {
    assert.equal(given(k).whenHistory(id, [requestedEvent(id), failedEvent(id, code, 5)], 10_000_000), { kind: 'join', decompositionId: id }, `code ${code}`)
  }
})

test('keyed: given a circuit-open fallback / when retried before the breaker can have closed → join (the fallback again, nothing appended)', () => {
  const k = planAdmission(keyed, sha)
  const id = k.decompositionId
  const history = [requestedEvent(id), circuitOpen(id, 1000, 60_000)]
  assert.equal(given(k).whenHistory(id, history, 1000), { kind: 'join', decompositionId: id })
  assert.equal(given(k).whenHistory(id, history, 60_999), { kind: 'join', decompositionId: id })
})

test('keyed: given a circuit-open fallback / when retried after the reset → one new attempt, the same for every concurrent retry', () => {
  const k = planAdmission(keyed, sha)
  const id = k.decompositionId
  const history = [requestedEvent(id), circuitOpen(id, 1000, 60_000)]
  const expected = { kind: 'new-attempt', attempt: { decompositionId: keyedAttemptAfter(id, sha), msgId: `requested:${id}:after:${id}`, hop: 1 } }
  assert.equal(given(k).whenHistory(id, history, 61_000), expected)
  // another instance, another moment, another random: the same attempt (shared by concurrent retries)
  const elsewhere = planAdmission({ ...keyed, now: 99, random: 'zz' }, sha)
  assert.equal(given(elsewhere).whenHistory(id, history, 500_000), expected)
  const next = keyedAttemptAfter(id, sha)
  assert.match(next, /^d-[0-9a-f]{32}$/)
  assert.is(next.length, id.length, 'as long as the first id: the same event size')
  assert.is.not(next, id)
})

test('keyed: a retry that meets the new attempt joins it, unless it too ended in a circuit-open fallback long enough ago', () => {
  const k = planAdmission(keyed, sha)
  const first = k.decompositionId
  const second = keyedAttemptAfter(first, sha)
  const attempt: Attempt = { decompositionId: second, msgId: `requested:${first}:after:${first}`, hop: 1 }
  // the new attempt's subject is taken (a concurrent retry, or a later one after the window)
  assert.equal(afterAppend(attempt, { kind: 'wrong-last-sequence' }), { kind: 'inspect', decompositionId: second })
  assert.equal(given(k, attempt).whenHistory(second, [requestedEvent(second)], 70_000), { kind: 'join', decompositionId: second })
  // the second attempt met the open breaker again: after its reset, a third
  assert.equal(given(k, attempt).whenHistory(second, [requestedEvent(second), circuitOpen(second, 70_000, 60_000)], 130_000), {
    kind: 'new-attempt',
    attempt: { decompositionId: keyedAttemptAfter(second, sha), msgId: `requested:${first}:after:${second}`, hop: 2 },
  })
  // ... and a conflicting request is still refused there
  assert.equal(given(k, attempt).whenHistory(second, [requestedEvent(second, { task: 'other' })], 70_000), { kind: 'conflict' })
})

test('retryAfter: failedAt plus the recorded retryInMs; without one (or a nonsense one), at once', () => {
  assert.is(retryAfter(circuitOpen('d', 1000, 500)), 1500)
  assert.is(retryAfter(failedEvent('d', -32002, 1000)), 1000)
  assert.is(retryAfter(failedEvent('d', -32002, 1000, { retryInMs: 'soon' })), 1000)
  assert.is(retryAfter(failedEvent('d', -32002, 1000, { retryInMs: -5 })), 1000)
})

test('pure: the same inputs decide the same, and nothing is mutated', () => {
  const k = planAdmission(keyed, sha)
  const history = Object.freeze([requestedEvent(k.decompositionId), circuitOpen(k.decompositionId, 1, 1)])
  const frozenPlan = Object.freeze({ ...k, first: Object.freeze({ ...k.first }) })
  assert.equal(afterHistory(frozenPlan, frozenPlan.first, k.decompositionId, history, 2, sha), afterHistory(k, k.first, k.decompositionId, [...history], 2, sha))
  assert.equal(planAdmission(keyed, sha), planAdmission(keyed, sha))
})

test.run()
