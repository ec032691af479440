// Admission of a decomposition (issue #13): which decomposition a task.decompose request starts or
// joins. Pure: no I/O, no clock, no randomness; the time, the random part of a keyless id and the
// hash function come in as arguments (src/domain imports no node builtins, so the caller passes
// sha256-of-JSON in as `Digest`; it is deterministic, which is all that matters here). The RPC
// method (rpc/task-methods.ts) performs the I/O, a loop of "append a DecompositionRequested, read
// what the append ran into", and asks these functions what to do at each turn.
//
// The rules:
// - Ids. With an Idempotency-Key the id is `d-` + 32 hex of hash(idempotency scope, key): every
//   retry, on any instance, names the same decomposition. Without a key it comes from the time and
//   randomness the caller supplies (domain/ids.ts).
// - Requested msgIDs (domain/msg-ids.ts): keyed `requested:<id>`, keyless `requested:auto:<fingerprint>`
//   (the same request from the same caller within the 2-minute duplicate window), and
//   `<that>:after:<failedId>` for a new attempt after a failed one.
// - Rate limit. A keyed retry of a decomposition that already exists is not a new admission and is
//   exempt; every other request counts, once it has passed its checks.
// - Conflict. The same key with other params (taskId, task, priority, constraints, metadata) is
//   refused, never answered with the first request's decomposition.
// - Join or new attempt, once the append has answered:
//   · appended: this request started the attempt; wait for its outcome.
//   · duplicate (a msgID seen within the window): the ack names the first event; its decomposition
//     decides. Wrong last sequence (the attempt's `requested` subject is taken, any time later):
//     the attempt's own decomposition decides.
//   · keyless: a decomposition that failed is retried as a new attempt (same id as this request,
//     msgID naming the failed one), at most `maxKeylessAttempts` times; otherwise join it.
//   · keyed: the same key answers the same outcome, failures included (a timeout, an invalid plan, a
//     provider error: retrying them would re-run work the client was told failed), except a
//     circuit-open failure, see below. Otherwise join.
//
// DECISION (issue #13): a keyed retry after a circuit-open outcome. When the breaker is open the
// sampler records DecompositionFailed with code -32002 and the caller gets the spec's fallback
// (an empty decomposition, "Service temporarily unavailable"). That is not an outcome of the request:
// nothing was sampled, and the fallback says "later". Answering it for ever to the same key (the
// behaviour before) turned a transient outage into a permanent empty plan for that key. So:
//   · A keyed retry that finds its attempt failed with CircuitOpen starts a NEW attempt once the
//     breaker has had time to close: at or after `failedAt + error.data.retryInMs` (the breaker's
//     reset time, which the breaker writes into the error; 0 when absent). The breaker opened before
//     that failure, so by then it is half-open or closed on the instance that refused it.
//   · Before that moment the retry joins the failed attempt and answers the fallback again, appending
//     nothing: a client hammering a key during an outage adds at most one attempt per reset period.
//   · The new attempt's id is derived from the failed attempt's (`d-` + 32 hex of hash("after",
//     failedId), so the same length as any keyed id) and its msgID is `requested:<keyed id>:after:
//     <failedId>`: every concurrent retry of the same fallback appends the same event under the same
//     msgID to the same subject, expecting it empty. One of them starts the attempt; the others get a
//     duplicate naming it (inside the window) or a wrong-last-sequence on its subject (any time
//     later), and join it. One new attempt, one sampling, one answer for all of them.
//   · Attempts form a chain from the key's first id; a later retry walks it (each hop is one append
//     answered duplicate / wrong-last-sequence and one read) to the newest attempt. If the new attempt
//     meets the open breaker again, it too ends in the fallback and the same rule applies to it.
//   · The failed attempt stays in the log as it was: the log records what happened, and a replay
//     rebuilds the same read models. The rate limit does not count these retries (the key's first
//     attempt exists), and the params must still match the key's first request.
//   · Only keyed requests need this: a keyless retry after any failure, the circuit-open one
//     included, is already a new attempt (unchanged).
import { ErrorCode } from '../errors.js'
import type { DecompositionRequested, DomainEvent } from './events.js'
import { decompositionId as timeRandomId } from './ids.js'
import { autoRequestedMsgId, keyedRequestedMsgId, newAttemptMsgId } from './msg-ids.js'

