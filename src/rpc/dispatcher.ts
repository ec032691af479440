// Turns a request body into a response body. Transport-free, so handlers can be driven directly in
// tests (fastify's `inject` idea); the NATS server is a thin shell around `dispatch`.
import { DecomposerError, InvalidParamsError, InvalidRequestError, MethodNotFoundError, StorageError } from '../errors.js'
import type { Logger } from '../log.js'
import { errorRequestId, failure, parseBody, requestIdOf, success, validateRequest } from './json-rpc.js'
import type { JsonRpcResponse } from './json-rpc.js'
import type { JsonRpcErrorObject } from '../errors.js'
import type { AuthenticatedUser } from './caller.js'
import { admitParams, checkBatchLength, checkHeaders, checkRequestBytes, limits, utf8Bytes } from './limits.js'

export interface RequestContext {
  /** `Session-Id` header */
  sessionId?: string | undefined
  /** `Client-Id` header */
  clientId?: string | undefined
  /** `Idempotency-Key` header */
  idempotencyKey?: string | undefined
  /** The authenticated NATS user, when the server vouches for one (see caller.ts). */
  user?: AuthenticatedUser | undefined
}

export type MethodHandler = (params: unknown, ctx: RequestContext) => Promise<unknown>
export type MethodTable = Readonly<Record<string, MethodHandler>>

export interface Dispatcher {
  /**
   * @param boundMethod the method of a `rpc.<method>` subject; batches are refused there, and a
   *   body naming another method is an invalid request.
   * @returns the response text, or undefined when nothing is to be sent (notifications).
   */
  dispatch(body: string, ctx: RequestContext, boundMethod?: string): Promise<DispatchOutcome>
}

export interface DispatchOutcome {
  body: string | undefined
  /** The first error code, for the Services API error headers. */
  errorCode?: number
  errorMessage?: string
}

export interface DispatcherOptions {
  /** Bytes one reply (a whole batch's included) may have: the transport's max payload less headers. */
  replyBytes?: number
}

export function createDispatcher(
  methods: MethodTable,
  log: Logger,
  deprecated: Readonly<Record<string, string>> = {},
  options: DispatcherOptions = {},
): Dispatcher {
  const replyBytes = options.replyBytes ?? limits.replyBytes

  async function one(item: unknown, ctx: RequestContext, boundMethod: string | undefined): Promise<JsonRpcResponse | undefined> {
    let notification = false
    try {
      const req = validateRequest(item)
      notification = req.id === undefined
      const method = req.method
      if (boundMethod !== undefined && method !== boundMethod) {
        throw new InvalidRequestError(`Invalid Request: method "${method}" sent to the subject of "${boundMethod}"`, { field: 'method' })
      }
      const handler = Object.hasOwn(methods, method) ? methods[method] : undefined
      if (!handler) throw new MethodNotFoundError(`Method not found: ${method}`, { method })
      // Admission: nothing below runs for a request over a limit, so it appends nothing and spends
      // no rate limit. Depth comes first because everything after it recurses.
      const headerError = checkHeaders(ctx)
      if (headerError) throw headerError
      admitParams(req.params)
      if (deprecated[method]) log.warn('deprecated method called', { method, use: deprecated[method], clientId: ctx.clientId })
      const result = await handler(req.params, ctx)
      return notification ? undefined : success(req.id ?? null, result)
    } catch (err) {
      // Expected failures (bad input, not found, rate limited) are the client's business; anything
      // else is ours and gets logged with its cause.
      if (!(err instanceof DecomposerError)) {
        log.error('request failed', { err: err as Error, method: (item as { method?: unknown })?.method })
      } else if (err instanceof StorageError) {
        log.warn('request failed on storage', { err, method: (item as { method?: unknown })?.method })
      }
      if (notification) return undefined
      return failure(errorRequestId(err) ?? requestIdOf(item), err)
    }
  }

  /**
   * One request's reply text, replaced by a small error when `take` refuses its size: `take` checks
   * and spends the budget in one step, once the reply is done (in a batch, others finish meanwhile).
   */
  async function oneText(item: unknown, ctx: RequestContext, boundMethod: string | undefined, take: (bytes: number) => boolean): Promise<Reply | undefined> {
    const response = await one(item, ctx, boundMethod)
    if (response === undefined) return undefined
    const text = JSON.stringify(response)
    const bytes = utf8Bytes(text)
    if (take(bytes)) return { text, bytes, error: 'error' in response ? response.error : undefined }
    log.warn('reply over the size limit answered with an error', { method: (item as { method?: unknown })?.method, bytes, limit: replyBytes })
    return replyOf(failure(response.id, replyTooLarge(bytes, replyBytes)))
  }

  /**
   * A batch shares one reply budget and runs `limits.batchConcurrency` items at a time, so its
   * memory is bounded by what is in flight plus the budget, whatever the items ask for. Items left
   * when the budget is spent are not run at all, and say so (`batch_budget_exhausted`).
   */
  async function batch(items: unknown[], ctx: RequestContext): Promise<DispatchOutcome> {
    const replies: (Reply | undefined)[] = new Array(items.length).fill(undefined)
    let spent = 2 // the brackets
    let next = 0
    const take = (bytes: number) => {
      if (spent + bytes + 1 > replyBytes) {
        spent = replyBytes // this one did not fit: the rest will not be run
        return false
      }
      spent += bytes + 1
      return true
    }
    const worker = async () => {
      while (next < items.length) {
        const i = next++
        const item = items[i]
        if (spent >= replyBytes) {
          // A notification gets no answer, and is not run either: the batch is over its budget.
          if (!isNotification(item)) replies[i] = replyOf(failure(requestIdOf(item), budgetExhausted(replyBytes)))
          continue
        }
        const reply = await oneText(item, ctx, undefined, take)
        if (reply !== undefined) replies[i] = reply
      }
    }
    await Promise.all(Array.from({ length: Math.min(limits.batchConcurrency, items.length) }, worker))
    const present = replies.filter((r): r is Reply => r !== undefined)
    if (present.length === 0) return { body: undefined }
    const firstError = present.find((r) => r.error !== undefined)?.error
    return { body: `[${present.map((r) => r.text).join(',')}]`, ...(firstError ? { errorCode: firstError.code, errorMessage: firstError.message } : {}) }
  }

  return {
    async dispatch(body, ctx, boundMethod) {
      const tooBig = checkRequestBytes(body)
      if (tooBig) return outcome(failure(null, tooBig))
      const parsed = parseBody(body)
      if (parsed.kind === 'invalid') return outcome(parsed.response)
      if (parsed.kind === 'single') {
        if (boundMethod !== undefined && typeof parsed.item === 'object' && parsed.item !== null && !('method' in parsed.item)) {
          // On a method subject the method may be left out of the body.
          ;(parsed.item as Record<string, unknown>).method = boundMethod
        }
        const reply = await oneText(parsed.item, ctx, boundMethod, (bytes) => bytes <= replyBytes)
        if (reply === undefined) return { body: undefined }
        return reply.error ? { body: reply.text, errorCode: reply.error.code, errorMessage: reply.error.message } : { body: reply.text }
      }
      if (boundMethod !== undefined) {
        return outcome(failure(null, new InvalidRequestError(`Invalid Request: batches go to the generic subject, not to "${boundMethod}"`)))
      }
      const tooMany = checkBatchLength(parsed.items.length)
      if (tooMany) return outcome(failure(null, tooMany))
      return batch(parsed.items, ctx)
    },
  }
}

