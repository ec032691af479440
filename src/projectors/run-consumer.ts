// The loop shared by every projector and process manager: a durable pull consumer on one filter
// subject (nats-server 2.9 takes exactly one), a bounded number of events in flight, and a clear
// policy per outcome:
//   success                       → ack (the durable consumer's ack floor is the checkpoint)
// (acks, naks and terms leave at the end of the event-loop turn, all of a turn's in one write)
//   PoisonEventError / bad state   → log and term: parked, never retried, the stream keeps it
//   anything else (store down…)    → nak with exponential backoff, retried until it succeeds
// Handlers must be idempotent: JetStream delivers at least once.
import { AckPolicy, DeliverPolicy, JetStreamApiError } from '@nats-io/jetstream'
import type { ConsumerMessages, JetStreamManager, JsMsg } from '@nats-io/jetstream'
import { PoisonEventError } from '../errors.js'
import type { Logger } from '../log.js'
import { InvalidTransitionError } from '../domain/decomposition.js'
import { decodeEvent, eventTypeHeader } from '../store/event-store.js'
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

export interface RunningConsumer {
  stop(): Promise<void>
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
    // 10148: exists with a different config (e.g. a changed ack wait) → update it in place.
    if (err instanceof JetStreamApiError && err.code === 10148) await jsm.consumers.update(stream, spec.durable, config)
    else throw err
  }
}

export async function runConsumer(
  store: EventStore,
  spec: ConsumerSpec,
  handler: EventHandler,
  log: Logger,
): Promise<RunningConsumer> {
  await ensureConsumer(store.jsm, store.streamName, spec)
  let stopped = false
  let messages: ConsumerMessages | undefined
  const inFlight = new Set<Promise<void>>()
  const clog = log.child({ consumer: spec.durable })
  let lastReport = 0
  let suppressed = 0

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
      if (err instanceof PoisonEventError || err instanceof InvalidTransitionError) {
        clog.error('event parked: it can never be applied', { seq: msg.seq, subject: msg.subject, err: err as Error })
        atEndOfTurn(() => msg.term(String((err as Error).message).slice(0, 200)))
        return
      }
      const delay = Math.min(maxBackoffMs, 100 * 2 ** Math.min(msg.info.deliveryCount, 10))
      // During an outage every event fails the same way: one line per consumer every 5 s, with
      // how many failures it stands for, instead of one per event.
      const now = Date.now()
      suppressed++
      if (now - lastReport >= 5000) {
        clog.warn('events failing; retrying with backoff', {
          seq: msg.seq,
          type: stored?.event.type,
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
  }
}
