// Every bound on what one request may carry or cause, in one place, and the pure checks that apply
// them at admission: before a handler runs, so a refused request appends nothing, spends no rate
// limit and costs at most one linear pass over a body the size limit already bounded.
import { InvalidParamsError, InvalidRequestError } from '../errors.js'
import { displayable, findUnstorableText, isStorableText, pointerToken } from '../domain/storable-text.js'
import { registryBounds } from '../store/specialist-registry.js'

export const limits = {
  /**
   * Bytes of one request body (UTF-8), checked before JSON.parse. The biggest legitimate request is
   * a `task.create_attachment` at `attachmentValueBytes` (256 KiB) plus its envelope, or, as
   * JSON-escaped text, up to 1.5× that; a worst-case `task.decompose` (1000 + 50 × 1000 characters
   * of 4-byte UTF-8, plus 16 KiB of metadata) is about 220 KB. 512 KiB covers both and stays under
   * NATS's default max_payload (1 MiB), so the limit, not the transport, answers.
   */
  requestBytes: 512 * 1024,
  /** Nesting of params (objects and arrays). Real params are 3 deep; 32 leaves room for metadata. */
  depth: 32,
  /** Requests in one batch. Each may do real work (a decomposition, an append); 50 is plenty. */
  batchItems: 50,
  /** Batch items run at once: bounds the memory of a batch to this many replies in flight. */
  batchConcurrency: 8,
  /**
   * Bytes of one reply. A reply over NATS's max_payload (1 MiB by default) cannot be sent at all
   * (nats.js throws and the caller would just time out), so a bigger one is answered with an
   * error instead; 1 KiB is left for the error headers (Nats-Service-Error is at most 512
   * characters). A batch's replies share this budget, so a batch cannot amplify memory: once it is
   * spent, the remaining items are not run. Methods page their own replies below this
   * (payload-limits.ts); this is the net under all of them.
   */
  replyBytes: 1024 * 1024 - 1024,
  /** JSON bytes of `metadata` on task.create and task.decompose: it is copied into every event. */
  metadataBytes: 16 * 1024,
  /** JSON bytes of a registration's `metadata`: read for every decomposition (capabilities, capacity). */
  registrationMetadataBytes: 4 * 1024,
  /** JSON bytes of an attachment value: one event, one row, and a reply that must fit `replyBytes`. */
  attachmentValueBytes: 256 * 1024,
  /** Characters of the `Session-Id`, `Client-Id` and `Idempotency-Key` headers (keys and ids). */
  headerChars: 256,
  /** Live `system.register` instances per owner. */
  registrationsPerOwner: 100,
  /** Roles one registration may name. */
  rolesPerRegistration: 20,
  /** Specialist types per DecompositionRequested, and instances read to find them (the registry's own bounds). */
  specialistsPerDecomposition: registryBounds.specialistsPerDecomposition,
  instancesRead: registryBounds.instancesRead,
} as const

/** UTF-8 length of `s` (Buffer.byteLength counts without allocating). */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

/** JSON bytes of a value; only call it once the depth is known to be bounded (stringify recurses). */
export function jsonBytes(value: unknown): number {
  return value === undefined ? 0 : utf8Bytes(JSON.stringify(value))
}

/** The request-size check, before the body is parsed. */
export function checkRequestBytes(body: string, max: number = limits.requestBytes): InvalidRequestError | undefined {
  if (body.length * 3 <= max) return undefined // a UTF-16 unit is at most 3 UTF-8 bytes
  const bytes = utf8Bytes(body)
  if (bytes <= max) return undefined
  return new InvalidRequestError(`Invalid Request: the request is ${bytes} bytes, more than the limit of ${max}`, {
    reason: 'too_large',
    bytes,
    limitBytes: max,
  })
}

export function checkBatchLength(length: number, max: number = limits.batchItems): InvalidRequestError | undefined {
  if (length <= max) return undefined
  return new InvalidRequestError(`Invalid Request: a batch holds at most ${max} requests, this one has ${length}`, {
    field: 'batch',
    reason: 'too_many_items',
    limit: max,
    actual: length,
  })
}

/**
 * The JSON pointer of the first container nested deeper than `max` (the value itself is depth 1
 * when it is an object or array), or undefined. Iterative and stops descending at the limit, so a
 * body nested 100,000 deep costs one shallow pass.
 */
export function tooDeepAt(value: unknown, max: number = limits.depth): string | undefined {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value, depth: 1, path: '' }]
  while (stack.length > 0) {
    const { value: v, depth, path } = stack.pop()!
    if (typeof v !== 'object' || v === null) continue
    if (depth > max) return path
    const entries: [string, unknown][] = Array.isArray(v) ? v.map((c, i) => [String(i), c]) : Object.entries(v)
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: depth + 1, path: `${path}/${pointerToken(displayable(key))}` })
    }
  }
  return undefined
}

/**
 * What every method's params must satisfy whatever its schema: nesting within `limits.depth`
 * (checked first: everything after, the schema check included, recurses) and only storable text,
 * object keys included. Throws InvalidParamsError naming the field, with reason `too_deep` or
 * `unstorable_text`.
 */
export function admitParams(params: unknown): void {
  const deep = tooDeepAt(params)
  if (deep !== undefined) {
    throw InvalidParamsError.fromIssues([{ path: deep, message: `is nested deeper than ${limits.depth} levels`, reason: 'too_deep' }])
  }
  const unstorable = findUnstorableText(params)
  if (unstorable !== undefined) {
    throw InvalidParamsError.fromIssues([
      { path: unstorable, message: 'contains a NUL character or an unpaired surrogate, which cannot be stored', reason: 'unstorable_text' },
    ])
  }
}

/** JSON size of one field against its byte limit; throws InvalidParamsError `too_large`. */
export function checkFieldBytes(path: string, value: unknown, max: number): void {
  const bytes = jsonBytes(value)
  if (bytes > max) {
    throw InvalidParamsError.fromIssues([{ path, message: `is ${bytes} bytes as JSON, more than the limit of ${max}`, reason: 'too_large' }])
  }
}

export interface HeaderValues {
  sessionId?: string | undefined
  clientId?: string | undefined
  idempotencyKey?: string | undefined
}

/**
 * The caller headers become rate-limit keys, idempotency scopes, registration owners and event
 * fields, so they obey the same rules as params: bounded and storable. Returns the error for the
 * first bad one (field = the header's name), or undefined.
 */
export function checkHeaders(h: HeaderValues, max: number = limits.headerChars): InvalidParamsError | undefined {
  const named: [string, string | undefined][] = [
    ['Session-Id', h.sessionId],
    ['Client-Id', h.clientId],
    ['Idempotency-Key', h.idempotencyKey],
  ]
  for (const [field, value] of named) {
    if (value === undefined) continue
    if (value.length > max) {
      return new InvalidParamsError(`Invalid params: header ${field} is longer than ${max} characters`, { field, reason: 'too_large', limit: max })
    }
    if (!isStorableText(value)) {
      return new InvalidParamsError(`Invalid params: header ${field} (${displayable(value).slice(0, 40)}) contains a NUL character or an unpaired surrogate`, {
        field,
        reason: 'unstorable_text',
      })
    }
  }
  return undefined
}