/**
 * The answer to a request whose NATS header block could not be read (nats.js throws on a header
 * name with a space or a control character): an envelope error, echoing the id when the body is a
 * single readable request; nothing for a notification. For the server, which reads the headers.
 */
export function headerFailure(body: string): DispatchOutcome {
  const error = new InvalidRequestError('Invalid Request: the NATS header block is malformed', { field: 'headers', reason: 'invalid_headers' })
  if (checkRequestBytes(body)) return outcome(failure(null, error))
  const parsed = parseBody(body)
  if (parsed.kind !== 'single') return outcome(failure(null, error))
  if (isNotification(parsed.item)) return { body: undefined }
  return outcome(failure(requestIdOf(parsed.item), error))
}

/** A request the dispatcher will not answer: a well-formed envelope without an id. */
function isNotification(item: unknown): boolean {
  try {
    return validateRequest(item).id === undefined
  } catch {
    return false
  }
}

/** -32602 like the methods' own `reply_too_large` (payload-limits.ts): the params asked for too much. */
function replyTooLarge(bytes: number, limitBytes: number): InvalidParamsError {
  return new InvalidParamsError(`Invalid params: the reply would be ${bytes} bytes, more than the limit of ${limitBytes} (it ran; ask for less)`, {
    field: 'params',
    reason: 'reply_too_large',
    bytes,
    limitBytes,
    executed: true,
  })
}

function budgetExhausted(limitBytes: number): InvalidRequestError {
  return new InvalidRequestError(`Invalid Request: not run, the batch's replies reached the limit of ${limitBytes} bytes; send it separately`, {
    field: 'batch',
    reason: 'batch_budget_exhausted',
    limitBytes,
    executed: false,
  })
}

/** One serialized response, with its size and error (for the Services API headers). */
interface Reply {
  text: string
  bytes: number
  error: JsonRpcErrorObject | undefined
}

function replyOf(response: JsonRpcResponse): Reply {
  const text = JSON.stringify(response)
  return { text, bytes: utf8Bytes(text), error: 'error' in response ? response.error : undefined }
}

function outcome(response: JsonRpcResponse | undefined): DispatchOutcome {
  if (!response) return { body: undefined }
  const body = JSON.stringify(response)
  return 'error' in response ? { body, errorCode: response.error.code, errorMessage: response.error.message } : { body }
}
