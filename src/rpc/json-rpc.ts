// The JSON-RPC 2.0 envelope: parsing a body into requests, and building responses. Pure.
import { InvalidRequestError, ParseError, toJsonRpcError } from '../errors.js'
import type { JsonRpcErrorObject } from '../errors.js'

export type JsonRpcId = string | number | null

export interface JsonRpcRequest {
  jsonrpc: '2.0'
  method: string
  params?: unknown
  /** Absent for a notification, which gets no response. */
  id?: JsonRpcId
}

export type JsonRpcResponse =
  | { jsonrpc: '2.0'; result: unknown; id: JsonRpcId }
  | { jsonrpc: '2.0'; error: JsonRpcErrorObject; id: JsonRpcId }

export type ParsedBody =
  | { kind: 'single'; item: unknown }
  | { kind: 'batch'; items: unknown[] }
  | { kind: 'invalid'; response: JsonRpcResponse }

export function parseBody(text: string): ParsedBody {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    // V8 quotes the body around the error: keep it short and free of control characters, since
    // the message also travels in the Nats-Service-Error header.
    const detail = (e as Error).message.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 200)
    return { kind: 'invalid', response: failure(null, new ParseError(`Parse error: ${detail}`)) }
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return { kind: 'invalid', response: failure(null, new InvalidRequestError('Invalid Request: empty batch')) }
    return { kind: 'batch', items: value }
  }
  return { kind: 'single', item: value }
}

/** Checks the envelope of one request; throws InvalidRequestError carrying the id when it can be read. */
export function validateRequest(item: unknown): JsonRpcRequest {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new InvalidRequestError('Invalid Request: expected a JSON-RPC 2.0 request object')
  }
  const r = item as Record<string, unknown>
  const id = r.id
  const idOk = id === undefined || id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))
  if (!idOk) throw new InvalidRequestError('Invalid Request: id must be a string, a number or null', { field: 'id' })
  if (r.jsonrpc !== '2.0') throw withId(new InvalidRequestError('Invalid Request: jsonrpc must be "2.0"', { field: 'jsonrpc' }), id)
  if (typeof r.method !== 'string' || r.method === '') {
    throw withId(new InvalidRequestError('Invalid Request: method must be a non-empty string', { field: 'method' }), id)
  }
  if (r.params !== undefined && (typeof r.params !== 'object' || r.params === null)) {
    throw withId(new InvalidRequestError('Invalid Request: params must be an object or an array', { field: 'params' }), id)
  }
  return r as unknown as JsonRpcRequest
}

export function requestIdOf(item: unknown): JsonRpcId {
  if (typeof item === 'object' && item !== null && 'id' in item) {
    const id = (item as { id: unknown }).id
    if (typeof id === 'string' || typeof id === 'number') return id
  }
  return null
}

export function success(id: JsonRpcId, result: unknown): JsonRpcResponse {
  // A result member is mandatory on success; a handler returning nothing answers null.
  return { jsonrpc: '2.0', result: result === undefined ? null : result, id }
}

export function failure(id: JsonRpcId, err: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', error: toJsonRpcError(err), id }
}

const idOf = new WeakMap<Error, JsonRpcId>()
function withId(err: InvalidRequestError, id: unknown): InvalidRequestError {
  if (typeof id === 'string' || typeof id === 'number') idOf.set(err, id)
  return err
}
/** The id an envelope error could still read from the request, so the response can echo it. */
export function errorRequestId(err: unknown): JsonRpcId {
  return err instanceof Error ? (idOf.get(err) ?? null) : null
}
