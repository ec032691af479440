// Lets an RPC call wait for its decomposition's outcome. Each instance follows the outcome and
// persisted steps with ordered (ephemeral) consumers starting at "new"; calls register before they append,
// so no outcome can slip between the append and the wait. An outcome is Persisted (with the Sampled
// event seen earlier, or fetched by sequence) or Failed.
//
// The follow loops heal themselves. nats.js ends a consume() loop for good on a 400 status in its
// pull inbox, on a subscription error, or when the connection closes; a 409 (consumer deleted,
// push based, limits exceeded), a 404/408 or a lost pull it rides out itself (missed heartbeats:
// re-pull, or a new ordered consumer). Anyone who may publish into the service's inboxes can send
// such a 400, so a loop that ends while the watcher is not stopped is logged once, and after a short
// pause (250 ms, doubling to 5 s while it keeps failing) a fresh consumer is created at "new"; then
// every decomposition that has waiters is read from the log, so an outcome that landed in the gap
// still reaches its callers.
import { DeliverPolicy } from '@nats-io/jetstream'
import type { Consumer, ConsumerMessages } from '@nats-io/jetstream'
import type { Logger } from '../log.js'
import type { DecompositionFailed, DecompositionSampled, DomainEvent } from '../domain/events.js'
import { decodeEvent, stepOf } from '../store/event-store.js'
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

/** One follow loop's consumer and its message iterator. */
interface Following {
  consumer: Consumer
  messages: ConsumerMessages
}

const steps = ['outcome', 'persisted'] as const
const firstRetryMs = 250
const maxRetryMs = 5000
/** A loop that ran this long before it ended was healthy: the next pause starts short again. */
const healthyAfterMs = 30_000

export class OutcomeWatcher {
  /** Several calls may wait on one decomposition (retries with the same Idempotency-Key). */
  private readonly waiters = new Map<string, Set<Waiter>>()
  /** The consumer each step is followed with now. */
  private readonly following = new Map<DecompositionStep, Following>()
  private stopped = false
  private loops: Promise<void>[] = []
  /** Resolves when close() is called: pauses, subscriptions and re-syncs in progress stop waiting. */
  private readonly halted: Promise<void>
  private halt!: () => void

  private constructor(
    private readonly store: EventStore,
    private readonly log: Logger,
  ) {
    this.halted = new Promise((resolve) => (this.halt = resolve))
  }

  /** One ordered consumer per step it needs (outcome, persisted): requests and releases never reach it. */
  static async start(store: EventStore, log: Logger): Promise<OutcomeWatcher> {
    const w = new OutcomeWatcher(store, log)
    const opened = await Promise.allSettled(steps.map((step) => w.subscribe(step)))
    const failed = opened.find((r) => r.status === 'rejected')
    if (failed) {
      await w.close()
      throw failed.reason
    }
    w.loops = opened.map((r, i) => w.follow(steps[i]!, (r as PromiseFulfilledResult<Following>).value))
    return w
  }

  /** A fresh ordered consumer on one step, subscribed (its messages are pulled once iterated). */
  private async subscribe(step: DecompositionStep): Promise<Following> {
    const consumer = await this.store.js.consumers.get(this.store.streamName, {
      filter_subjects: this.store.filter('decomposition', step),
      deliver_policy: DeliverPolicy.New,
    })
    const messages = await consumer.consume({ max_messages: 512, expires: 5000 }) // see run-consumer: fast recovery after a restart
    const f = { consumer, messages }
    if (this.stopped) messages.stop() // closed meanwhile
    else this.following.set(step, f)
    return f
  }

  /** Stops a consumer that is being replaced and removes it from the server (best effort). */
  private discard(step: DecompositionStep, f: Following): void {
    if (this.following.get(step) === f) this.following.delete(step)
    f.messages.stop()
    f.consumer.delete().catch(() => undefined)
  }

