// What a correct reply to a generated request looks like: a model of the JSON-RPC 2.0 rules the
// dispatcher follows, written independently of it, and the checks of a reply against it.
import { limits } from '../../src/rpc/limits.js'

type Id = string | number | null

export interface Case {
  /** The request as a value (a single request, or a batch array); ignored when `raw` is set. */
  body: unknown
  /** A body that is not JSON.stringify of anything (e.g. truncated): a parse error. */
  raw?: string
  /** Sent to `<prefix>.<bound>` instead of the generic `<prefix>`. */
  bound?: string
  headers: Record<string, string | undefined>
  /** Every request in it must be refused (no `result` anywhere). */
  hostile: boolean
}

export type Expectation =
  | { kind: 'none' }
  | { kind: 'single'; id: Id; envelope?: boolean }
  | { kind: 'batch'; ids: Id[] }

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The id a reply must carry: the request's when it is a string or a number, else null. */
function idOf(item: unknown): Id {
  const id = isObject(item) ? item['id'] : undefined
  return typeof id === 'string' || typeof id === 'number' ? id : null
}

/** A valid envelope without an id: the server must stay silent whatever happens to it. */
function isNotification(item: unknown, bound?: string): boolean {
  // An undefined member is left out by JSON.stringify, so it is absent on the wire.
  if (!isObject(item) || item['id'] !== undefined) return false
  const method = item['method'] !== undefined ? item['method'] : bound
  const params = item['params']
  const paramsOk = params === undefined || (typeof params === 'object' && params !== null)
  return item['jsonrpc'] === '2.0' && typeof method === 'string' && method !== '' && paramsOk
}

export function expectationOf(c: Case, body: string): Expectation {
  if (c.raw !== undefined || Buffer.byteLength(body) > limits.requestBytes) return { kind: 'single', id: null, envelope: true }
  const v = c.body
  if (Array.isArray(v)) {
    if (v.length === 0 || c.bound || v.length > limits.batchItems) return { kind: 'single', id: null, envelope: true }
    const ids = v.filter((item) => !isNotification(item)).map(idOf)
    return ids.length === 0 ? { kind: 'none' } : { kind: 'batch', ids }
  }
  if (isNotification(v, c.bound)) return { kind: 'none' }
  return { kind: 'single', id: idOf(v) }
}

/** Codes a client may see when the services are up: never -32603 (internal) or -32000 (storage). */
const allowedCodes = new Set([-32700, -32600, -32601, -32602, -32029])

function responseProblems(r: unknown, id: Id, hostile: boolean, envelope = false): string[] {
  const out: string[] = []
  if (!isObject(r)) return ['a response is not an object']
  if (r['jsonrpc'] !== '2.0') out.push('jsonrpc is not "2.0"')
  if (r['id'] !== id) out.push(`id ${JSON.stringify(r['id'])}, expected ${JSON.stringify(id)}`)
  const hasResult = Object.hasOwn(r, 'result')
  const error = r['error']
  if (hasResult === (error !== undefined)) out.push('needs exactly one of result and error')
  if (hasResult && hostile) out.push('a hostile request succeeded')
  if (error === undefined) return out
  if (!isObject(error) || !Number.isInteger(error['code']) || typeof error['message'] !== 'string') return [...out, 'malformed error']
  const code = error['code'] as number
  if (!allowedCodes.has(code)) out.push(`code ${code}: ${String(error['message']).slice(0, 200)}`)
  if (envelope && code !== -32700 && code !== -32600) out.push(`code ${code} for a body-level refusal`)
  const data = error['data']
  if ([-32700, -32600, -32602].includes(code) && !(isObject(data) && typeof data['reason'] === 'string')) out.push(`code ${code} without data.reason`)
  if (code === -32602 && !(isObject(data) && typeof data['field'] === 'string')) out.push('-32602 without data.field')
  return out
}

/** What is wrong with a reply text, given what was expected; empty when it is right. */
export function problemsOf(text: string, expected: Expectation, hostile: boolean): string[] {
  let reply: unknown
  try {
    reply = JSON.parse(text)
  } catch {
    return [`reply is not JSON: ${text.slice(0, 200)}`]
  }
  if (expected.kind === 'none') return ['a reply to a notification']
  if (expected.kind === 'single') {
    if (Array.isArray(reply)) return ['an array reply to a single request']
    return responseProblems(reply, expected.id, hostile, expected.envelope)
  }
  if (!Array.isArray(reply)) return [`a batch answered with ${text.slice(0, 200)}`]
  if (reply.length !== expected.ids.length) return [`${reply.length} responses for ${expected.ids.length} requests`]
  return reply.flatMap((r, i) => responseProblems(r, expected.ids[i]!, hostile).map((p) => `[${i}] ${p}`))
}
