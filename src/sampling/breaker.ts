// Circuit breaker around sampling (opossum). The spec opens it after N *consecutive* failures;
// opossum's own rule is a failure percentage, so it is told never to open by itself and we open it
// on the Nth consecutive failure. opossum does the rest: after resetTimeout one trial call is let
// through (half-open); success closes the circuit, failure opens it again.
import CircuitBreaker from 'opossum'
import { CircuitOpenError, StorageError } from '../errors.js'
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
    // A store outage is not the sampler's fault and must not open the circuit.
    errorFilter: (err: unknown) => err instanceof StorageError,
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
