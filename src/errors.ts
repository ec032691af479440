// One error registry. Every failure that can reach a client is one of these classes, and exactly one
// function (toJsonRpcError) turns an error into a wire error. Adapters translate foreign errors
// (JetStream, ioredis, pg) into these at the boundary so callers branch on type, never on text.

export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  Internal: -32603,
  Storage: -32000,
  SamplingTimeout: -32001,
  CircuitOpen: -32002,
  RateLimited: -32029,
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

export interface FieldIssue {
  /** JSON pointer into the params, e.g. "/constraints/2". */
  path: string
  message: string
  /** Stable machine-readable cause (see `Reason`); `invalid` when absent. */
  reason?: Reason
}

/**
 * Stable values of `error.data.reason`: every error a client receives carries one, so clients (and
 * our own CLI) branch on it instead of on message text (see README, RPC).
 */
export type Reason =
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'unstorable_text'
  | 'too_deep'
  | 'too_large'
  | 'too_many_items'
  | 'too_many_registrations'
  | 'reply_too_large'
  | 'batch_budget_exhausted'
  | 'invalid_request'
  | 'invalid_headers'
  | 'parse_error'
  | 'method_not_found'
  | 'no_session'
  | 'invalid_sample'
  | 'planner_bug'
  | 'sampler_unavailable'
  | 'timeout'
  | 'circuit_open'
  | 'rate_limited'
  | 'storage'
  | 'shutting_down'
  | 'internal'

/** `data` with `reason` set, keeping one the caller chose. */
function withReason(data: Record<string, unknown> | undefined, reason: Reason): Record<string, unknown> {
  return { ...data, reason: typeof data?.['reason'] === 'string' ? data['reason'] : reason }
}

export abstract class DecomposerError extends Error {
  abstract readonly code: ErrorCode
  /** Structured detail for JSON-RPC `error.data`. */
  readonly data: Record<string, unknown> | undefined
  constructor(message: string, data?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    // Classes that set their own reason pass it in `data`; the others get their class's.
    const reason = defaultReason(this)
    this.data = reason === undefined ? data : withReason(data, reason)
  }
}

/** The reason of an error class that does not choose one itself (see Reason). */
function defaultReason(err: DecomposerError): Reason | undefined {
  if (err instanceof MethodNotFoundError) return 'method_not_found'
  if (err instanceof NoSessionError) return 'no_session'
  if (err instanceof PlannerBugError) return 'planner_bug'
  if (err instanceof InvalidDecompositionError) return 'invalid_sample'
  if (err instanceof SamplerUnavailableError) return 'sampler_unavailable'
  if (err instanceof SamplingTimeoutError) return 'timeout'
  if (err instanceof CircuitOpenError) return 'circuit_open'
  if (err instanceof RateLimitedError) return 'rate_limited'
  if (err instanceof ShuttingDownError) return 'shutting_down'
  if (err instanceof StorageError) return 'storage'
  if (err instanceof PayloadTooLargeError) return 'too_large'
  if (err instanceof InternalError) return 'internal'
  return undefined
}

/** The reason of a failure recorded before reasons existed, from its code. */
const reasonOfCode: Record<number, Reason> = {
  [ErrorCode.InvalidParams]: 'invalid',
  [ErrorCode.Internal]: 'internal',
  [ErrorCode.Storage]: 'storage',
  [ErrorCode.SamplingTimeout]: 'timeout',
  [ErrorCode.CircuitOpen]: 'circuit_open',
  [ErrorCode.RateLimited]: 'rate_limited',
}

