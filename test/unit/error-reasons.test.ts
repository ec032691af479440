// Every error a client can receive carries a stable error.data.reason, so clients branch on it and
// never on message text; a failure recorded in the log keeps (or, when older, derives) its reason.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  CircuitOpenError,
  ConflictError,
  InternalError,
  InvalidDecompositionError,
  InvalidParamsError,
  MethodNotFoundError,
  NoSessionError,
  NotFoundError,
  PlannerBugError,
  RateLimitedError,
  RecordedFailureError,
  SamplerUnavailableError,
  SamplingTimeoutError,
  ShuttingDownError,
  StorageError,
  toJsonRpcError,
} from '../../src/errors.js'

const reasonOf = (err: unknown) => (toJsonRpcError(err).data as { reason?: string } | undefined)?.reason

test('each error class answers its own reason', () => {
  const cases: [unknown, string][] = [
    [new InvalidParamsError('x'), 'invalid'],
    [new NotFoundError('x'), 'not_found'],
    [new ConflictError('x'), 'conflict'],
    [new MethodNotFoundError('x'), 'method_not_found'],
    [new NoSessionError('x'), 'no_session'],
    [new InvalidDecompositionError('x'), 'invalid_sample'],
    [new PlannerBugError('x'), 'planner_bug'],
    [new SamplerUnavailableError('x'), 'sampler_unavailable'],
    [new SamplingTimeoutError('x'), 'timeout'],
    [new CircuitOpenError('x'), 'circuit_open'],
    [new RateLimitedError('x', { retryAfterMs: 5 }), 'rate_limited'],
    [new StorageError('x', { store: 'redis' }), 'storage'],
    [new ShuttingDownError('x'), 'shutting_down'],
    [new InternalError('x'), 'internal'],
    [new Error('secret detail'), 'internal'],
  ]
  for (const [err, reason] of cases) assert.is(reasonOf(err), reason, String(err))
  // Structured detail stays beside the reason.
  assert.equal(toJsonRpcError(new RateLimitedError('x', { retryAfterMs: 5 })).data, { retryAfterMs: 5, reason: 'rate_limited' })
  // A reason chosen by the thrower wins over the class's.
  assert.is(reasonOf(new InvalidParamsError('x', { reason: 'too_deep' })), 'too_deep')
})

test('recorded failures keep their reason; older ones derive it from the code', () => {
  const sampled = new InvalidDecompositionError('bad plan', { issues: [] })
  const recorded = new RecordedFailureError(sampled.code, sampled.message, sampled.data)
  assert.is(reasonOf(recorded), 'invalid_sample')
  assert.is(reasonOf(new RecordedFailureError(-32001, 'timed out')), 'timeout')
  assert.is(reasonOf(new RecordedFailureError(-32603, 'old failure', { issues: [] })), 'internal')
})

test.run()
