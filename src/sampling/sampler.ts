// One small interface for every LLM provider (and the offline planner), plus the orchestration
// around it: the provider's output always passes acceptDecomposition; an invalid sample gets one
// repair round where the provider supports it, then fails with the validation details.
//
// Every sampler's output is held to the same bounds: the schema, MAX_SUBTASKS, and the byte budget
// of a decomposition (domain/event-size.ts), so the DecompositionSampled event it becomes always
// fits the event log and every projection. What a failure records is bounded too (issues and
// notes are capped), so the DecompositionFailed event always fits as well.
import { InvalidDecompositionError, PlannerBugError, SamplingTimeoutError } from '../errors.js'
import type { FieldIssue } from '../errors.js'
import { acceptDecomposition } from '../domain/accept-decomposition.js'
import type { AcceptOptions, AcceptResult } from '../domain/accept-decomposition.js'
import { decompositionBudget, defaultMaxPayload, jsonBytes } from '../domain/event-size.js'
import { clip } from '../domain/plan-text.js'
import type { Decomposition } from '../domain/decomposition-schema.js'
import type { SamplerInfo } from '../domain/events.js'
import type { SpecialistProfile } from '../domain/specialists.js'

export interface SamplingRequest {
  sessionId: string
  /** Whose MCP bridges may answer (see DecompositionRequested.samplingOwner). */
  samplingOwner?: string
  task: string
  priority: number
  constraints: readonly string[]
  specialists: readonly string[]
  /** What is known of each active specialist (capabilities, spare capacity), for the prompt. */
  profiles?: readonly SpecialistProfile[]
  /** Validation errors of the previous answer, for the repair round. */
  repair?: { previous: unknown; issues: FieldIssue[] }
  /** The bounds the answer is held to (the offline planner plans within them). */
  limits?: { maxSubtasks: number; maxBytes: number }
}

export interface SampleResult {
  /** The provider's answer, unvalidated. */
  output: unknown
  /** Which provider answered, when the sampler is a chain. */
  provider?: string
  model?: string
  promptVersion?: string
  usage?: { inputTokens?: number; outputTokens?: number }
  /**
   * The answer came from our own code (the offline planner), not a model: an invalid one is our
   * bug (PlannerBugError). Carried through a chain, which spreads the answering sampler's result.
   */
  offline?: boolean
}

export interface Sampler {
  readonly name: string
  /** Providers that can take validation errors back (LLMs) get one repair round. */
  readonly repairable: boolean
  /** Whether the prompt uses specialist profiles (LLMs do; the offline planner does not). */
  readonly usesProfiles?: boolean
  sample(request: SamplingRequest, signal: AbortSignal): Promise<SampleResult>
}

export interface SampledOutcome {
  decomposition: Decomposition
  info: SamplerInfo
}

