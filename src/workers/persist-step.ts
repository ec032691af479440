// The step after the attachment row: once a sampled decomposition's row is written, append
// DecompositionPersisted, so the reply and the release can follow. It runs after the Postgres
// projection of the same event (consumer-handlers.ts composes them), also when the row already
// existed: a crash between the commit and the append must not stall the decomposition. The append
// is idempotent (its msgID, and an expect-empty subject), so a redelivery records nothing twice.
import { decide, fold } from '../domain/decomposition.js'
import { persistedMsgId } from '../domain/msg-ids.js'
import type { EventStore, StoredEvent } from '../store/event-store.js'
import { appendStep } from './append-step.js'

export function persistStep(deps: { store: EventStore; now: () => number }) {
  return async function markPersisted(stored: StoredEvent): Promise<void> {
    const event = stored.event
    if (event.type !== 'DecompositionSampled') return
    const [persisted] = decide({ type: 'MarkPersisted', sampledSeq: stored.seq, at: deps.now() }, fold([event]))
    if (persisted) await appendStep(deps.store, persisted, persistedMsgId(event.decompositionId))
  }
}
