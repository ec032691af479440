// Turns a request body into a response body. Transport-free, so handlers can be driven directly in
// tests (fastify's `inject` idea); the NATS server is a thin shell around `dispatch`.
import { DecomposerError, InvalidRequestError, MethodNotFoundError, StorageError } from '../errors.js'
import type { Logger } from '../log.js'
import { errorRequestId, failure, parseBody, requestIdOf, success, validateRequest } from './json-rpc.js'
import type { JsonRpcResponse } from './json-rpc.js'
import type { AuthenticatedUser } from './caller.js'

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

export function createDispatcher(methods: MethodTable, log: Logger, deprecated: Readonly<Record<string, string>> = {}): Dispatcher {
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

  return {
    async dispatch(body, ctx, boundMethod) {
      const parsed = parseBody(body)
      if (parsed.kind === 'invalid') return outcome(parsed.response)
      if (parsed.kind === 'single') {
        if (boundMethod !== undefined && typeof parsed.item === 'object' && parsed.item !== null && !('method' in parsed.item)) {
          // On a method subject the method may be left out of the body.
          ;(parsed.item as Record<string, unknown>).method = boundMethod
        }
        return outcome(await one(parsed.item, ctx, boundMethod))
      }
      if (boundMethod !== undefined) {
        return outcome(failure(null, new InvalidRequestError(`Invalid Request: batches go to the generic subject, not to "${boundMethod}"`)))
      }
      const responses = (await Promise.all(parsed.items.map((item) => one(item, ctx, undefined)))).filter(
        (r): r is JsonRpcResponse => r !== undefined,
      )
      if (responses.length === 0) return { body: undefined }
      const firstError = responses.find((r) => 'error' in r)
      return {
        body: JSON.stringify(responses),
        ...(firstError && 'error' in firstError ? { errorCode: firstError.error.code, errorMessage: firstError.error.message } : {}),
      }
    },
  }
}

function outcome(response: JsonRpcResponse | undefined): DispatchOutcome {
  if (!response) return { body: undefined }
  const body = JSON.stringify(response)
  return 'error' in response ? { body, errorCode: response.error.code, errorMessage: response.error.message } : { body }
}
