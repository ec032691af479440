// Circuit breaker around sampling (opossum). The spec opens it after N *consecutive* failures;
// opossum's own rule is a failure percentage, so it is told never to open by itself and we open it
// on the Nth consecutive failure. opossum does the rest: after resetTimeout one trial call is let
// through (half-open); success closes the circuit, failure opens it again.
//
// The breaker is for provider outages: a provider that times out, answers 5xx, cannot be reached.
// While it is open *every* caller gets the fallback, so only failures that say the provider is down
// may count. An invalid decomposition does not: the provider answered, and the answer was wrong
// for that one request. From the offline planner it is a bug of ours that one request's input
// triggers (a 658-character task once opened the circuit for everyone for a minute); from a model,
// after its repair round, it is that request's failure (-32603 with the issues), and a model that
// answers badly for everyone is not helped by the empty fallback either: callers keep getting the
// issues, and operators the logged errors. Such an answer counts as a call that reached the
// provider: it ends a run of consecutive failures and closes a half-open circuit.
import CircuitBreaker from 'opossum'
import { CircuitOpenError, InvalidDecompositionError, NoSessionError, SamplerUnavailableError, StorageError } from '../errors.js'
import type { Logger } from '../log.js'

export interface SamplingBreaker {
  run<T>(fn: () => Promise<T>): Promise<T>
  readonly state: 'closed' | 'open' | 'half-open'
  shutdown(): void
}

export function createSamplingBreaker(opts: { threshold: number; resetMs: number }, log: Logger): SamplingBreaker {
  const breaker = new CircuitBreaker(async (fn: () => Promise<unknown>) => fn(), {
    timeout: false, // the sampler enforces its own timeout and aborts the provider call
    resetTimeout: opts.resetMs,
    volumeThreshold: Number.MAX_SAFE_INTEGER,
    errorFilter: (err: unknown) => !countsAsOutage(err),
  })
  let consecutive = 0
  breaker.on('success', () => (consecutive = 0))
  breaker.on('failure', () => {
    consecutive += 1
    if (consecutive >= opts.threshold && breaker.closed) breaker.open()
  })
  breaker.on('open', () => log.warn('sampling circuit open', { consecutiveFailures: consecutive, retryInMs: opts.resetMs }))
  breaker.on('halfOpen', () => log.info('sampling circuit half-open: next call is a trial'))
  breaker.on('close', () => {
    consecutive = 0
    log.info('sampling circuit closed')
  })
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      try {
        return (await breaker.fire(fn)) as T
      } catch (err) {
        if ((err as { code?: string }).code === 'EOPENBREAKER') {
          throw new CircuitOpenError('Sampling circuit open: service temporarily unavailable', { retryInMs: opts.resetMs })
        }
        throw err
      }
    },
    get state() {
      return breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed'
    },
    shutdown: () => breaker.shutdown(),
  }
}

/** Whether a sampling failure says the provider is down (see the top of this file). */
export function countsAsOutage(err: unknown): boolean {
  // A store outage is not the sampler's fault; an invalid answer is one request's failure, and so
  // is a request no provider could take (no MCP bridge for its session, no session at all): with
  // SAMPLER=mcp alone, one client without a bridge must not open the breaker for everyone.
  return !(
    err instanceof StorageError ||
    err instanceof InvalidDecompositionError ||
    err instanceof SamplerUnavailableError ||
    err instanceof NoSessionError
  )
}
