// Process manager: DecompositionRequested → sample → DecompositionSampled (or DecompositionFailed).
// Safe on many instances and after a crash: the outcome (Sampled or Failed) has its own subject,
// appended only while it is empty, so only one outcome is ever recorded.
//
// Nothing here retries for ever: only a store outage (StorageError) leaves the event to be
// redelivered. A Sampled event too big for the log (the request's metadata and the decomposition
// together; the RPC refuses such requests up front, this is the last line) is recorded as the
// decomposition's failure, -32602 naming metadata, like any other outcome the client must see.
import type { JsMsg } from '@nats-io/jetstream'
import type { Redis } from 'ioredis'
import { DecomposerError, InternalError, PayloadTooLargeError, PlannerBugError, StorageError } from '../errors.js'
import type { Logger } from '../log.js'
import { decide, fold } from '../domain/decomposition.js'
import type { DecompositionState } from '../domain/decomposition.js'
import type { DecompositionEvent } from '../domain/events.js'
import { decompositionBudget, maxPayloadOf } from '../domain/event-size.js'
import type { StoredEvent, EventStore } from '../store/event-store.js'
import type { Keys } from '../store/keys.js'
import type { ProjectionCommands } from '../store/redis.js'
import { sampleDecomposition } from '../sampling/sampler.js'
import type { Sampler } from '../sampling/sampler.js'
import type { SamplingBreaker } from '../sampling/breaker.js'
import { readSpecialistProfiles } from '../store/specialist-registry.js'
import { timestampClaimer } from '../store/timestamp-claimer.js'
import { appendStep } from './append-step.js'
import { outcomeMsgId, substituteOutcomeMsgId } from '../domain/msg-ids.js'

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
  /** The DecompositionFailed event recording `err` as the decomposition's outcome. */
  const failure = (err: DecomposerError, state: DecompositionState): DecompositionEvent[] =>
    decide(
      {
        type: 'RecordFailure',
        error: { code: err.code, message: err.message, ...(err.data ? { data: err.data } : {}) },
        failedBy: deps.instanceId,
        at: deps.now(),
      },
      state,
    )
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
          {
            timestampMs: timestamp,
            maxSubtasks: deps.maxSubtasks,
            maxBytes: decompositionBudget(maxPayloadOf(deps.store.nc)),
            timeoutMs: deps.samplingTimeoutMs,
            now: deps.now,
          },
        ))
        next = decide(
          { type: 'RecordSample', decomposition: sampled.decomposition, timestamp, decomposedBy: deps.instanceId, sampler: sampled.info },
          state,
        )
      } catch (caught) {
        // A store outage is transient: the event is retried. Anything the sampler itself threw is
        // recorded as the decomposition's outcome (the breaker decides what counts as an outage,
        // see sampling/breaker.ts); never a blind retry.
        if (caught instanceof StorageError) throw caught
        const err = caught instanceof DecomposerError ? caught : new InternalError(`Sampling failed: ${(caught as Error)?.message ?? String(caught)}`)
        if (err instanceof PlannerBugError) deps.log.error('the offline planner produced an invalid plan: a bug', { decompositionId: event.decompositionId, err })
        else deps.log.warn('decomposition failed', { decompositionId: event.decompositionId, code: err.code, err })
        next = failure(err, state)
      }
      for (const e of next) {
        try {
          await appendStep(deps.store, e, outcomeMsgId(e.type, event.decompositionId))
        } catch (err) {
          // The outcome must be recorded whatever its size, or this event is redelivered for ever
          // (claiming a new timestamp each time): an outcome too big for the log becomes a small one.
          if (!(err instanceof PayloadTooLargeError) || (e.type !== 'DecompositionSampled' && e.type !== 'DecompositionFailed')) throw err
          deps.log.warn('decomposition outcome too large for the event log; recorded as failed', { decompositionId: event.decompositionId, type: e.type, err })
          const substitute =
            e.type === 'DecompositionSampled'
              ? new PayloadTooLargeError('Invalid params: metadata is too large to store with the decomposition', { ...err.data, field: 'metadata', reason: 'too_large' })
              : new InternalError(`${e.error.message.slice(0, 300)} (details too large to record)`)
          for (const f of failure(substitute, state)) await appendStep(deps.store, f, substituteOutcomeMsgId(f.type, event.decompositionId))
          break // the outcome is recorded; nothing follows a failure
        }
      }
    } finally {
      if (heartbeat) clearInterval(heartbeat)
    }
  }
}
