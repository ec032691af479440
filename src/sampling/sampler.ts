// One small interface for every LLM provider (and the offline planner), plus the orchestration
// around it: the provider's output always passes acceptDecomposition; an invalid sample gets one
// repair round where the provider supports it, then fails with the validation details.
import { InvalidDecompositionError, SamplingTimeoutError } from '../errors.js'
import type { FieldIssue } from '../errors.js'
import { acceptDecomposition } from '../domain/accept-decomposition.js'
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
}

export interface SampleResult {
  /** The provider's answer, unvalidated. */
  output: unknown
  /** Which provider answered, when the sampler is a chain. */
  provider?: string
  model?: string
  promptVersion?: string
  usage?: { inputTokens?: number; outputTokens?: number }
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
  opts: { timestampMs: number; maxSubtasks: number; timeoutMs: number; now: () => number },
): Promise<SampledOutcome> {
  const started = opts.now()
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
    let result = await run(request)
    const acceptOpts = { timestampMs: opts.timestampMs, activeSpecialists: request.specialists, maxSubtasks: opts.maxSubtasks }
    let accepted = acceptDecomposition(result.output, acceptOpts)
    if (!accepted.ok && sampler.repairable) {
      result = await run({ ...request, repair: { previous: result.output, issues: accepted.issues } })
      accepted = acceptDecomposition(result.output, acceptOpts)
    }
    if (!accepted.ok) {
      throw new InvalidDecompositionError(`The ${sampler.name} sampler produced an invalid decomposition: ${accepted.issues[0]?.message ?? ''}`, {
        provider: sampler.name,
        issues: accepted.issues,
      })
    }
    return {
      decomposition: accepted.decomposition,
      info: {
        provider: result.provider ?? sampler.name,
        ...(result.model ? { model: result.model } : {}),
        ...(result.promptVersion ? { promptVersion: result.promptVersion } : {}),
        ...(result.usage ? { usage: result.usage } : {}),
        latencyMs: opts.now() - started,
        ...(accepted.notes.length > 0 ? { notes: accepted.notes } : {}),
      },
    }
  }
}
