// Appending the next event of a process step. The step read the aggregate at `expectedLastSeq`;
// if the aggregate has moved on since, another instance (or an earlier delivery of the same event)
// already took the step, which is success, not failure. The msgID makes a retried append inside
// the duplicate window a no-op; the expected sequence makes it a no-op forever after.
import { WrongLastSequenceError } from '../errors.js'
import type { DomainEvent } from '../domain/events.js'
import type { EventStore } from '../store/event-store.js'

export type StepOutcome = 'appended' | 'already-done'

export async function appendStep(
  store: EventStore,
  subject: string,
  event: DomainEvent,
  expectedLastSeq: number,
  msgId: string,
): Promise<StepOutcome> {
  try {
    const ack = await store.append(subject, event, { msgId, expectedLastSeq })
    return ack.duplicate ? 'already-done' : 'appended'
  } catch (err) {
    if (err instanceof WrongLastSequenceError) {
      const last = await store.last(subject)
      if (last && last.seq > expectedLastSeq) return 'already-done'
    }
    throw err
  }
}
