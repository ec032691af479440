// task.create, task.decompose (and its deprecated alias swarm.decompose), task.get_decomposition.
//
// Sizes: before the first append, a request is measured against the largest event it can lead to
// (domain/event-size.ts): for task.decompose the DecompositionSampled event, which carries the task
// text, the metadata and the whole decomposition. A request that could not be carried through is
// refused with -32602 (`too_large`, naming the param) and nothing is appended: once its Requested
// event is in the log, a Sampled event too big to follow it can only become a failure.
import { createHash } from 'node:crypto'
import { ConflictError, ErrorCode, InvalidParamsError, NotFoundError, RecordedFailureError, SamplingTimeoutError, WrongLastSequenceError } from '../errors.js'
import { decide, initialState } from '../domain/decomposition.js'
import type { Decomposition } from '../domain/decomposition-schema.js'
import type { DecompositionRequested, DecompositionSampled, TaskCreated } from '../domain/events.js'
import { decompositionRequestProblem, eventProblem, maxPayloadOf } from '../domain/event-size.js'
import { afterAppend, afterHistory, exemptFromRateLimit, planAdmission, sameRequest } from '../domain/admission.js'
import type { AppendAnswer } from '../domain/admission.js'
import { taskCreatedMsgId } from '../domain/msg-ids.js'
import { resolveSessionId } from '../domain/session.js'
import { latestDecompositionAttachment, pgCall } from '../store/postgres.js'
import type { DecompositionAttachment } from '../domain/decomposition-attachment.js'
import type { RequestContext } from './dispatcher.js'
import type { MethodDeps } from './method-deps.js'
import { TaskCreateParams, TaskDecomposeParams, TaskRefParams, parseParams } from './params.js'
import { ensureTaskExists } from './task-lookup.js'
import { admit } from './rate-limit.js'
import { currentSpecialists } from '../store/specialist-registry.js'
import { callerOf } from './caller.js'
import { tooLargeError } from './payload-limits.js'

export interface DecomposeResult {
  taskId: string
  subtaskCount: number
  decomposition: Decomposition
  attachmentKey: string
}

