// The loop shared by every projector and process manager: a durable pull consumer on one filter
// subject (nats-server 2.9 takes exactly one), a bounded number of events in flight, and a clear
// policy per outcome:
//   success                        → ack (the durable consumer's ack floor is the checkpoint)
// (acks, naks and terms leave at the end of the event-loop turn, all of a turn's in one write)
//   a store outage                 → nak with exponential backoff, retried until it succeeds
//   refused by a store, or a bug   → nak with backoff; parked after `afterAttempts` deliveries
//   PoisonEventError / bad state   → parked at once
// Parked: recorded (store/parked.ts), logged with its sequence, counted, then termed, so one event
// nothing can apply never stalls a consumer. The stream keeps it; `decomposer parked --retry`
// re-drives it. See failure-kind.ts for how an outage is told from a refusal.
// Handlers must be idempotent: JetStream delivers at least once.
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream'
import { JsCode, isJsError } from '../store/jetstream-codes.js'
import type { ConsumerMessages, JetStreamManager, JsMsg } from '@nats-io/jetstream'
import type { Logger } from '../log.js'
import { decodeEvent, eventTypeHeader } from '../store/event-store.js'
import type { ParkedEntry } from '../store/parked.js'
import { classifyFailure, failureMessage } from './failure-kind.js'
import type { DomainEvent } from '../domain/events.js'
import type { EventStore, StoredEvent } from '../store/event-store.js'
import { atEndOfTurn } from '../store/turn-batch.js'

export interface ConsumerSpec {
  /** Durable name; unique per stream and purpose. */
  durable: string
  filterSubject: string
  /** Events processed at once by this instance. */
  concurrency: number
  ackWaitMs?: number
  /** The event types the handler acts on; others are acked without being decoded. */
  eventTypes?: readonly DomainEvent['type'][]
}

export type EventHandler = (stored: StoredEvent, msg: JsMsg) => Promise<void>

export interface Parking {
  /** Where parked entries are recorded (store/parked.ts). */
  store: { park(entry: ParkedEntry): Promise<void> }
  /** Deliveries after which an event that keeps failing, other than by an outage, is parked. */
  afterAttempts: number
}

export interface ConsumerStats {
  durable: string
  /** Events this instance parked since it started (for metrics). */
  parked: number
}

export interface RunningConsumer {
  stop(): Promise<void>
  stats(): ConsumerStats
}

const maxBackoffMs = 10_000

export async function ensureConsumer(jsm: JetStreamManager, stream: string, spec: ConsumerSpec): Promise<void> {
  const config = {
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: spec.filterSubject,
    ack_wait: (spec.ackWaitMs ?? 30_000) * 1_000_000,
    max_deliver: -1,
    max_ack_pending: Math.max(1000, spec.concurrency * 4),
  }
  try {
    await jsm.consumers.add(stream, config)
  } catch (err) {
    // It exists with a different config (e.g. a changed ack wait) → update it in place.
    if (isJsError(err, JsCode.ConsumerNameInUse)) await jsm.consumers.update(stream, spec.durable, config)
    else throw err
  }
}

