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
import { decompositionId } from '../domain/ids.js'
import { resolveSessionId } from '../domain/session.js'
import { latestDecompositionAttachment, pgCall } from '../store/postgres.js'
import type { DecompositionAttachment } from '../projectors/postgres-projector.js'
import type { RequestContext } from './dispatcher.js'
import type { MethodDeps } from './method-deps.js'
import { TaskCreateParams, TaskDecomposeParams, TaskRefParams, parseParams } from './params.js'
import { ensureTaskExists } from './task-lookup.js'
import { admit } from './rate-limit.js'
import { currentSpecialists } from '../store/specialist-registry.js'
import { callerOf } from './caller.js'
import type { StoredEvent } from '../store/event-store.js'
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
      const ack = await deps.store.append(deps.store.taskSubject(taskId), event, { msgId: `task:${taskId}:${fingerprint}`, expectedLastSeq: 0 })
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
    // An Idempotency-Key makes the decomposition id deterministic: a retry appends the same
    // Requested event (a duplicate) and joins the original decomposition.
    const id = ctx.idempotencyKey
      ? `d-${hash([caller.idempotencyScope, ctx.idempotencyKey]).slice(0, 32)}`
      : decompositionId(now, deps.random())
    const params = { taskId: p.taskId, task: p.task.trim(), priority: p.priority ?? 50, constraints: p.constraints ?? [], metadata: p.metadata }
    // A retry with a key whose decomposition already exists only joins it: it is not a new
    // admission, so it does not count against the rate limit. The same key with other params is a
    // mistake (or a guess), never a way to read another request's decomposition.
    const known = ctx.idempotencyKey ? await deps.store.last(deps.store.decompositionSubject(id, 'requested')) : undefined
    if (known) assertSameRequest([known], params, ctx.idempotencyKey!)
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
    // Measured before it counts against the rate limit: a refused request is the client's
    // mistake, to be fixed, not an admission.
    const limits = { maxPayload: maxPayloadOf(deps.store.nc), maxSubtasks: deps.config.maxSubtasks }
    const tooLarge = requested?.type === 'DecompositionRequested' ? decompositionRequestProblem(requested, limits) : undefined
    if (tooLarge) throw tooLargeError(tooLarge, 'the decomposition')
    if (!known) await admit(deps, caller.rateKey, deps.config.rateLimitPerMinute, now, `${now}-${deps.random()}`)
    // Without a key, the same request from the same client (same params, same session) inside the
    // stream's duplicate window is recognised by its msgID: JetStream answers "duplicate" with the
    // sequence of the first Requested event, and this call joins that decomposition, unless it
    // failed: a retry after a failure is a new attempt (its msgID names the failed one, so
    // concurrent retries of the same failure still share one attempt).
    const autoMsgId = `requested:auto:${hash([caller.id, explicitSession ?? null, p.taskId, p.task.trim(), p.priority ?? 50, p.constraints ?? [], p.metadata ?? null])}`
    let msgId = ctx.idempotencyKey ? `requested:${id}` : autoMsgId
    let joinedId = id
    let watch = deps.watcher.watch(id)
    try {
      let joined = false
      for (let attempt = 0; ; attempt++) {
        try {
          const ack = await deps.store.append(deps.store.decompositionSubject(id, 'requested'), requested!, { msgId, expectedLastSeq: 0 })
          joined = ack.duplicate
          if (!ack.duplicate || ctx.idempotencyKey) break
          const first = await deps.store.get(ack.seq)
          if (first?.event.type !== 'DecompositionRequested' || first.event.decompositionId === id) break
          const history = await deps.store.readAggregate(deps.store.decompositionAggregate(first.event.decompositionId))
          if (history.at(-1)?.event.type === 'DecompositionFailed' && attempt < 5) {
            msgId = `${autoMsgId}:after:${first.event.decompositionId}`
            continue
          }
          // Join the first one. Its history is read again below, after the new watch is
          // registered, so no event can fall between the read and the watch.
          watch.cancel()
          joinedId = first.event.decompositionId
          watch = deps.watcher.watch(joinedId)
        } catch (err) {
          if (!(err instanceof WrongLastSequenceError)) throw err
          joined = true
        }
        break
      }
      if (joined) {
        const history = await deps.store.readAggregate(deps.store.decompositionAggregate(joinedId))
        if (ctx.idempotencyKey) assertSameRequest(history, params, ctx.idempotencyKey)
        watch.settleFrom(history)
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

type RequestParams = Pick<DecompositionRequested, 'taskId' | 'task' | 'priority' | 'constraints' | 'metadata'>

/** A keyed retry must repeat the request it retries; anything else is refused, naming the header. */
function assertSameRequest(history: readonly StoredEvent[], params: RequestParams, key: string): void {
  const requested = history.find((s) => s.event.type === 'DecompositionRequested')?.event as DecompositionRequested | undefined
  if (!requested) return
  const fingerprint = (r: RequestParams) => hash([r.taskId, r.task, r.priority, r.constraints, r.metadata ?? null])
  if (fingerprint(requested) !== fingerprint(params)) {
    throw new ConflictError(`Idempotency-Key "${key.slice(0, 200)}" was already used for another request`, { field: 'Idempotency-Key' })
  }
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
