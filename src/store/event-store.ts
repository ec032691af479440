// The event log: one JetStream stream. Every append carries a msgID (a retried append inside the
// duplicate window is a no-op) and, where the caller knows it, the expected last sequence of its
// subject (optimistic concurrency; JetStream API error 10071 becomes WrongLastSequenceError here
// and nowhere else).
//
// Subjects: `<prefix>.task.<taskId>`, `<prefix>.attachment.<taskId>.<key>`, and one subject per
// *step* of a decomposition: `<prefix>.decomposition.<id>.<step>`, step one of requested, outcome
// (Sampled or Failed), persisted, released. Each step subject holds exactly one event, enforced by
// appending it with expected last sequence 0, so "one outcome per decomposition", "persisted once",
// "released once" hold across any number of instances and crashes; the order of the steps is
// causal (each is appended by the handler of the one before). The aggregate is the wildcard
// `<prefix>.decomposition.<id>.*`. Why not one subject per aggregate: nats-server 2.9 gives a
// consumer one filter subject, so with one subject per aggregate every consumer received every
// event of every decomposition and acked the three quarters it ignores; with the step in the
// subject each consumer filters on the step it acts on, and a decomposition costs 7 deliveries
// instead of 24.
import { Compile } from 'typebox/compile'
import { JsCode, isJsError } from './jetstream-codes.js'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { DirectMsgRequest, JetStreamClient, JetStreamManager, StoredMsg } from '@nats-io/jetstream'
import { InvalidArgumentError, headers } from '@nats-io/nats-core'
import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core'
import { PayloadTooLargeError, PoisonEventError, StorageError, WrongLastSequenceError } from '../errors.js'
import { DomainEvent } from '../domain/events.js'
import type { DecompositionEvent } from '../domain/events.js'
import { endOfTurn } from './turn-batch.js'

const checkEvent = Compile(DomainEvent)

/** The event's type, also in a header, so a consumer can pass over events it ignores undecoded. */
export const eventTypeHeader = 'Decomposer-Event'
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The steps of a decomposition, each on its own subject. */
export type DecompositionStep = 'requested' | 'outcome' | 'persisted' | 'released'

export function stepOf(type: DecompositionEvent['type']): DecompositionStep {
  switch (type) {
    case 'DecompositionRequested':
      return 'requested'
    case 'DecompositionSampled':
    case 'DecompositionFailed':
      return 'outcome'
    case 'DecompositionPersisted':
      return 'persisted'
    case 'SubtasksReleased':
      return 'released'
  }
}

/** The decomposition id and step of a step subject (`<prefix>.decomposition.<id>.<step>`). */
export function stepSubjectParts(subject: string): { decompositionId: string; step: string } {
  const end = subject.lastIndexOf('.')
  const start = subject.lastIndexOf('.', end - 1)
  return { decompositionId: subject.slice(start + 1, end), step: subject.slice(end + 1) }
}

/** The headers every event is appended with. */
export function eventHeaders(type: DomainEvent['type']): MsgHdrs {
  const h = headers()
  h.set(eventTypeHeader, type)
  return h
}

export interface StoredEvent<E extends DomainEvent = DomainEvent> {
  seq: number
  subject: string
  event: E
}

export interface AppendResult {
  seq: number
  duplicate: boolean
}

export interface EventStoreOptions {
  streamName: string
  /** Subject namespace: `<prefix>.task.<taskId>`, `<prefix>.decomposition.<id>`, ... */
  subjectPrefix: string
  /** Window in which a repeated msgID is dropped as a duplicate. */
  duplicateWindowMs?: number
}

export class EventStore {
  readonly js: JetStreamClient
  private constructor(
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    readonly opts: Required<EventStoreOptions>,
  ) {
    this.js = jetstream(nc)
  }

  /** Connects to the stream, creating it (file storage, direct get on) when missing. */
  static async open(nc: NatsConnection, options: EventStoreOptions): Promise<EventStore> {
    const opts = { duplicateWindowMs: 120_000, ...options }
    const jsm = await jetstreamManager(nc)
    const config = {
      name: opts.streamName,
      subjects: [`${opts.subjectPrefix}.>`],
      storage: 'file' as const,
      allow_direct: true,
      duplicate_window: opts.duplicateWindowMs * 1_000_000,
      max_msg_size: 1024 * 1024,
    }
    try {
      await jsm.streams.info(opts.streamName)
    } catch (err) {
      if (!(isJsError(err, JsCode.StreamNotFound))) throw err
      try {
        await jsm.streams.add(config)
      } catch (addErr) {
        // Several instances starting at once: someone else created it first.
        if (!(isJsError(addErr, JsCode.StreamNameInUse))) throw addErr
      }
    }
    return new EventStore(nc, jsm, opts)
  }

  get streamName(): string {
    return this.opts.streamName
  }

  taskSubject(taskId: string): string {
    return `${this.opts.subjectPrefix}.task.${taskId}`
  }
  attachmentSubject(taskId: string, key: string): string {
    return `${this.opts.subjectPrefix}.attachment.${taskId}.${key}`
  }
  /** The subject of one step of a decomposition (it holds at most one event). */
  decompositionSubject(decompositionId: string, step: DecompositionStep): string {
    return `${this.opts.subjectPrefix}.decomposition.${decompositionId}.${step}`
  }
  /** Every step subject of one decomposition (a wildcard, for reads). */
  decompositionAggregate(decompositionId: string): string {
    return `${this.opts.subjectPrefix}.decomposition.${decompositionId}.*`
  }
  /** Filter subject for consumers: every event, one kind of aggregate, or one decomposition step. */
  filter(kind?: 'task' | 'attachment' | 'decomposition', step?: DecompositionStep): string {
    if (!kind) return `${this.opts.subjectPrefix}.>`
    if (kind === 'decomposition' && step) return `${this.opts.subjectPrefix}.decomposition.*.${step}`
    return `${this.opts.subjectPrefix}.${kind}.>`
  }

