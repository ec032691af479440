// Process manager: DecompositionRequested → sample → DecompositionSampled (or DecompositionFailed).
// Safe on many instances and after a crash: the outcome (Sampled or Failed) has its own subject,
// appended only while it is empty, so only one outcome is ever recorded.
import type { JsMsg } from '@nats-io/jetstream'
import type { Redis } from 'ioredis'
import { DecomposerError, InternalError, StorageError } from '../errors.js'
import type { Logger } from '../log.js'
import { decide, fold } from '../domain/decomposition.js'
import type { StoredEvent, EventStore } from '../store/event-store.js'
import type { Keys } from '../store/keys.js'
import type { ProjectionCommands } from '../store/redis.js'
import { sampleDecomposition } from '../sampling/sampler.js'
import type { Sampler } from '../sampling/sampler.js'
import type { SamplingBreaker } from '../sampling/breaker.js'
import { readSpecialistProfiles } from '../store/specialist-registry.js'
import { timestampClaimer } from '../store/timestamp-claimer.js'
import { appendStep } from './append-step.js'

export interface SamplerWorkerDeps {
  store: EventStore
  redis: Redis & ProjectionCommands
  keys: Keys
  sampler: Sampler
  breaker: SamplingBreaker
  instanceId: string
  samplingTimeoutMs: number
  /** The consumer's ack wait: progress is reported well inside it while a provider thinks. */
  ackWaitMs: number
  maxSubtasks: number
  now: () => number
  log: Logger
}

export function samplerWorker(deps: SamplerWorkerDeps) {
  const claimTimestamp = timestampClaimer(deps)
  return async function handle(stored: StoredEvent, msg?: JsMsg): Promise<void> {
    const event = stored.event
    if (event.type !== 'DecompositionRequested') return
    const state = fold([event])
    // Keep the message ours while a slow LLM thinks (ack wait is shorter than the sampling timeout).
    const heartbeat = msg ? setInterval(() => msg.working(), Math.max(500, deps.ackWaitMs / 3)) : undefined
    try {
      const timestamp = await claimTimestamp(event.decompositionId)
      const profiles = deps.sampler.usesProfiles ? await readSpecialistProfiles(deps, event.specialists, deps.now()) : undefined
      let next
      try {
        const sampled = await deps.breaker.run(() => sampleDecomposition(
          deps.sampler,
          {
            sessionId: event.sessionId,
            ...(event.samplingOwner ? { samplingOwner: event.samplingOwner } : {}),
            task: event.task,
            priority: event.priority,
            constraints: event.constraints,
            specialists: event.specialists,
            ...(profiles ? { profiles } : {}),
          },
          { timestampMs: timestamp, maxSubtasks: deps.maxSubtasks, timeoutMs: deps.samplingTimeoutMs, now: deps.now },
        ))
        next = decide(
          { type: 'RecordSample', decomposition: sampled.decomposition, timestamp, decomposedBy: deps.instanceId, sampler: sampled.info },
          state,
        )
      } catch (caught) {
        // A store outage is transient: the event is retried. Anything the sampler itself threw is
        // recorded as the decomposition's outcome (and counted by the breaker); never a blind retry.
        if (caught instanceof StorageError) throw caught
        const err = caught instanceof DecomposerError ? caught : new InternalError(`Sampling failed: ${(caught as Error)?.message ?? String(caught)}`)
        deps.log.warn('decomposition failed', { decompositionId: event.decompositionId, code: err.code, err })
        next = decide(
          {
            type: 'RecordFailure',
            error: { code: err.code, message: err.message, ...(err.data ? { data: err.data } : {}) },
            failedBy: deps.instanceId,
            at: deps.now(),
          },
          state,
        )
      }
      for (const e of next) {
        await appendStep(deps.store, e, `${e.type}:${event.decompositionId}`)
      }
    } finally {
      if (heartbeat) clearInterval(heartbeat)
    }
  }
}
