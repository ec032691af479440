// How big the events and replies of a request can get, known before anything is appended. NATS
// drops (or refuses to send) any message over the server's max_payload, and the stream refuses any
// over its max_msg_size; an event that cannot be appended makes the step that produces it retry for
// ever, and a reply that cannot be sent leaves the caller waiting for a time-out. So every request
// is measured against the largest event it can lead to, and refused (-32602) up front when that
// event could not be written.
//
// The decomposition is the one part whose size the client does not send: the sampler writes it. It
// gets a fixed share of the limit (decompositionBudget) that every sampler's output is held to
// (see sampling/sampler.ts), so the rest is what the client may spend on task text and metadata.
import type { DecompositionRequested, DecompositionSampled } from './events.js'

/** nats-server's default max_payload, used when the connection does not say. */
export const defaultMaxPayload = 1024 * 1024
/** The stream's max_msg_size, as EventStore.open creates the stream. */
export const streamMaxMsgBytes = 1024 * 1024
/**
 * Room left for what wraps an event or a reply: NATS headers of an append (event type, msg id,
 * expected sequence; max_payload counts headers too) and the JSON-RPC envelope of a reply.
 */
export const transportAllowance = 4096
/**
 * Sampler info on a Sampled event: provider, model and prompt version of at most 100 characters
 * (6 bytes each at most, as JSON), notes of at most 2 KiB, usage and latency (capped in the sampler).
 */
export const samplerInfoAllowance = 6 * 1024
/** Ids the sampler worker adds (instance id, timestamp, attachment key) beyond the request's own. */
const workerIdsAllowance = 1024
/** Per subtask, what the Postgres attachment adds to the event's subtask (`"status":"pending"`). */
const attachmentBytesPerSubtask = 32

export interface ConnectionInfo {
  info?: { max_payload: number } | undefined
}

/** The largest message the connection's server takes (replies are bound by this alone). */
export function maxPayloadOf(nc: ConnectionInfo): number {
  const n = nc.info?.max_payload
  return typeof n === 'number' && n > 0 ? n : defaultMaxPayload
}

/** The largest event JSON an append can carry: the server's and the stream's limit, less the headers. */
export function eventLimit(maxPayload: number): number {
  return Math.min(maxPayload, streamMaxMsgBytes) - transportAllowance
}

/** Bytes the accepted decomposition's JSON may take: half the event limit; the client has the rest. */
export function decompositionBudget(maxPayload: number): number {
  return Math.floor(eventLimit(maxPayload) / 2)
}

/** UTF-8 bytes of a value's JSON, as it is appended or sent. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8')
}

export interface SizeProblem {
  /** The param that makes it too big: the largest of those the client controls. */
  field: string
  /** Bytes of the largest event (an upper bound where the sampler's output is involved). */
  bytes: number
  limitBytes: number
}

/** The request field with the most bytes among `fields` (metadata, constraints, task, …). */
export function largestField(fields: Readonly<Record<string, unknown>>): string {
  let best = ''
  let bestBytes = -1
  for (const [name, value] of Object.entries(fields)) {
    const bytes = value === undefined ? 0 : jsonBytes(value)
    if (bytes > bestBytes) [best, bestBytes] = [name, bytes]
  }
  return best
}

/**
 * An upper bound of the DecompositionSampled event a request leads to, and of the Postgres
 * attachment holding the same decomposition (what task.get_attachment answers): the request's own
 * text, metadata and ids as they are, the decomposition at its budget.
 */
export function sampledEventBound(requested: DecompositionRequested, opts: { maxPayload: number; maxSubtasks: number }): number {
  const skeleton: DecompositionSampled = {
    type: 'DecompositionSampled',
    v: 1,
    decompositionId: requested.decompositionId,
    taskId: requested.taskId,
    taskText: requested.task,
    priority: requested.priority,
    sessionId: requested.sessionId,
    ...(requested.metadata ? { metadata: requested.metadata } : {}),
    timestamp: 0,
    attachmentKey: '',
    decomposedBy: '',
    decomposition: { subtasks: [], executionStrategy: 'parallel', totalComplexity: 0, reasoning: '', architecturalConsiderations: [] },
    sampler: { provider: '', latencyMs: 0 },
  }
  return (
    jsonBytes(skeleton) +
    decompositionBudget(opts.maxPayload) +
    samplerInfoAllowance +
    workerIdsAllowance +
    opts.maxSubtasks * attachmentBytesPerSubtask
  )
}

/**
 * Whether every event a decomposition request can lead to fits: the Requested event itself (it
 * carries the constraints) and the Sampled event (task text, metadata, the whole decomposition).
 * The later events (Persisted, Released, Failed) carry less. Undefined when it fits.
 */
export function decompositionRequestProblem(
  requested: DecompositionRequested,
  opts: { maxPayload: number; maxSubtasks: number },
): SizeProblem | undefined {
  const limitBytes = eventLimit(opts.maxPayload)
  const requestedBytes = jsonBytes(requested)
  if (requestedBytes > limitBytes) {
    const field = largestField({ metadata: requested.metadata, constraints: requested.constraints, task: requested.task })
    return { field, bytes: requestedBytes, limitBytes }
  }
  const sampledBytes = sampledEventBound(requested, opts)
  if (sampledBytes > limitBytes) {
    // The Sampled event carries task text and metadata, not the constraints.
    return { field: largestField({ metadata: requested.metadata, task: requested.task }), bytes: sampledBytes, limitBytes }
  }
  return undefined
}

/** Whether one event fits as it is (task and attachment events carry only what the client sent). */
export function eventProblem(event: unknown, fields: Readonly<Record<string, unknown>>, maxPayload: number): SizeProblem | undefined {
  const limitBytes = eventLimit(maxPayload)
  const bytes = jsonBytes(event)
  return bytes > limitBytes ? { field: largestField(fields), bytes, limitBytes } : undefined
}
