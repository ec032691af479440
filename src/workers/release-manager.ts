// Process manager: DecompositionPersisted → SubtasksReleased (the dependency-free subtasks).
// The Persisted event names the Sampled event's sequence, so the decomposition is one direct get
// away; the released step has its own subject, appended only while empty, so a release happens once.
import { PoisonEventError } from '../errors.js'
import { decide, fold } from '../domain/decomposition.js'
import type { EventStore, StoredEvent } from '../store/event-store.js'
import { appendStep } from './append-step.js'
import { releasedMsgId } from '../domain/msg-ids.js'

export function releaseManager(deps: { store: EventStore; now: () => number }) {
  return async function handle(stored: StoredEvent): Promise<void> {
    const event = stored.event
    if (event.type !== 'DecompositionPersisted') return
    const sampled = await deps.store.get(event.sampledSeq)
    if (!sampled || sampled.event.type !== 'DecompositionSampled' || sampled.event.decompositionId !== event.decompositionId) {
      throw new PoisonEventError(`DecompositionPersisted ${event.decompositionId} points at seq ${event.sampledSeq}, which is not its sample`)
    }
    const [released] = decide({ type: 'ReleaseSubtasks', at: deps.now() }, fold([sampled.event, event]))
    if (released) await appendStep(deps.store, released, releasedMsgId(event.decompositionId))
  }
}
