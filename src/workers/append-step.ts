// Appending the next event of a decomposition. Each step has its own subject holding at most one
// event (see event-store), so the append expects that subject to be empty: if it is not, another
// instance (or an earlier delivery of the same event) already took the step, which is success,
// not failure. The msgID makes a retried append inside the duplicate window a no-op; the expected
// sequence makes it a no-op forever after.
import { WrongLastSequenceError } from '../errors.js'
import type { DecompositionEvent } from '../domain/events.js'
import { stepOf } from '../store/event-store.js'
import type { EventStore } from '../store/event-store.js'

export type StepOutcome = 'appended' | 'already-done'

export async function appendStep(store: EventStore, event: DecompositionEvent, msgId: string): Promise<StepOutcome> {
  try {
    const ack = await store.append(store.decompositionSubject(event.decompositionId, stepOf(event.type)), event, { msgId, expectedLastSeq: 0 })
    return ack.duplicate ? 'already-done' : 'appended'
  } catch (err) {
    if (err instanceof WrongLastSequenceError) return 'already-done'
    throw err
  }
}