  /**
   * Appends one event. `expectedLastSeq` 0 means "the aggregate must not exist yet".
   * Throws WrongLastSequenceError when the aggregate moved on, PayloadTooLargeError when the event is
   * bigger than NATS or the stream takes (the request's fault: retrying cannot help), StorageError
   * when JetStream fails.
   */
  async append(subject: string, event: DomainEvent, opts: { msgId: string; expectedLastSeq?: number }): Promise<AppendResult> {
    assertSubjectSafe(subject)
    await endOfTurn() // every append of this turn in one write (see turn-batch)
    const data = encoder.encode(JSON.stringify(event))
    try {
      const ack = await this.js.publish(subject, data, {
        headers: eventHeaders(event.type),
        msgID: opts.msgId,
        ...(opts.expectedLastSeq !== undefined ? { expect: { lastSubjectSequence: opts.expectedLastSeq } } : {}),
      })
      return { seq: ack.seq, duplicate: ack.duplicate }
    } catch (err) {
      if (isJsError(err, JsCode.StreamWrongLastSequence)) {
        throw new WrongLastSequenceError(subject, opts.expectedLastSeq ?? -1)
      }
      if (isTooLarge(err)) {
        throw new PayloadTooLargeError(
          `Invalid params: the ${event.type} event would be ${data.length} bytes, more than the event log takes`,
          { reason: 'too_large', bytes: data.length },
          { cause: err },
        )
      }
      throw new StorageError('Event log unavailable: append failed', { store: 'jetstream' }, { cause: err })
    }
  }

  /** The last event on an aggregate's subject, or undefined when it has none. */
  async last(subject: string): Promise<StoredEvent | undefined> {
    const m = await this.direct({ last_by_subj: subject })
    return m ? decodeStored(m) : undefined
  }

  /** One event by stream sequence. */
  async get(seq: number): Promise<StoredEvent | undefined> {
    if (!Number.isInteger(seq) || seq < 1) return undefined // no such message; JetStream would answer with an error
    const m = await this.direct({ seq })
    return m ? decodeStored(m) : undefined
  }

  /** Every event of one aggregate (a subject, or a wildcard over several), in order. Aggregates are short. */
  async readAggregate(subject: string): Promise<StoredEvent[]> {
    const out: StoredEvent[] = []
    for (let m = await this.direct({ seq: 1, next_by_subj: subject }); m; m = await this.direct({ seq: m.seq + 1, next_by_subj: subject })) {
      out.push(decodeStored(m))
    }
    return out
  }

  /**
   * Every event from the start of the stream up to its last sequence when the read began, in order,
   * through one ordered consumer (flow-controlled, no per-message round trip). An event that cannot
   * be decoded is yielded as `poison` with its sequence, so a caller can count it and carry on.
   */
  async *readAll(): AsyncGenerator<StoredEvent | { seq: number; subject: string; poison: Error }> {
    const info = await this.storage('read failed', () => this.jsm.streams.info(this.streamName))
    const lastSeq = info.state.last_seq
    if (info.state.messages === 0) return
    const consumer = await this.storage('read failed', () => this.js.consumers.get(this.streamName, { filter_subjects: this.filter() }))
    const messages = await this.storage('read failed', () => consumer.consume({ max_messages: 2048 }))
    try {
      for await (const m of messages) {
        try {
          yield { seq: m.seq, subject: m.subject, event: decodeEvent(m.data) }
        } catch (err) {
          yield { seq: m.seq, subject: m.subject, poison: err as Error }
        }
        if (m.seq >= lastSeq || m.info.pending === 0) break
      }
    } finally {
      messages.stop()
    }
  }

  private async storage<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw new StorageError(`Event log unavailable: ${what}`, { store: 'jetstream' }, { cause: err })
    }
  }

  /** Direct get (served by any replica), with "no such message" as null and failures as StorageError. */
  private async direct(query: DirectMsgRequest): Promise<StoredMsg | null> {
    await endOfTurn()
    try {
      return await this.jsm.direct.getMessage(this.streamName, query)
    } catch (err) {
      if (isJsError(err, JsCode.NoMessageFound)) return null // no message found
      throw new StorageError('Event log unavailable: read failed', { store: 'jetstream' }, { cause: err })
    }
  }
}

export function decodeEvent(data: Uint8Array): DomainEvent {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(data))
  } catch (err) {
    throw new PoisonEventError('event is not JSON', { cause: err })
  }
  if (!checkEvent.Check(value)) {
    const first = [...checkEvent.Errors(value)][0]
    throw new PoisonEventError(`event does not match any known schema: ${first?.instancePath ?? ''} ${first?.message ?? ''}`)
  }
  return value
}

function decodeStored(m: StoredMsg): StoredEvent {
  return { seq: m.seq, subject: m.subject, event: decodeEvent(m.data) }
}

/**
 * Over the server's max_payload (nats.js refuses to send it; headers count too), or over the
 * stream's max_msg_size (JsCode.StreamMessageExceedsMaximum).
 */
function isTooLarge(err: unknown): boolean {
  if (isJsError(err, JsCode.StreamMessageExceedsMaximum)) return true
  return err instanceof InvalidArgumentError && /max_payload/.test(err.message)
}

/** Defence in depth: ids are validated at the edge, but no subject with wildcards or spaces is ever written. */
function assertSubjectSafe(subject: string): void {
  if (!/^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$/.test(subject)) throw new Error(`refusing to publish to unsafe subject "${subject}"`)
}
