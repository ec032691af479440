import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { resolveSessionId } from '../../src/domain/session.js'
import { NoSessionError } from '../../src/errors.js'
import { activeSpecialists, mapSpecialist } from '../../src/domain/specialists.js'
import { outboundEvents } from '../../src/projectors/republisher.js'
import { configEnv, loadConfig, ConfigError } from '../../src/config.js'
import type { SubtasksReleased } from '../../src/domain/events.js'

test('session id: param → Session-Id header → Client-Id header → instance id', () => {
  assert.is(resolveSessionId({ paramSessionId: 'p', headerSessionId: 'h', clientId: 'c', instanceId: 'i' }), 'p')
  assert.is(resolveSessionId({ paramSessionId: ' ', headerSessionId: 'h', clientId: 'c', instanceId: 'i' }), 'h')
  assert.is(resolveSessionId({ clientId: 'c', instanceId: 'i' }), 'c')
  assert.is(resolveSessionId({ instanceId: 'i' }), 'i')
  assert.throws(() => resolveSessionId({}), (e: unknown) => e instanceof NoSessionError && (e as NoSessionError).code === -32603)
})

test('specialists: defaults when none registered; general always available', () => {
  assert.equal(activeSpecialists([]), ['frontend', 'backend', 'testing', 'docs', 'general'])
  assert.equal(activeSpecialists(['Frontend', 'data']), ['data', 'frontend', 'general'])
  assert.is(mapSpecialist('wizard', ['frontend', 'general']), 'general')
})

test('republished envelopes follow the spec and carry stable ids', () => {
  const released: SubtasksReleased = {
    type: 'SubtasksReleased',
    v: 1,
    decompositionId: 'd-1',
    taskId: 't-123456',
    timestamp: 1734567890123,
    priority: 75,
    sessionId: 'session-abc123',
    decomposedBy: 'worker-1',
    attachmentKey: 'decomposition_1734567890123',
    subtaskCount: 4,
    strategy: 'mixed',
    totalComplexity: 115,
    released: [{ id: 'st-1', specialist: 'frontend', complexity: 30, description: 'Create toggle', requiredCapabilities: ['React hooks'] }],
    releasedAt: 1734567890200,
  }
  const [decomposed, ready] = outboundEvents(released)
  assert.equal(decomposed, {
    id: 'task.decomposed:d-1',
    type: 'task.decomposed',
    payload: { taskId: 't-123456', subtaskCount: 4, strategy: 'mixed', totalComplexity: 115, attachmentKey: 'decomposition_1734567890123' },
    metadata: { decomposedBy: 'worker-1', sessionId: 'session-abc123', timestamp: 1734567890123 },
  })
  assert.equal(ready, {
    id: 'task.subtask.ready:st-1',
    type: 'task.subtask.ready',
    payload: { subtaskId: 'st-1', parentTaskId: 't-123456', specialist: 'frontend', description: 'Create toggle', requiredCapabilities: ['React hooks'] },
    metadata: { priority: 75, sessionId: 'session-abc123' },
  })
})

test('config: configEnv is the inverse of loadConfig (a child process gets the same config)', () => {
  const c = loadConfig({}, { streamName: 'S_X', ackWaitMs: 2000, roles: ['rpc', 'sampler'], samplers: ['mcp', 'heuristic'], rateLimitPerMinute: 0, anthropicApiKey: 'k' })
  assert.equal(loadConfig(configEnv(c)), c)
})

test('config: defaults, env parsing, and a clear error naming the variable', () => {
  const c = loadConfig({})
  assert.is(c.natsUrl, 'nats://127.0.0.1:4222')
  assert.is(c.streamName, 'CB_EVENTS')
  assert.is(c.decompositionTtlSeconds, 604800)
  assert.ok(Object.isFrozen(c))
  const d = loadConfig({ SAMPLING_TIMEOUT_MS: '5000', ROLES: 'rpc, sampler', SAMPLER: 'heuristic' })
  assert.is(d.samplingTimeoutMs, 5000)
  assert.equal(d.roles, ['rpc', 'sampler'])
  assert.throws(() => loadConfig({ SAMPLING_TIMEOUT_MS: 'soon' }), (e: unknown) => e instanceof ConfigError && /SAMPLING_TIMEOUT_MS/.test((e as Error).message))
  assert.throws(() => loadConfig({ STREAM_NAME: 'a.b' }), (e: unknown) => e instanceof ConfigError && /STREAM_NAME/.test((e as Error).message))
  assert.throws(() => loadConfig({ SAMPLER: 'openai,heuristic' }), (e: unknown) => e instanceof ConfigError && /OPENAI_API_KEY/.test((e as Error).message))
  assert.throws(() => loadConfig({ SAMPLER: 'gpt9' }), (e: unknown) => e instanceof ConfigError && /gpt9[\s\S]*mcp, anthropic, openai, heuristic/.test((e as Error).message))
  assert.throws(() => loadConfig({ SAMPLER: 'anthropic' }), (e: unknown) => e instanceof ConfigError && /ANTHROPIC_API_KEY/.test((e as Error).message))
  assert.equal(loadConfig({ SAMPLER: 'mcp,anthropic,heuristic', ANTHROPIC_API_KEY: 'k' }).samplers, ['mcp', 'anthropic', 'heuristic'])
  assert.throws(() => loadConfig({ SAMPLING_SUBJECT_PREFIX: 'cb.*' }), (e: unknown) => e instanceof ConfigError && /SAMPLING_SUBJECT_PREFIX/.test((e as Error).message))
  assert.equal(loadConfig({ SAMPLER: 'openai,heuristic', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }).samplers, ['openai', 'heuristic'])
})

test.run()