export function taskMethods(deps: MethodDeps) {
  async function create(raw: unknown, ctx: RequestContext) {
    const p = parseParams(TaskCreateParams, raw)
    const taskId = p.taskId ?? `t-${deps.now().toString(36)}-${deps.random()}`
    const event: TaskCreated = {
      type: 'TaskCreated',
      v: 1,
      taskId,
      title: p.title.trim(),
      description: p.description ?? '',
      priority: p.priority ?? 50,
      metadata: p.metadata ?? {},
      ...((p.sessionId ?? ctx.sessionId) ? { sessionId: (p.sessionId ?? ctx.sessionId)! } : {}),
      createdBy: ctx.user ? `u:${ctx.user.user}` : (ctx.clientId ?? deps.config.instanceId),
      createdAt: deps.now(),
    }
    const problem = eventProblem(event, { metadata: event.metadata, description: event.description, title: event.title }, maxPayloadOf(deps.store.nc))
    if (problem) throw tooLargeError(problem, 'the task')
    // Same params retried (inside the duplicate window) → the same answer; a different task under
    // an existing id → conflict.
    const fingerprint = hash([taskId, event.title, event.description, event.priority, event.metadata])
    let stored: TaskCreated = event
    try {
      const ack = await deps.store.append(deps.store.taskSubject(taskId), event, { msgId: taskCreatedMsgId(taskId, fingerprint), expectedLastSeq: 0 })
      if (ack.duplicate) {
        // A retry: answer with what the first request recorded.
        const first = await deps.store.get(ack.seq)
        if (first?.event.type === 'TaskCreated') stored = first.event
      }
    } catch (err) {
      if (err instanceof WrongLastSequenceError) throw new ConflictError(`Task ${taskId} already exists`, { field: 'taskId', taskId })
      throw err
    }
    return {
      taskId,
      title: stored.title,
      description: stored.description,
      priority: stored.priority,
      createdAt: new Date(stored.createdAt).toISOString(),
    }
  }

  async function decompose(raw: unknown, ctx: RequestContext): Promise<DecomposeResult | FallbackResult> {
    const p = parseParams(TaskDecomposeParams, raw)
    await ensureTaskExists(deps, p.taskId)
    const sessionId = resolveSessionId({
      paramSessionId: p.sessionId,
      headerSessionId: ctx.sessionId,
      clientId: ctx.clientId,
      instanceId: deps.config.instanceId,
    })
    const clientId = ctx.clientId ?? sessionId
    const now = deps.now()
    // Retries are recognised by who the caller is (the authenticated user, narrowed by Client-Id;
    // without authentication the Client-Id or session it names), never by the instance that
    // happens to serve them (the session falls back to the instance id, which differs elsewhere).
    const explicitSession = p.sessionId ?? ctx.sessionId
    const caller = callerOf({ user: ctx.user, clientId: ctx.clientId, explicitSessionId: explicitSession })
    if (ctx.idempotencyKey && !caller.idempotencyScope) {
      // One shared anonymous scope would hand one caller's decomposition to another using the same key.
      throw new InvalidParamsError('Invalid params: an Idempotency-Key needs a caller: send a Client-Id or Session-Id header, or sessionId', {
        field: 'Idempotency-Key',
      })
    }
    const params = { taskId: p.taskId, task: p.task.trim(), priority: p.priority ?? 50, constraints: p.constraints ?? [], metadata: p.metadata }
    // Ids, msgIDs, the rate-limit exemption and join-or-new-attempt are decided in domain/admission.ts;
    // this function performs the reads and appends they call for.
    const plan = planAdmission(
      {
        idempotency: ctx.idempotencyKey ? { scope: caller.idempotencyScope!, key: ctx.idempotencyKey } : undefined,
        callerId: caller.id,
        explicitSessionId: explicitSession,
        params,
        now,
        random: deps.random(),
      },
      hash,
    )
    const id = plan.decompositionId
    const conflict = () => new ConflictError(`Idempotency-Key "${ctx.idempotencyKey!.slice(0, 200)}" was already used for another request`, { field: 'Idempotency-Key' })
    const known = plan.keyed ? await deps.store.last(deps.store.decompositionSubject(id, 'requested')) : undefined
    if (known && !sameRequest(plan, [known.event], hash)) throw conflict()
    const specialists = await currentSpecialists(deps, now)
    const [requested] = decide(
      {
        type: 'RequestDecomposition',
        request: {
          decompositionId: id,
          taskId: params.taskId,
          task: params.task,
          priority: params.priority,
          constraints: params.constraints,
          sessionId,
          clientId,
          samplingOwner: caller.samplingOwner,
          ...(p.metadata ? { metadata: p.metadata } : {}),
          specialists,
          requestedBy: deps.config.instanceId,
          requestedAt: now,
        },
      },
      initialState(),
    )
    if (requested?.type !== 'DecompositionRequested') throw new Error('a new decomposition decides one DecompositionRequested event')
    // Measured before it counts against the rate limit: a refused request is the client's
    // mistake, to be fixed, not an admission.
    const limits = { maxPayload: maxPayloadOf(deps.store.nc), maxSubtasks: deps.config.maxSubtasks }
    const tooLarge = decompositionRequestProblem(requested, limits)
    if (tooLarge) throw tooLargeError(tooLarge, 'the decomposition')
    if (!exemptFromRateLimit(plan, known?.event)) await admit(deps, caller.rateKey, deps.config.rateLimitPerMinute, now, `${now}-${deps.random()}`)
    // The watch on a decomposition is registered before its Requested event is appended and before
    // its history is read, so no outcome can fall between the append or read and the wait.
    let watchedId = id
    let watch = deps.watcher.watch(id)
    const watchOn = (decompositionId: string) => {
      if (decompositionId === watchedId) return
      watch.cancel()
      watchedId = decompositionId
      watch = deps.watcher.watch(decompositionId)
    }
    try {
      for (let attempt = plan.first; ; ) {
        watchOn(attempt.decompositionId)
        const event: DecompositionRequested = { ...requested, decompositionId: attempt.decompositionId }
        let answer: AppendAnswer
        try {
          const ack = await deps.store.append(deps.store.decompositionSubject(attempt.decompositionId, 'requested'), event, { msgId: attempt.msgId, expectedLastSeq: 0 })
          answer = ack.duplicate ? { kind: 'duplicate', first: (await deps.store.get(ack.seq))?.event } : { kind: 'appended' }
        } catch (err) {
          if (!(err instanceof WrongLastSequenceError)) throw err
          answer = { kind: 'wrong-last-sequence' }
        }
        const next = afterAppend(attempt, answer)
        if (next.kind === 'started') break
        watchOn(next.decompositionId)
        const history = await deps.store.readAggregate(deps.store.decompositionAggregate(next.decompositionId))
        const verdict = afterHistory(plan, attempt, next.decompositionId, history.map((s) => s.event), deps.now(), hash)
        if (verdict.kind === 'conflict') throw conflict()
        if (verdict.kind === 'join') {
          watch.settleFrom(history)
          break
        }
        attempt = verdict.attempt
      }
      const outcome = await withTimeout(watch.outcome, deps.config.replyTimeoutMs, () =>
        new SamplingTimeoutError(`Decomposition ${id} did not complete within ${deps.config.replyTimeoutMs} ms`, { decompositionId: id }),
      )
      if (outcome.kind === 'failed') {
        // The spec's fallback while the sampling circuit is open: an empty decomposition, nothing persisted.
        if (outcome.failed.error.code === ErrorCode.CircuitOpen) return fallbackResult(p.taskId)
        throw failureError(outcome.failed.error)
      }
      return resultOf(outcome.sampled)
    } finally {
      watch.cancel()
    }
  }

  async function getDecomposition(raw: unknown) {
    const p = parseParams(TaskRefParams, raw)
    await ensureTaskExists(deps, p.taskId)
    const row = await pgCall(() => latestDecompositionAttachment(deps.db, p.taskId))
    if (!row) throw new NotFoundError(`No decomposition found for task ${p.taskId}`, { field: 'taskId', taskId: p.taskId })
    const v = row.value as DecompositionAttachment
    return {
      taskId: p.taskId,
      subtaskCount: v.subtaskCount,
      decomposition: {
        subtasks: v.subtasks.map(({ status: _status, ...s }) => s),
        executionStrategy: v.strategy,
        totalComplexity: v.totalComplexity,
        reasoning: v.reasoning,
        architecturalConsiderations: v.architecturalConsiderations ?? [],
      },
      attachmentKey: row.key,
      decomposedAt: v.decomposedAt,
      decomposedBy: v.decomposedBy,
      sessionId: v.sessionId,
    }
  }

  return {
    'task.create': create,
    'task.decompose': decompose,
    'swarm.decompose': decompose,
    'task.get_decomposition': getDecomposition,
  }
}

export interface FallbackResult extends Omit<DecomposeResult, 'attachmentKey'> {
  attachmentKey: null
}

/** The spec's circuit-breaker fallback. */
export function fallbackResult(taskId: string): FallbackResult {
  return {
    taskId,
    subtaskCount: 0,
    decomposition: { subtasks: [], executionStrategy: 'parallel', totalComplexity: 0, reasoning: 'Service temporarily unavailable', architecturalConsiderations: [] },
    attachmentKey: null,
  }
}

export function resultOf(s: DecompositionSampled): DecomposeResult {
  return { taskId: s.taskId, subtaskCount: s.decomposition.subtasks.length, decomposition: s.decomposition, attachmentKey: s.attachmentKey }
}

function failureError(e: { code: number; message: string; data?: unknown }): RecordedFailureError {
  return new RecordedFailureError(e.code, e.message, e.data)
}

function hash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex')
}

async function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(onTimeout()), ms)))])
  } finally {
    clearTimeout(timer)
  }
}
