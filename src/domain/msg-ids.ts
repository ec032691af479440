// Every JetStream msgID the service appends with, in one place (issue #13). The formats are part of
// the log's contract: existing streams and their duplicate windows hold these exact strings, so a
// format here changes only with a migration in mind.
//
// What a msgID gives: JetStream drops a second message with the same msgID that arrives within the
// stream's duplicate window (2 minutes, EventStore's `duplicateWindowMs`) and acks it as a
// duplicate with the sequence of the first. That is all it guarantees, and only inside the window.
// Every append here is also made with an expected last subject sequence of 0 (the aggregate or step
// subject must be empty), which keeps it a no-op for ever after: a msgID never has to outlive the
// window. The two differ in what a repeat learns: a duplicate ack names the first event (so the
// caller can read and join it); a wrong-last-sequence error only says the subject was taken.
//
// Pure string formatting: fingerprints are computed by the caller (the domain hashes nothing itself,
// see admission.ts) and passed in as hex strings.
import type { DecompositionEvent } from './events.js'

/**
 * TaskCreated: `task:<taskId>:<fingerprint of taskId, title, description, priority, metadata>`.
 * The same task.create retried within the window is a duplicate and answers the first event; the
 * same id with other content gets a different msgID and fails the expected-sequence check (conflict).
 */
export function taskCreatedMsgId(taskId: string, fingerprint: string): string {
  return `task:${taskId}:${fingerprint}`
}

/**
 * AttachmentCreated: `attachment:<taskId>:<key>:<fingerprint of the attachment>`. Same attachment
 * retried within the window → duplicate; the same key with another value → expected-sequence conflict.
 */
export function attachmentCreatedMsgId(taskId: string, key: string, fingerprint: string): string {
  return `attachment:${taskId}:${key}:${fingerprint}`
}

/**
 * DecompositionRequested of a keyed request (Idempotency-Key): `requested:<decompositionId>`, the id
 * being derived from the caller's idempotency scope and the key. Inside the window a retry is a
 * duplicate; after it, the expected-sequence check on the id's `requested` subject refuses it, so the
 * key names one first attempt for ever.
 */
export function keyedRequestedMsgId(decompositionId: string): string {
  return `requested:${decompositionId}`
}

/**
 * DecompositionRequested of a request without a key: `requested:auto:<fingerprint of caller, explicit
 * session, taskId, task, priority, constraints, metadata>`. The same request within the window is a
 * duplicate whose ack names the first decomposition (which the retry joins). After the window it is
 * a new decomposition: keyless dedup lasts 2 minutes, no longer.
 */
export function autoRequestedMsgId(fingerprint: string): string {
  return `requested:auto:${fingerprint}`
}

/**
 * A new attempt after the failed attempt `failedId`: `<first msgID>:after:<failedId>`, where the
 * first msgID is the request's keyed or auto msgID. Naming the failed attempt makes every concurrent
 * retry of the same failure append the same msgID, so they share one new attempt (the others get a
 * duplicate naming it, or, for a keyed attempt after the window, its id's expected-sequence check).
 */
export function newAttemptMsgId(firstMsgId: string, failedId: string): string {
  return `${firstMsgId}:after:${failedId}`
}

/**
 * The outcome step (DecompositionSampled or DecompositionFailed) of a decomposition:
 * `<event type>:<decompositionId>`. A redelivered Requested event re-sampled within the window is a
 * duplicate; the outcome subject's expected sequence keeps one outcome per decomposition for ever.
 */
export function outcomeMsgId(type: DecompositionEvent['type'], decompositionId: string): string {
  return `${type}:${decompositionId}`
}

/**
 * The small DecompositionFailed recorded instead of an outcome too big for the log:
 * `<event type>:<decompositionId>:substitute`, distinct from the outcome's msgID (which the oversized
 * append may have claimed in the window without storing anything).
 */
export function substituteOutcomeMsgId(type: DecompositionEvent['type'], decompositionId: string): string {
  return `${type}:${decompositionId}:substitute`
}

/** DecompositionPersisted: `persisted:<decompositionId>`; one per decomposition (with the step subject's expected sequence). */
export function persistedMsgId(decompositionId: string): string {
  return `persisted:${decompositionId}`
}

/** SubtasksReleased: `released:<decompositionId>`; one release per decomposition (with the step subject's expected sequence). */
export function releasedMsgId(decompositionId: string): string {
  return `released:${decompositionId}`
}
