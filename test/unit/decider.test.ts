// given events / when command / then events
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InvalidTransitionError, decide, fold } from '../../src/domain/decomposition.js'
import type { DecompositionEvent, DecompositionRequested } from '../../src/domain/events.js'
import type { Decomposition } from '../../src/domain/decomposition-schema.js'

const request: Omit<DecompositionRequested, 'type' | 'v'> = {
  decompositionId: 'd-1',
  taskId: 't-1',
  task: 'Add dark mode',
  priority: 75,
  constraints: [],
  sessionId: 's-1',
  clientId: 'c-1',
  specialists: ['frontend', 'general'],
  requestedBy: 'i-1',
  requestedAt: 10,
}
const decomposition: Decomposition = {
  subtasks: [
    { id: 'st-100-1', description: 'a', specialist: 'frontend', dependencies: [], complexity: 30, context: { patterns: ['React hooks'] }, estimatedMinutes: 45, rationale: 'r' },
    { id: 'st-100-2', description: 'b', specialist: 'general', dependencies: ['st-100-1'], complexity: 20, context: {}, estimatedMinutes: 30, rationale: 'r' },
  ],
  executionStrategy: 'sequential',
  totalComplexity: 50,
  reasoning: 'why',
  architecturalConsiderations: [],
}
const sampler = { provider: 'heuristic', latencyMs: 1 }

function given(events: DecompositionEvent[]) {
  return { when: (cmd: Parameters<typeof decide>[0]) => decide(cmd, fold(events)) }
}
const requested = decide({ type: 'RequestDecomposition', request }, fold([]))[0]!
const sampled = given([requested]).when({ type: 'RecordSample', decomposition, timestamp: 100, decomposedBy: 'w-1', sampler })[0]!
const persisted = given([requested, sampled]).when({ type: 'MarkPersisted', sampledSeq: 2, at: 101 })[0]!

test('request → Requested; requesting again decides nothing', () => {
  assert.is(requested.type, 'DecompositionRequested')
  assert.equal(given([requested]).when({ type: 'RequestDecomposition', request }), [])
})

test('sample → Sampled with attachment key from its own timestamp', () => {
  assert.is(sampled.type, 'DecompositionSampled')
  if (sampled.type !== 'DecompositionSampled') return
  assert.is(sampled.attachmentKey, 'decomposition_100')
  assert.is(sampled.taskText, 'Add dark mode')
  assert.is(sampled.priority, 75)
})

test('a step already taken decides nothing (safe to repeat)', () => {
  assert.equal(given([requested, sampled]).when({ type: 'RecordSample', decomposition, timestamp: 200, decomposedBy: 'w-2', sampler }), [])
  assert.equal(given([requested, sampled, persisted]).when({ type: 'MarkPersisted', sampledSeq: 2, at: 102 }), [])
})

test('release → only dependency-free subtasks, with capabilities from context patterns', () => {
  const [released] = given([requested, sampled, persisted]).when({ type: 'ReleaseSubtasks', at: 103 })
  assert.ok(released && released.type === 'SubtasksReleased')
  if (released?.type !== 'SubtasksReleased') return
  assert.equal(
    released.released.map((r) => r.id),
    ['st-100-1'],
  )
  assert.equal(released.released[0]!.requiredCapabilities, ['React hooks'])
  assert.is(released.subtaskCount, 2)
  assert.is(released.totalComplexity, 50)
})

test('a failure ends the decomposition; later steps decide nothing', () => {
  const [failed] = given([requested]).when({ type: 'RecordFailure', error: { code: -32001, message: 'timeout' }, failedBy: 'w', at: 5 })
  assert.is(failed!.type, 'DecompositionFailed')
  assert.equal(given([requested, failed!]).when({ type: 'RecordSample', decomposition, timestamp: 1, decomposedBy: 'w', sampler }), [])
})

test('a step that comes too early is a bug, not a silent no-op', () => {
  assert.throws(() => given([requested]).when({ type: 'ReleaseSubtasks', at: 1 }), (e: unknown) => e instanceof InvalidTransitionError)
})

test.run()