export async function runConsumer(
  store: EventStore,
  spec: ConsumerSpec,
  handler: EventHandler,
  log: Logger,
  parking: Parking,
): Promise<RunningConsumer> {
  await ensureConsumer(store.jsm, store.streamName, spec)
  let stopped = false
  let messages: ConsumerMessages | undefined
  const inFlight = new Set<Promise<void>>()
  const clog = log.child({ consumer: spec.durable })
  let lastReport = 0
  let suppressed = 0
  let parked = 0

  async function handle(msg: JsMsg): Promise<void> {
    let stored: StoredEvent | undefined
    const type = msg.headers?.get(eventTypeHeader)
    if (type && spec.eventTypes && !spec.eventTypes.includes(type as DomainEvent['type'])) {
      atEndOfTurn(() => msg.ack())
      return
    }
    try {
      stored = { seq: msg.seq, subject: msg.subject, event: decodeEvent(msg.data) }
      await handler(stored, msg)
      atEndOfTurn(() => msg.ack())
    } catch (err) {
      const kind = classifyFailure(err)
      const attempts = msg.info.deliveryCount
      // The delivery count includes deliveries that failed during an outage, so an event first
      // refused after a long outage is parked at once; `parked --retry` re-drives it if that was wrong.
      if (kind === 'outage' || (kind === 'refused' && attempts < parking.afterAttempts)) {
        retryLater(msg, stored?.event.type ?? type, err, kind)
        return
      }
      const entry = parkedEntry(spec.durable, msg, stored?.event.type ?? type, err, Date.now())
      try {
        await parking.store.park(entry)
      } catch (recordErr) {
        // Never drop an event without its record: with nowhere to write it, retry it later.
        retryLater(msg, entry.type, recordErr, 'outage')
        return
      }
      parked++
      clog.error(`event parked at seq ${msg.seq}: ${kind === 'never' ? 'it can never be applied' : `failed ${attempts} times`}`, {
        seq: msg.seq,
        subject: msg.subject,
        type: entry.type,
        attempts,
        err: entry.error,
      })
      // No reason text: nats-server 2.9 ignores a `+TERM <reason>` (2.10 added it), which left the
      // event pending and redelivered after every ack wait. The entry and the log line hold the why.
      atEndOfTurn(() => msg.term())
    }
  }

  function retryLater(msg: JsMsg, type: string | undefined, err: unknown, kind: string): void {
    const delay = Math.min(maxBackoffMs, 100 * 2 ** Math.min(msg.info.deliveryCount, 10))
    // During an outage every event fails the same way: one line per consumer every 5 s, with
    // how many failures it stands for, instead of one per event.
    const now = Date.now()
    suppressed++
    if (now - lastReport >= 5000) {
      clog.warn('events failing; retrying with backoff', {
        seq: msg.seq,
        type,
        kind,
        attempt: msg.info.deliveryCount,
        retryInMs: delay,
        failuresSinceLastReport: suppressed,
        err: err as Error,
      })
      lastReport = now
      suppressed = 0
    }
    atEndOfTurn(() => msg.nak(delay))
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        const consumer = await store.js.consumers.get(store.streamName, spec.durable)
        // Short pulls: after a NATS restart a lost pull request is noticed (missed heartbeats) within
        // seconds, not the default 30 s.
        messages = await consumer.consume({ max_messages: Math.max(64, spec.concurrency * 2), expires: 5000 })
        for await (const msg of messages) {
          const p = handle(msg).finally(() => inFlight.delete(p))
          inFlight.add(p)
          if (inFlight.size >= spec.concurrency) await Promise.race(inFlight)
        }
        if (!stopped) await new Promise((r) => setTimeout(r, 250)) // iterator ended under us: back off, resubscribe
      } catch (err) {
        if (stopped) break
        clog.warn('consumer interrupted; resubscribing', { err: err as Error })
        await new Promise((r) => setTimeout(r, 1000))
        try {
          await ensureConsumer(store.jsm, store.streamName, spec)
        } catch {
          /* retried on the next turn */
        }
      }
    }
  })()

  return {
    async stop() {
      stopped = true
      messages?.stop()
      await loop
      await Promise.allSettled([...inFlight])
    },
    stats: () => ({ durable: spec.durable, parked }),
  }
}

/** The record of a parked delivery (pure). `type` is the event's, else its header's, else unknown. */
export function parkedEntry(consumer: string, msg: Pick<JsMsg, 'seq' | 'subject' | 'info'>, type: string | undefined, err: unknown, now: number): ParkedEntry {
  return {
    consumer,
    seq: msg.seq,
    subject: msg.subject,
    type: type || 'unknown', // a missing header reads as ''
    error: failureMessage(err),
    attempts: msg.info.deliveryCount,
    parkedAt: now,
  }
}
