// Re-driving parked events (`decomposer parked --retry`): each one is applied again, by the same
// projection logic as the consumer it failed in, outside that consumer. An entry that now applies
// is removed; one that still fails stays, with its newest error.
//
// The handlers are the very ones the service's consumers run (consumer-handlers.ts). The sampler
// is not among them on purpose: its own failures are recorded as the decomposition's outcome,
// never parked, and re-sampling from an operator's shell is not what `--retry` should do.
import type { ParkedEntry, ParkedStore } from '../store/parked.js'
import type { StoredEvent } from '../store/event-store.js'
import type { ConsumerHandler } from './consumer-handlers.js'
import { failureMessage } from './failure-kind.js'

export interface RedriveOutcome {
  entry: ParkedEntry
  ok: boolean
  /** Why it still fails (absent when ok). */
  error?: string
}

export interface RedriveDeps {
  parked: Pick<ParkedStore, 'park' | 'remove'>
  /** One event by stream sequence (EventStore.get). */
  event(seq: number): Promise<StoredEvent | undefined>
  handlers: ReadonlyMap<string, ConsumerHandler>
  /** The stream name: durable names are `<stream>_<purpose>`. */
  streamName: string
}

/** Re-drives the entries one by one (in sequence order, as the consumer would have applied them). */
export async function redrive(entries: readonly ParkedEntry[], deps: RedriveDeps): Promise<RedriveOutcome[]> {
  const out: RedriveOutcome[] = []
  for (const entry of entries) {
    const error = await applyOnce(entry, deps)
    if (error === undefined) {
      await deps.parked.remove(entry)
      out.push({ entry, ok: true })
    } else {
      const kept = { ...entry, error, attempts: entry.attempts + 1 }
      await deps.parked.park(kept)
      out.push({ entry: kept, ok: false, error })
    }
  }
  return out
}

/** Undefined when the event applied, else why not. */
async function applyOnce(entry: ParkedEntry, deps: RedriveDeps): Promise<string | undefined> {
  const prefix = `${deps.streamName}_`
  const purpose = entry.consumer.startsWith(prefix) ? entry.consumer.slice(prefix.length) : undefined
  const handler = purpose === undefined ? undefined : deps.handlers.get(purpose)
  if (!handler) return `consumer ${entry.consumer} cannot be re-driven from here (re-drivable: ${[...deps.handlers.keys()].join(', ')})`
  try {
    const stored = await deps.event(entry.seq)
    if (!stored) return `seq ${entry.seq} is no longer in the stream`
    await handler(stored)
    return undefined
  } catch (err) {
    return failureMessage(err)
  }
}
