// Issue #12: every sampler's output is held to the same bounds (schema and byte budget), and an
// invalid answer is that request's failure, never a provider outage that opens the breaker.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InvalidDecompositionError, NoSessionError, PlannerBugError, SamplerUnavailableError, SamplingTimeoutError, StorageError } from '../../src/errors.js'
import { sampleDecomposition } from '../../src/sampling/sampler.js'
import type { Sampler, SamplingRequest } from '../../src/sampling/sampler.js'
import { heuristicSampler } from '../../src/sampling/heuristic.js'
import { countsAsOutage, createSamplingBreaker } from '../../src/sampling/breaker.js'
import { defaultSpecialists } from '../../src/domain/specialists.js'
import { jsonBytes } from '../../src/domain/event-size.js'
import { silentLogger } from '../../src/log.js'

const request: SamplingRequest = { sessionId: 's', task: 'Add dark mode toggle to settings page', priority: 50, constraints: [], specialists: defaultSpecialists }
const opts = { timestampMs: 1_700_000_000_000, maxSubtasks: 50, maxBytes: 1500, timeoutMs: 5000, now: Date.now }
const plan = (descriptionLength: number) => ({
  subtasks: [{ id: 'a', description: 'd'.repeat(descriptionLength), specialist: 'frontend', dependencies: [], complexity: 10, estimatedMinutes: 15, context: {}, rationale: 'r' }],
  reasoning: 'r',
})
const fixed = (answers: unknown[], repairable: boolean): Sampler & { seen: SamplingRequest[] } => {
  const seen: SamplingRequest[] = []
  return {
    name: 'fixed',
    repairable,
    seen,
    async sample(req) {
      seen.push(req)
      return { output: answers[Math.min(seen.length - 1, answers.length - 1)] }
    },
  }
}

test('an answer over the byte budget is invalid: a model gets a repair round that says so', async () => {
  const sampler = fixed([plan(1900), plan(100)], true)
  const out = await sampleDecomposition(sampler, request, opts)
  assert.is(out.decomposition.subtasks.length, 1)
  assert.is(sampler.seen.length, 2)
  assert.match(sampler.seen[1]!.repair!.issues[0]!.message, /bytes as JSON; at most 1500/)
  assert.equal(sampler.seen[0]!.limits, { maxSubtasks: 50, maxBytes: 1500 })
})

test('a non-model sampler gets no repair round: its invalid plan is a PlannerBugError with the issues', async () => {
  const sampler = fixed([plan(1900)], false)
  try {
    await sampleDecomposition(sampler, { ...request }, opts)
    assert.unreachable('should have failed')
  } catch (err) {
    assert.instance(err, PlannerBugError)
    assert.instance(err, InvalidDecompositionError) // the same -32603 with issues for the caller
    assert.is((err as PlannerBugError).code, -32603)
    assert.ok(Array.isArray((err as PlannerBugError).data?.['issues']))
  }
  assert.is(sampler.seen.length, 1)
})

test('what a failure records is bounded: a DecompositionFailed event always fits', async () => {
  // 50 subtasks, each naming 10 unknown dependencies of 200 characters: 500 graph issues.
  const sub = (i: number) => ({ ...plan(10).subtasks[0]!, id: `s${i}`, dependencies: Array.from({ length: 10 }, (_, j) => `${i}-${j}-`.padEnd(200, 'u')) })
  const bad = { subtasks: Array.from({ length: 50 }, (_, i) => sub(i)), reasoning: 'r' }
  const err = await sampleDecomposition(fixed([bad], false), request, opts).catch((e: unknown) => e)
  assert.instance(err, PlannerBugError)
  const issues = (err as PlannerBugError).data!['issues'] as { message: string }[]
  assert.ok(jsonBytes(issues) <= 4096 + 64, `${jsonBytes(issues)} bytes of issues`)
  assert.match(issues.at(-1)!.message, /^and \d+ more issues$/)
})

test('the offline planner plans within the budget it is given', async () => {
  const constraints = Array.from({ length: 20 }, (_, i) => `Add export ${i} ${'x'.repeat(900)}`)
  const out = await sampleDecomposition(heuristicSampler, { ...request, constraints }, { ...opts, maxBytes: 40_000 })
  assert.ok(jsonBytes(out.decomposition) <= 40_000)
})

test('only provider outages count: not store outages, not invalid answers, not requests no provider could take', () => {
  assert.is(countsAsOutage(new SamplingTimeoutError('timed out')), true)
  assert.is(countsAsOutage(new Error('ECONNREFUSED')), true)
  assert.is(countsAsOutage(new StorageError('redis down')), false)
  assert.is(countsAsOutage(new InvalidDecompositionError('bad answer')), false)
  assert.is(countsAsOutage(new PlannerBugError('bad plan')), false)
  assert.is(countsAsOutage(new SamplerUnavailableError('no bridge for session s')), false)
  assert.is(countsAsOutage(new NoSessionError('no session')), false)
})

test('the breaker stays closed after invalid plans, and opens after provider failures', async () => {
  const breaker = createSamplingBreaker({ threshold: 3, resetMs: 60_000 }, silentLogger)
  try {
    for (let i = 0; i < 5; i++) await breaker.run(() => Promise.reject(new PlannerBugError('bad plan'))).catch(() => undefined)
    assert.is(breaker.state, 'closed')
    // An invalid answer shows the provider is reachable: it ends a run of failures.
    for (let i = 0; i < 2; i++) await breaker.run(() => Promise.reject(new Error('503'))).catch(() => undefined)
    await breaker.run(() => Promise.reject(new InvalidDecompositionError('bad answer'))).catch(() => undefined)
    await breaker.run(() => Promise.reject(new Error('503'))).catch(() => undefined)
    assert.is(breaker.state, 'closed')
    for (let i = 0; i < 2; i++) await breaker.run(() => Promise.reject(new Error('503'))).catch(() => undefined)
    assert.is(breaker.state, 'open')
  } finally {
    breaker.shutdown()
  }
})

test.run()
