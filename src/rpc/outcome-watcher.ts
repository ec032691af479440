// Lets an RPC call wait for its decomposition's outcome. Each instance follows the outcome and
// persisted steps with ordered (ephemeral) consumers starting at "new"; calls register before they append,
// so no outcome can slip between the append and the wait. An outcome is Persisted (with the Sampled
// event seen earlier, or fetched by sequence) or Failed.
import { DeliverPolicy } from '@nats-io/jetstream'
import type { ConsumerMessages } from '@nats-io/jetstream'
import type { Logger } from '../log.js'
import type { DecompositionFailed, DecompositionSampled, DomainEvent } from '../domain/events.js'
import { decodeEvent, stepSubjectParts } from '../store/event-store.js'
import type { DecompositionStep, EventStore, StoredEvent } from '../store/event-store.js'

export type Outcome = { kind: 'persisted'; sampled: DecompositionSampled } | { kind: 'failed'; failed: DecompositionFailed }

interface Waiter {
  sampled?: DecompositionSampled
  resolve(o: Outcome): void
  reject(err: unknown): void
}

export interface Watch {
  outcome: Promise<Outcome>
  /** Settle from events read directly from the log (a duplicate request joining late). */
  settleFrom(events: readonly StoredEvent[]): void
  cancel(): void
}

export class OutcomeWatcher {
  /** Several calls may wait on one decomposition (retries with the same Idempotency-Key). */
  private readonly waiters = new Map<string, Set<Waiter>>()
  private readonly messages: ConsumerMessages[] = []
  private stopped = false
  private loop: Promise<void> | undefined

  private constructor(
    private readonly store: EventStore,
    private readonly log: Logger,
  ) {}

  static async start(store: EventStore, log: Logger): Promise<OutcomeWatcher> {
    const w = new OutcomeWatcher(store, log)
    await w.subscribe()
    return w
  }

  /** One ordered consumer per step it needs (outcome, persisted): requests and releases never reach it. */
  private async subscribe(): Promise<void> {
    const followed = await Promise.all((['outcome', 'persisted'] as const).map((step) => this.follow(step)))
    this.loop = Promise.all(followed.map((f) => f.loop)).then(() => undefined)
  }

  /** Subscribes, then returns the running loop (wrapped: an async function would wait for it). */
  private async follow(step: DecompositionStep): Promise<{ loop: Promise<void> }> {
    const consumer = await this.store.js.consumers.get(this.store.streamName, {
      filter_subjects: this.store.filter('decomposition', step),
      deliver_policy: DeliverPolicy.New,
    })
    const messages = await consumer.consume({ max_messages: 512, expires: 5000 }) // see run-consumer: fast recovery after a restart
    this.messages.push(messages)
    const loop = (async () => {
      try {
        for await (const m of messages) {
          if (this.waiters.size === 0) continue
          // The subject names the decomposition: events nobody here waits for (other instances'
          // calls) are passed over without being decoded.
          if (!this.waiters.has(stepSubjectParts(m.subject).decompositionId)) continue
          let event: DomainEvent
          try {
            event = decodeEvent(m.data)
          } catch {
            continue
          }
          void this.observe(event)
        }
      } catch (err) {
        if (!this.stopped) this.log.warn('outcome watcher interrupted', { err: err as Error })
      }
    })()
    return { loop }
  }

  private async observe(event: DomainEvent): Promise<void> {
    if (!('decompositionId' in event)) return
    const set = this.waiters.get(event.decompositionId)
    if (!set) return
    try {
      let outcome: Outcome | undefined
      if (event.type === 'DecompositionSampled') for (const w of set) w.sampled = event
      else if (event.type === 'DecompositionFailed') outcome = { kind: 'failed', failed: event }
      else if (event.type === 'DecompositionPersisted') {
        let sampled = [...set].find((w) => w.sampled)?.sampled
        if (!sampled) {
          const s = await this.store.get(event.sampledSeq)
          if (s?.event.type === 'DecompositionSampled') sampled = s.event
        }
        if (sampled) outcome = { kind: 'persisted', sampled }
      }
      if (outcome) for (const w of [...set]) w.resolve(outcome)
    } catch (err) {
      for (const w of [...set]) w.reject(err)
    }
  }

  watch(decompositionId: string): Watch {
    let settled = false
    let waiter!: Waiter
    const forget = () => {
      const set = this.waiters.get(decompositionId)
      set?.delete(waiter)
      if (set?.size === 0) this.waiters.delete(decompositionId)
    }
    const outcome = new Promise<Outcome>((resolve, reject) => {
      waiter = {
        resolve: (o) => {
          if (settled) return
          settled = true
          forget()
          resolve(o)
        },
        reject: (e) => {
          if (settled) return
          settled = true
          forget()
          reject(e)
        },
      }
    })
    const set = this.waiters.get(decompositionId) ?? new Set<Waiter>()
    set.add(waiter)
    this.waiters.set(decompositionId, set)
    return {
      outcome,
      settleFrom: (events) => {
        for (const { event } of events) {
          if (event.type === 'DecompositionSampled') waiter.sampled = event
          if (event.type === 'DecompositionFailed') waiter.resolve({ kind: 'failed', failed: event })
          if ((event.type === 'DecompositionPersisted' || event.type === 'SubtasksReleased') && waiter.sampled) {
            waiter.resolve({ kind: 'persisted', sampled: waiter.sampled })
          }
        }
      },
      cancel: () => {
        settled = true
        forget()
      },
    }
  }

  async close(): Promise<void> {
    this.stopped = true
    for (const m of this.messages) m.stop()
    await this.loop
    for (const set of this.waiters.values()) for (const w of [...set]) w.reject(new Error('service shutting down'))
    this.waiters.clear()
  }
}
