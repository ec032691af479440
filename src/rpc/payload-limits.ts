// What the RPC methods do with the size limits of domain/event-size.ts: refuse a request whose
// events would not fit (-32602, `too_large`, naming the param), and build replies that fit
// max_payload. A reply over max_payload is never sent: nats.js refuses to publish it and the
// caller waits for a time-out after the work is done, so a reply is paged, or refused with
// -32602 `reply_too_large` when even one item cannot fit.
import { jsonBytes, maxPayloadOf, transportAllowance } from '../domain/event-size.js'
import type { ConnectionInfo, SizeProblem } from '../domain/event-size.js'
import { PayloadTooLargeError } from '../errors.js'

/** -32602 for a request whose `what` (an event it leads to) would be too big; names the param. */
export function tooLargeError(problem: SizeProblem, what: string): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `Invalid params: ${problem.field} is too large: ${what} would take up to ${problem.bytes} bytes; the event log takes ${problem.limitBytes}`,
    { field: problem.field, reason: 'too_large', bytes: problem.bytes, limitBytes: problem.limitBytes },
  )
}

/** Bytes a reply's JSON may take on this connection: max_payload less the JSON-RPC envelope and headers. */
export function replyBudget(nc: ConnectionInfo): number {
  return maxPayloadOf(nc) - transportAllowance
}

/**
 * How many of `items`, in order, fit a reply of `budget` bytes that is `usedBytes` already (the
 * reply without them). Pure; the caller decides what a page that fits nothing means.
 */
export function itemsThatFit(items: readonly unknown[], usedBytes: number, budget: number): { count: number; bytes: number } {
  let bytes = usedBytes
  let count = 0
  for (const item of items) {
    const next = bytes + jsonBytes(item) + (count > 0 ? 1 : 0) // the comma between items
    if (next > budget) break
    bytes = next
    count++
  }
  return { count, bytes }
}

/** -32602 for a reply that cannot be sent at all: one item alone is over the budget. */
export function replyTooLargeError(message: string, data: { field: string; bytes: number; limitBytes: number } & Record<string, unknown>): PayloadTooLargeError {
  return new PayloadTooLargeError(`Invalid params: ${message}`, { ...data, reason: 'reply_too_large' })
}