  /** Follows one step until close(), resubscribing whenever the consumer's loop ends under it. */
  private async follow(step: DecompositionStep, first: Following): Promise<void> {
    let current: Following | undefined = first
    let failures = 0
    while (!this.stopped) {
      if (current) {
        const since = Date.now()
        const err = await this.drain(step, current.messages)
        if (this.stopped || this.store.nc.isClosed()) break
        this.log.warn('outcome watcher interrupted; resubscribing', { step, err })
        this.discard(step, current)
        current = undefined
        if (Date.now() - since >= healthyAfterMs) failures = 0
      }
      await this.untilStopped(new Promise((resolve) => setTimeout(resolve, Math.min(maxRetryMs, firstRetryMs * 2 ** failures)).unref()))
      failures = Math.min(failures + 1, 10)
      if (this.stopped) break
      let next: Following | undefined
      try {
        const subscribing = this.subscribe(step)
        subscribing.catch(() => undefined) // close() may stop waiting for it
        next = await this.untilStopped(subscribing)
        if (!next || this.stopped) break
        // Outcomes that landed while no consumer followed the step are in the log.
        await this.untilStopped(this.resync())
        current = next
      } catch (err) {
        if (this.stopped) break
        if (next) this.discard(step, next)
        this.log.debug('outcome watcher resubscribe failed; retrying', { step, err: err as Error })
      }
    }
  }

  /**
   * Runs one consumer's messages until its iterator ends; answers why (undefined: it just ended).
   * The hot path: events nobody here waits for (other instances' calls) are passed over without
   * being decoded, by the decomposition id in their subject.
   */
  private async drain(step: DecompositionStep, messages: ConsumerMessages): Promise<Error | undefined> {
    const [head = '', tail = ''] = this.store.filter('decomposition', step).split('*')
    try {
      for await (const m of messages) {
        if (this.waiters.size === 0) continue
        try {
          const subject = m.subject
          // Not under `<prefix>.decomposition.*.<step>`: not an event of this step (forged). The
          // id must also be one somebody waits for, so an id with dots in it passes nothing.
          if (subject.length <= head.length + tail.length || !subject.startsWith(head) || !subject.endsWith(tail)) continue
          const id = subject.slice(head.length, subject.length - tail.length)
          if (!this.waiters.has(id)) continue
          void this.observe(decodeEvent(m.data), id, step)
        } catch {
          continue // one bad message never ends the loop
        }
      }
      return undefined
    } catch (err) {
      return err as Error
    }
  }

  /** Reads every decomposition that has waiters from the log and settles its waiters from it. */
  private async resync(): Promise<void> {
    await Promise.all(
      [...this.waiters.keys()].map(async (id) => {
        const events = await this.store.readAggregate(this.store.decompositionAggregate(id))
        for (const w of [...(this.waiters.get(id) ?? [])]) settle(w, events)
      }),
    )
  }

  /** `p`, or undefined as soon as close() is called. */
  private untilStopped<T>(p: Promise<T>): Promise<T | undefined> {
    return Promise.race([p, this.halted.then(() => undefined)])
  }

  private async observe(event: DomainEvent, id: string, step: DecompositionStep): Promise<void> {
    // An event must belong to the decomposition and step its subject names.
    if (!('decompositionId' in event) || event.decompositionId !== id || stepOf(event.type) !== step) return
    const set = this.waiters.get(id)
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
      settleFrom: (events) => settle(waiter, events),
      cancel: () => {
        settled = true
        forget()
      },
    }
  }

  async close(): Promise<void> {
    this.stopped = true
    this.halt()
    for (const f of this.following.values()) f.messages.stop()
    await Promise.all(this.loops)
    for (const set of this.waiters.values()) for (const w of [...set]) w.reject(new Error('service shutting down'))
    this.waiters.clear()
  }
}

/** Settles one waiter from events read from the log (its decomposition's, in order). */
function settle(waiter: Waiter, events: readonly StoredEvent[]): void {
  for (const { event } of events) {
    if (event.type === 'DecompositionSampled') waiter.sampled = event
    if (event.type === 'DecompositionFailed') waiter.resolve({ kind: 'failed', failed: event })
    if ((event.type === 'DecompositionPersisted' || event.type === 'SubtasksReleased') && waiter.sampled) {
      waiter.resolve({ kind: 'persisted', sampled: waiter.sampled })
    }
  }
}