/** A deterministic hash of a JSON-serialisable value, as hex (the service uses sha256 of JSON.stringify). */
export type Digest = (value: unknown) => string

/** What a keyed retry must repeat; anything else under the same key is a conflict. */
export type RequestParams = Pick<DecompositionRequested, 'taskId' | 'task' | 'priority' | 'constraints' | 'metadata'>

export interface AdmissionInput {
  /** The caller's idempotency scope and the Idempotency-Key, when the request carries a key. */
  idempotency?: { scope: string; key: string } | undefined
  /** Who is calling (Caller.id) and the session the request names explicitly: the keyless fingerprint. */
  callerId: string
  explicitSessionId: string | undefined
  /** Normalised params: task trimmed, priority and constraints defaulted. */
  params: RequestParams
  now: number
  /** The random part of a keyless id. */
  random: string
}

/** One append of a DecompositionRequested event: for which decomposition, under which msgID. */
export interface Attempt {
  decompositionId: string
  msgId: string
  /** New attempts made before this one by this request (0 for its first append). */
  hop: number
}

/** Everything admission decided up front for one request. */
export interface AdmissionPlan {
  keyed: boolean
  /** The request's own decomposition id (keyed: the key's first attempt). */
  decompositionId: string
  /** The msgID of the request's first append; new attempts name a failed attempt after it. */
  firstMsgId: string
  /** Fingerprint of the params, compared with a keyed decomposition's request. */
  paramsFingerprint: string
  first: Attempt
}

/** A keyless request retries failed attempts at most this many times, then joins the failure. */
export const maxKeylessAttempts = 5
/** A keyed request walks at most this many attempts of its key (a safety bound; each needs one reset period of outage). */
export const maxKeyedAttempts = 1000

/** The decomposition id: keyed `d-<32 hex of hash(scope, key)>`, keyless from the time and randomness given. */
export function decompositionIdOf(input: Pick<AdmissionInput, 'idempotency' | 'now' | 'random'>, digest: Digest): string {
  return input.idempotency ? `d-${digest([input.idempotency.scope, input.idempotency.key]).slice(0, 32)}` : timeRandomId(input.now, input.random)
}

/** The id of the keyed attempt that follows the failed attempt `failedId`: as long as any keyed id. */
export function keyedAttemptAfter(failedId: string, digest: Digest): string {
  return `d-${digest(['after', failedId]).slice(0, 32)}`
}

/** The msgID of the request's first DecompositionRequested append (keyed, or the keyless fingerprint). */
export function requestedMsgIdOf(input: AdmissionInput, decompositionId: string, digest: Digest): string {
  if (input.idempotency) return keyedRequestedMsgId(decompositionId)
  const p = input.params
  return autoRequestedMsgId(digest([input.callerId, input.explicitSessionId ?? null, p.taskId, p.task, p.priority, p.constraints, p.metadata ?? null]))
}

export function paramsFingerprint(p: RequestParams, digest: Digest): string {
  return digest([p.taskId, p.task, p.priority, p.constraints, p.metadata ?? null])
}

export function planAdmission(input: AdmissionInput, digest: Digest): AdmissionPlan {
  const decompositionId = decompositionIdOf(input, digest)
  const firstMsgId = requestedMsgIdOf(input, decompositionId, digest)
  return {
    keyed: input.idempotency !== undefined,
    decompositionId,
    firstMsgId,
    paramsFingerprint: paramsFingerprint(input.params, digest),
    first: { decompositionId, msgId: firstMsgId, hop: 0 },
  }
}

/**
 * Whether a keyed request repeats the request recorded for its key. True when nothing is recorded
 * (no DecompositionRequested among `events`) or the request is keyless.
 */
