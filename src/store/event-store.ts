// The event log: one JetStream stream, one subject per aggregate. Every append carries a msgID (a
// retried append inside the duplicate window is a no-op) and, where the caller knows it, the
// expected last sequence of the aggregate's subject (optimistic concurrency; JetStream API error
// 10071 becomes WrongLastSequenceError here and nowhere else).
import { Compile } from 'typebox/compile'
import { JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { DirectMsgRequest, JetStreamClient, JetStreamManager, StoredMsg } from '@nats-io/jetstream'
import { headers } from '@nats-io/nats-core'
import type { NatsConnection } from '@nats-io/nats-core'
import { PoisonEventError, StorageError, WrongLastSequenceError } from '../errors.js'
import { DomainEvent } from '../domain/events.js'
import { endOfTurn } from './turn-batch.js'

const checkEvent = Compile(DomainEvent)

/** The event's type, also in a header, so a consumer can pass over events it ignores undecoded. */
export const eventTypeHeader = 'Decomposer-Event'
const encoder = new TextEncoder()
const decoder = new TextDecoder()

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
      if (!(err instanceof JetStreamApiError && err.code === 10059)) throw err // 10059: stream not found
      try {
        await jsm.streams.add(config)
      } catch (addErr) {
        // Several instances starting at once: someone else created it first.
        if (!(addErr instanceof JetStreamApiError && addErr.code === 10058)) throw addErr
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
  decompositionSubject(decompositionId: string): string {
    return `${this.opts.subjectPrefix}.decomposition.${decompositionId}`
  }
  /** Filter subject for consumers; `kind` undefined means every event. */
  filter(kind?: 'task' | 'attachment' | 'decomposition'): string {
    return kind ? `${this.opts.subjectPrefix}.${kind}.>` : `${this.opts.subjectPrefix}.>`
  }

  /**
   * Appends one event. `expectedLastSeq` 0 means "the aggregate must not exist yet".
   * Throws WrongLastSequenceError when the aggregate moved on, StorageError when JetStream fails.
   */
  async append(subject: string, event: DomainEvent, opts: { msgId: string; expectedLastSeq?: number }): Promise<AppendResult> {
    assertSubjectSafe(subject)
    await endOfTurn() // every append of this turn in one write (see turn-batch)
    try {
      const h = headers()
      h.set(eventTypeHeader, event.type)
      const ack = await this.js.publish(subject, encoder.encode(JSON.stringify(event)), {
        headers: h,
        msgID: opts.msgId,
        ...(opts.expectedLastSeq !== undefined ? { expect: { lastSubjectSequence: opts.expectedLastSeq } } : {}),
      })
      return { seq: ack.seq, duplicate: ack.duplicate }
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === 10071) {
        throw new WrongLastSequenceError(subject, opts.expectedLastSeq ?? -1)
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

  /** Every event of one aggregate, in order. Aggregates are short (a handful of events). */
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
      if (err instanceof JetStreamApiError && err.code === 10037) return null // no message found
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

/** Defence in depth: ids are validated at the edge, but no subject with wildcards or spaces is ever written. */
function assertSubjectSafe(subject: string): void {
  if (!/^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$/.test(subject)) throw new Error(`refusing to publish to unsafe subject "${subject}"`)
}