export async function sampleDecomposition(
  sampler: Sampler,
  request: SamplingRequest,
  opts: {
    timestampMs: number
    maxSubtasks: number
    /** The decomposition's byte budget (default: that of nats-server's default max_payload). */
    maxBytes?: number
    timeoutMs: number
    now: () => number
  },
): Promise<SampledOutcome> {
  const started = opts.now()
  const maxBytes = opts.maxBytes ?? decompositionBudget(defaultMaxPayload)
  // The timeout aborts the provider call (its signal) and, should a provider ignore the signal,
  // still ends the wait: a hung provider can never hang the worker.
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs)
  const timedOut = new Promise<never>((_, reject) =>
    controller.signal.addEventListener(
      'abort',
      () => reject(new SamplingTimeoutError(`Sampling timed out after ${opts.timeoutMs} ms`, { provider: sampler.name, timeoutMs: opts.timeoutMs })),
      { once: true },
    ),
  )
  timedOut.catch(() => undefined)
  const run = (req: SamplingRequest) => Promise.race([sampler.sample(req, controller.signal), timedOut])
  try {
    return await sampleWith(run)
  } finally {
    clearTimeout(timer)
  }

  async function sampleWith(run: (req: SamplingRequest) => Promise<SampleResult>): Promise<SampledOutcome> {
    const bounded: SamplingRequest = { ...request, limits: { maxSubtasks: opts.maxSubtasks, maxBytes } }
    let result = await run(bounded)
    const acceptOpts = { timestampMs: opts.timestampMs, activeSpecialists: request.specialists, maxSubtasks: opts.maxSubtasks }
    let accepted = acceptWithinBudget(result.output, acceptOpts, maxBytes)
    if (!accepted.ok && sampler.repairable && !result.offline) {
      result = await run({ ...bounded, repair: { previous: result.output, issues: accepted.issues } })
      accepted = acceptWithinBudget(result.output, acceptOpts, maxBytes)
    }
    if (!accepted.ok) {
      const provider = clip(result.provider ?? sampler.name, maxInfoChars)
      const issues = cappedIssues(accepted.issues)
      const message = `The ${provider} sampler produced an invalid decomposition: ${issues[0]?.message ?? ''}`
      // A model's bad answer is that request's failure; the offline planner's is a bug of ours.
      const Failure = result.offline || !sampler.repairable ? PlannerBugError : InvalidDecompositionError
      throw new Failure(message, { provider, issues })
    }
    return {
      decomposition: accepted.decomposition,
      info: {
        // Bounded: a bridge names its own model, and the event must fit (see event-size).
        provider: clip(result.provider ?? sampler.name, maxInfoChars),
        ...(result.model ? { model: clip(result.model, maxInfoChars) } : {}),
        ...(result.promptVersion ? { promptVersion: clip(result.promptVersion, maxInfoChars) } : {}),
        ...(result.usage ? { usage: result.usage } : {}),
        latencyMs: opts.now() - started,
        ...(accepted.notes.length > 0 ? { notes: cappedNotes(accepted.notes) } : {}),
      },
    }
  }
}

/** acceptDecomposition, plus the byte budget: an answer too big for the event log is invalid too. */
function acceptWithinBudget(raw: unknown, opts: AcceptOptions, maxBytes: number): AcceptResult {
  const accepted = acceptDecomposition(raw, opts)
  if (!accepted.ok) return accepted
  const bytes = jsonBytes(accepted.decomposition)
  if (bytes <= maxBytes) return accepted
  return {
    ok: false,
    issues: [{ path: '', message: `is ${bytes} bytes as JSON; at most ${maxBytes} are allowed: shorten descriptions, contexts and reasoning` }],
  }
}

// What the events record of issues and notes: enough to act on, bounded in bytes whatever the
// provider answered (a DecompositionFailed event that cannot be appended would leave the
// decomposition without an outcome). See samplerInfoAllowance in event-size.
const maxRecordedChars = 300
const maxInfoChars = 100
const maxIssuesBytes = 4096
const maxNotesBytes = 2048

/** The leading items, each clipped, while their JSON stays within `maxBytes`; then how many were left out. */
function capped<T>(items: readonly T[], clipItem: (item: T) => T, maxBytes: number, more: (n: number) => T): T[] {
  const kept: T[] = []
  let bytes = 2
  for (const item of items) {
    const c = clipItem(item)
    bytes += jsonBytes(c) + 1
    if (bytes > maxBytes) break
    kept.push(c)
  }
  return kept.length < items.length ? [...kept, more(items.length - kept.length)] : kept
}

function cappedIssues(issues: readonly FieldIssue[]): FieldIssue[] {
  const clipIssue = (i: FieldIssue): FieldIssue => ({ ...i, path: clip(i.path, maxRecordedChars), message: clip(i.message, maxRecordedChars) })
  return capped(issues, clipIssue, maxIssuesBytes, (n) => ({ path: '', message: `and ${n} more issues` }))
}

function cappedNotes(notes: readonly string[]): string[] {
  return capped(notes, (n) => clip(n, maxRecordedChars), maxNotesBytes, (n) => `and ${n} more`)
}