export function sameRequest(plan: AdmissionPlan, events: readonly DomainEvent[], digest: Digest): boolean {
  if (!plan.keyed) return true
  const requested = events.find((e): e is DecompositionRequested => e.type === 'DecompositionRequested')
  return !requested || paramsFingerprint(requested, digest) === plan.paramsFingerprint
}

/** A keyed retry of a decomposition that exists (`known`: its first attempt's Requested event) is not counted. */
export function exemptFromRateLimit(plan: AdmissionPlan, known: DomainEvent | undefined): boolean {
  return plan.keyed && known !== undefined
}

/** What the append of an attempt's DecompositionRequested answered. */
export type AppendAnswer =
  | { kind: 'appended' }
  /** A msgID seen within the window: `first` is the event at the sequence the ack names (undefined if unreadable). */
  | { kind: 'duplicate'; first: DomainEvent | undefined }
  /** The attempt's `requested` subject already holds an event. */
  | { kind: 'wrong-last-sequence' }

export type AfterAppend =
  /** This request started the attempt: wait for its outcome. */
  | { kind: 'started'; decompositionId: string }
  /** Another append got there first: read this decomposition's history and ask `afterHistory`. */
  | { kind: 'inspect'; decompositionId: string }

export function afterAppend(attempt: Attempt, answer: AppendAnswer): AfterAppend {
  switch (answer.kind) {
    case 'appended':
      return { kind: 'started', decompositionId: attempt.decompositionId }
    case 'duplicate':
      return {
        kind: 'inspect',
        decompositionId: answer.first?.type === 'DecompositionRequested' ? answer.first.decompositionId : attempt.decompositionId,
      }
    case 'wrong-last-sequence':
      return { kind: 'inspect', decompositionId: attempt.decompositionId }
  }
}

export type Verdict =
  /** Join this decomposition: settle from its history, else wait for its outcome. */
  | { kind: 'join'; decompositionId: string }
  /** Append a new attempt. */
  | { kind: 'new-attempt'; attempt: Attempt }
  /** The key was used for another request: refuse (-32602, field Idempotency-Key). */
  | { kind: 'conflict' }

/**
 * Given the history of the decomposition an append ran into (`inspected`, from `afterAppend`), and
 * the time now: join it, start a new attempt, or refuse. See the top of this file.
 */
export function afterHistory(plan: AdmissionPlan, attempt: Attempt, inspected: string, history: readonly DomainEvent[], now: number, digest: Digest): Verdict {
  if (!sameRequest(plan, history, digest)) return { kind: 'conflict' }
  const last = history.at(-1)
  if (last?.type !== 'DecompositionFailed') return { kind: 'join', decompositionId: inspected }
  if (!plan.keyed) {
    // Someone else's failed decomposition with the same fingerprint: a new attempt under this request's own id.
    if (inspected === plan.decompositionId || attempt.hop >= maxKeylessAttempts) return { kind: 'join', decompositionId: inspected }
    return { kind: 'new-attempt', attempt: { decompositionId: plan.decompositionId, msgId: newAttemptMsgId(plan.firstMsgId, inspected), hop: attempt.hop + 1 } }
  }
  if (last.error.code !== ErrorCode.CircuitOpen || now < retryAfter(last) || attempt.hop >= maxKeyedAttempts) return { kind: 'join', decompositionId: inspected }
  return {
    kind: 'new-attempt',
    attempt: { decompositionId: keyedAttemptAfter(inspected, digest), msgId: newAttemptMsgId(plan.firstMsgId, inspected), hop: attempt.hop + 1 },
  }
}

/** When a circuit-open failure may be retried: its time plus the breaker's reset time it recorded. */
export function retryAfter(failed: Extract<DomainEvent, { type: 'DecompositionFailed' }>): number {
  const data = failed.error.data
  const retryInMs = typeof data === 'object' && data !== null && 'retryInMs' in data ? (data as { retryInMs: unknown }).retryInMs : undefined
  return failed.failedAt + (typeof retryInMs === 'number' && Number.isFinite(retryInMs) && retryInMs > 0 ? retryInMs : 0)
}