export class ParseError extends DecomposerError {
  readonly code = ErrorCode.ParseError
  constructor(message: string, data?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, withReason(data, 'parse_error'), options)
  }
}
export class InvalidRequestError extends DecomposerError {
  readonly code = ErrorCode.InvalidRequest
  constructor(message: string, data?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, withReason(data, 'invalid_request'), options)
  }
}
export class MethodNotFoundError extends DecomposerError {
  readonly code = ErrorCode.MethodNotFound
}
/** Bad params; `data.field` names the first offending field, `data.issues` lists them all. */
export class InvalidParamsError extends DecomposerError {
  readonly code = ErrorCode.InvalidParams
  constructor(message: string, data?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, withReason(data, 'invalid'), options)
  }
  static fromIssues(issues: FieldIssue[], prefix = ''): InvalidParamsError {
    const first = issues[0] ?? { path: '', message: 'invalid params' }
    const field = fieldName(prefix + first.path)
    return new InvalidParamsError(`Invalid params: ${field || 'params'} ${first.message}`, {
      field,
      reason: first.reason ?? 'invalid',
      issues: issues.map((i) => ({ ...i, path: prefix + i.path, reason: i.reason ?? 'invalid' })),
    })
  }
}
export class NotFoundError extends DecomposerError {
  readonly code = ErrorCode.InvalidParams // the spec answers "Task X not found" with -32602
  constructor(message: string, data?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, withReason(data, 'not_found'), options)
  }
}
export class ConflictError extends DecomposerError {
  readonly code = ErrorCode.InvalidParams
  constructor(message: string, data?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, withReason(data, 'conflict'), options)
  }
}
export class NoSessionError extends DecomposerError {
  readonly code = ErrorCode.Internal
}
export class InternalError extends DecomposerError {
  readonly code = ErrorCode.Internal
}
/** The sampler's output was not a valid decomposition (after the repair round). Never retried. */
export class InvalidDecompositionError extends DecomposerError {
  readonly code = ErrorCode.Internal
}
/**
 * The offline planner (our own code, no model) produced an invalid decomposition: a bug of ours,
 * reported to the caller as an invalid decomposition and logged as an error; never a provider outage.
 */
export class PlannerBugError extends InvalidDecompositionError {}
/**
 * A provider that cannot take this request at all (no MCP bridge for the session, a client without
 * the sampling capability): expected in a fallback chain, so it is logged quietly.
 */
export class SamplerUnavailableError extends DecomposerError {
  readonly code = ErrorCode.Internal
}
export class SamplingTimeoutError extends DecomposerError {
  readonly code = ErrorCode.SamplingTimeout
}
export class CircuitOpenError extends DecomposerError {
  readonly code = ErrorCode.CircuitOpen
}
export class RateLimitedError extends DecomposerError {
  readonly code = ErrorCode.RateLimited
}
/** A backing store (Redis, Postgres, JetStream) failed. Retryable: the same call may succeed later. */
export class StorageError extends DecomposerError {
  readonly code = ErrorCode.Storage
}
/**
 * An event or reply would be larger than NATS carries (the server's max_payload, the stream's
 * max_msg_size): the request is too big, a client mistake (-32602), not a storage failure.
 * `data.reason` is `too_large` (an event) or `reply_too_large`; `data.field` names the param when known.
 */
export class PayloadTooLargeError extends DecomposerError {
  readonly code = ErrorCode.InvalidParams
}
/**
 * The instance is shutting down and its grace period ran out before this request finished.
 * Retryable: anything accepted is in the log and finishes elsewhere; a keyed retry joins it.
 */
export class ShuttingDownError extends DecomposerError {
  readonly code = ErrorCode.Storage
}

/** Optimistic-concurrency conflict on an append (JetStream API error 10071). Internal only. */
export class WrongLastSequenceError extends Error {
  constructor(
    readonly subject: string,
    readonly expected: number,
  ) {
    super(`append to ${subject} expected last sequence ${expected} but the subject has moved on`)
    this.name = 'WrongLastSequenceError'
  }
}

/** Marks a projector/worker failure that will never succeed on redelivery (park the event). */
export class PoisonEventError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'PoisonEventError'
  }
}

export interface JsonRpcErrorObject {
  code: number
  message: string
  data?: unknown
}

/** The single boundary: any thrown value becomes a JSON-RPC error object. Internal details stay in logs. */
export function toJsonRpcError(err: unknown): JsonRpcErrorObject {
  if (err instanceof DecomposerError) {
    return err.data === undefined
      ? { code: err.code, message: err.message }
      : { code: err.code, message: err.message, data: err.data }
  }
  return { code: ErrorCode.Internal, message: 'Internal error', data: { reason: 'internal' } }
}

/** "/constraints/2" → "constraints[2]", "/metadata/a" → "metadata.a" */
export function fieldName(pointer: string): string {
  return pointer
    .split('/')
    .filter((p) => p !== '')
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('')
}

/** A failure recorded in the log (DecompositionFailed) travelling back to the client with its code. */
export class RecordedFailureError extends DecomposerError {
  readonly code: ErrorCode
  constructor(code: number, message: string, data?: unknown) {
    const recorded = data === undefined ? undefined : typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : { detail: data }
    super(message, withReason(recorded, reasonOfCode[code] ?? 'internal'))
    this.code = code as ErrorCode
  }
}
