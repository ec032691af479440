// Fills a stream with realistic history: per decomposition a TaskCreated and the four events of a
// completed decomposition (4 subtasks), built by the real decider so every event is valid.
import { eventHeaders, stepOf } from '../src/store/event-store.js'
import type { EventStore } from '../src/store/event-store.js'
import { decide, fold } from '../src/domain/decomposition.js'
import type { DecompositionEvent, TaskCreated } from '../src/domain/events.js'
import { acceptDecomposition } from '../src/domain/accept-decomposition.js'
import { defaultSpecialists } from '../src/domain/specialists.js'
import { instantSampler } from './instant-sampler.js'

export async function fillLog(store: EventStore, events: number, onProgress: (done: number) => void): Promise<number> {
  const chains = Math.ceil(events / 5)
  const sampler = instantSampler()
  const raw = (await sampler.sample({ sessionId: 's', task: 'history', priority: 50, constraints: [], specialists: defaultSpecialists }, new AbortController().signal)).output
  const base = Date.now() - 86_400_000 // yesterday: timestamps never collide with the live run's
  let published = 0
  let next = 0
  // 64 writers, each appending its chains in order (the Persisted event names its Sampled event's
  // sequence, so a chain waits for that ack).
  const writer = async () => {
    for (let c = next++; c < chains; c = next++) {
      const ts = base + c
      const taskId = `t-hist-${c}`
      const task: TaskCreated = { type: 'TaskCreated', v: 1, taskId, title: `history ${c}`, description: '', priority: 50, metadata: {}, createdBy: 'bench', createdAt: ts }
      await store.js.publish(store.taskSubject(taskId), JSON.stringify(task), { headers: eventHeaders('TaskCreated') })
      const accepted = acceptDecomposition(raw, { timestampMs: ts, activeSpecialists: defaultSpecialists, maxSubtasks: 50 })
      if (!accepted.ok) throw new Error('instant decomposition is invalid')
      const chain: DecompositionEvent[] = []
      const step = async (cmd: Parameters<typeof decide>[0]) => {
        const events = decide(cmd, fold(chain))
        chain.push(...events)
        let seq = 0
        for (const e of events) seq = (await store.js.publish(store.decompositionSubject(e.decompositionId, stepOf(e.type)), JSON.stringify(e), { headers: eventHeaders(e.type) })).seq
        return seq
      }
      await step({
        type: 'RequestDecomposition',
        request: { decompositionId: `d-hist-${c}`, taskId, task: 'history', priority: 50, constraints: [], sessionId: 's', clientId: 'bench', specialists: [...defaultSpecialists], requestedBy: 'bench', requestedAt: ts },
      })
      const sampledSeq = await step({ type: 'RecordSample', decomposition: accepted.decomposition, timestamp: ts, decomposedBy: 'bench', sampler: { provider: 'instant', latencyMs: 0 } })
      await step({ type: 'MarkPersisted', sampledSeq, at: ts })
      await step({ type: 'ReleaseSubtasks', at: ts })
      published += 5
      if (c % 500 === 0) onProgress(published)
    }
  }
  await Promise.all(Array.from({ length: 64 }, writer))
  onProgress(published)
  return published
}
