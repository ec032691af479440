// The service answers requests with its own NATS permissions, so a reply subject is an instruction
// to publish wherever the requester says: `$JS.API.STREAM.PURGE.<stream>` would purge the log, an
// event subject would write into it, `task.subtask.ready` would announce a forgery to every
// subscriber. Replies therefore go only to inbox subjects (`_INBOX.…`, per-user `_INBOX_<user>.…`,
// and `_R_.…`, the reply subjects nats-server maps for requests crossing an account import), never
// under the service's own inbox prefix (its JetStream deliveries). Anything else is dropped before
// the handler runs, counted, and logged once per client.
import type { Msg, NatsConnection, Subscription, SubscriptionOptions } from '@nats-io/nats-core'
import type { Logger } from '../log.js'

export interface ReplyPolicy {
  /** First tokens allowed: `_INBOX` allows `_INBOX.x` and `_INBOX_<anything>.x`. */
  prefixes: readonly string[]
  /** The service's own inbox prefix: its JetStream traffic, never a reply target. */
  ownInboxPrefix: string
}

export function replyAllowed(reply: string, policy: ReplyPolicy): boolean {
  if (reply.length === 0 || reply.length > 512 || /[\s*>]/.test(reply)) return false
  const first = reply.slice(0, reply.indexOf('.'))
  if (reply.indexOf('.') <= 0 || reply.endsWith('.') || reply.includes('..')) return false
  if (first === policy.ownInboxPrefix) return false
  return policy.prefixes.some((p) => first === p || (first.startsWith(`${p}_`) && first.length > p.length + 1))
}

export interface ReplyGuard {
  /** A NATS connection whose subscriptions never see a request with a refused reply subject. */
  wrap(nc: NatsConnection): NatsConnection
  /** Requests dropped so far, in total and per client. */
  refused(): { total: number; byClient: ReadonlyMap<string, number> }
}

/** At most this many clients are counted by name; the rest share one line, so rotating ids cannot grow memory. */
const maxClients = 10_000

export function createReplyGuard(policy: ReplyPolicy, log: Logger, clientOf: (msg: Msg) => string): ReplyGuard {
  let total = 0
  const byClient = new Map<string, number>()
  const refuse = (msg: Msg, subject: string) => {
    total++
    let client = clientOf(msg)
    if (!byClient.has(client) && byClient.size >= maxClients) client = '(others)'
    const count = (byClient.get(client) ?? 0) + 1
    byClient.set(client, count)
    if (count === 1) {
      log.warn('request dropped: reply subject is not an inbox', { client, subject, reply: msg.reply!.slice(0, 200) })
    }
  }
  return {
    wrap(nc) {
      const subscribe = (subject: string, opts?: SubscriptionOptions): Subscription => {
        const callback = opts?.callback
        if (!callback) return nc.subscribe(subject, opts)
        return nc.subscribe(subject, {
          ...opts,
          callback: (err, msg) => {
            if (!err && msg?.reply && !replyAllowed(msg.reply, policy)) return refuse(msg, subject)
            callback(err, msg)
          },
        })
      }
      return new Proxy(nc, {
        get(target, prop) {
          if (prop === 'subscribe') return subscribe
          const value = Reflect.get(target, prop, target) as unknown
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
        },
      })
    },
    refused: () => ({ total, byClient }),
  }
}
