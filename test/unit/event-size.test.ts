// The size bounds of issue #12: a request is measured against the largest event it can lead to, and
// the bound is conservative: an accepted request's largest Sampled event, and the Postgres
// attachment holding it, always fit.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  decompositionBudget,
  decompositionRequestProblem,
  defaultMaxPayload,
  eventLimit,
  eventProblem,
  jsonBytes,
  maxPayloadOf,
  sampledEventBound,
  transportAllowance,
} from '../../src/domain/event-size.js'
import type { DecompositionRequested, DecompositionSampled } from '../../src/domain/events.js'
import type { Decomposition } from '../../src/domain/decomposition-schema.js'
import { decompositionAttachment } from '../../src/domain/decomposition-attachment.js'
import { itemsThatFit } from '../../src/rpc/payload-limits.js'

const MiB = 1024 * 1024
const limits = { maxPayload: MiB, maxSubtasks: 50 }

function requested(extra: Partial<DecompositionRequested> = {}): DecompositionRequested {
  return {
    type: 'DecompositionRequested',
    v: 1,
    decompositionId: 'd-abc-123456789012',
    taskId: 't-1',
    task: 'Add dark mode toggle to settings page',
    priority: 50,
    constraints: ['Use React hooks'],
    sessionId: 'session-abc123',
    clientId: 'client-1',
    specialists: ['backend', 'docs', 'frontend', 'general', 'testing'],
    requestedBy: 'decomposer-host-1',
    requestedAt: 1_700_000_000_000,
    ...extra,
  }
}
const metadataOf = (bytes: number) => ({ blob: 'm'.repeat(bytes) })

test('limits: max_payload from the connection, half the event limit for the decomposition', () => {
  assert.is(maxPayloadOf({ info: { max_payload: 65536 } }), 65536)
  assert.is(maxPayloadOf({}), defaultMaxPayload)
  assert.is(eventLimit(MiB), MiB - transportAllowance)
  assert.is(eventLimit(8 * MiB), MiB - transportAllowance) // the stream's max_msg_size binds
  assert.is(decompositionBudget(MiB), Math.floor((MiB - transportAllowance) / 2))
})

test('an ordinary request fits; metadata that only the Sampled event cannot carry is refused, naming metadata', () => {
  assert.is(decompositionRequestProblem(requested(), limits), undefined)
  const r = requested({ metadata: metadataOf(700_000) })
  assert.ok(jsonBytes(r) < eventLimit(MiB), 'the Requested event alone would fit')
  const problem = decompositionRequestProblem(r, limits)
  assert.ok(problem)
  assert.is(problem!.field, 'metadata')
  assert.ok(problem!.bytes > problem!.limitBytes)
})

test('a Requested event over the limit is refused, naming the biggest field', () => {
  assert.is(decompositionRequestProblem(requested({ metadata: metadataOf(MiB) }), limits)?.field, 'metadata')
  // Constraints travel in the Requested event only: 50 of 1000 escaped characters are 300 KB.
  const constraints = Array.from({ length: 50 }, () => '\u0001'.repeat(1000))
  assert.is(decompositionRequestProblem(requested({ constraints }), limits), undefined)
  assert.is(decompositionRequestProblem(requested({ constraints }), { maxPayload: 256 * 1024, maxSubtasks: 50 })?.field, 'constraints')
})

test('task and attachment events: refused over the limit, naming the biggest field', () => {
  assert.is(eventProblem({ value: 'x' }, { value: 'x' }, MiB), undefined)
  const big = 'v'.repeat(MiB)
  assert.is(eventProblem({ value: big }, { value: big, key: 'k' }, MiB)?.field, 'value')
})

/** A decomposition of `maxSubtasks` subtasks that takes exactly `bytes` bytes of JSON. */
function decompositionOf(bytes: number, maxSubtasks: number): Decomposition {
  const ts = 1_700_000_000_000
  const d: Decomposition = {
    subtasks: Array.from({ length: maxSubtasks }, (_, i) => ({
      id: `st-${ts}-${i + 1}`,
      description: 'd'.repeat(100),
      specialist: 'frontend',
      dependencies: i > 0 ? [`st-${ts}-${i}`] : [],
      complexity: 100,
      context: { files: ['f'], patterns: ['p'], constraints: ['c'] },
      estimatedMinutes: 150,
      rationale: 'r',
    })),
    executionStrategy: 'sequential',
    totalComplexity: 100 * maxSubtasks,
    reasoning: '',
    architecturalConsiderations: [],
  }
  d.reasoning = 'x'.repeat(bytes - jsonBytes(d))
  assert.is(jsonBytes(d), bytes)
  return d
}

test('the bound is conservative: the largest Sampled event and attachment reply of an accepted request fit', () => {
  for (const maxSubtasks of [1, 50, 500]) {
    const opts = { maxPayload: MiB, maxSubtasks }
    // The most metadata the check lets through.
    let lo = 0
    let hi = MiB
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2)
      if (decompositionRequestProblem(requested({ metadata: metadataOf(mid) }), opts)) hi = mid - 1
      else lo = mid
    }
    const r = requested({ metadata: metadataOf(lo), task: 'é'.repeat(1000) })
    if (decompositionRequestProblem(r, opts)) continue // the longer task text took the room: nothing to check
    const worst: DecompositionSampled = {
      type: 'DecompositionSampled',
      v: 1,
      decompositionId: r.decompositionId,
      taskId: r.taskId,
      taskText: r.task,
      priority: 33.333333333333336,
      sessionId: r.sessionId,
      ...(r.metadata ? { metadata: r.metadata } : {}),
      timestamp: 1_700_000_000_000,
      attachmentKey: 'decomposition_1700000000000',
      decomposedBy: 'decomposer-a-rather-long-host-name.example.internal-4194304',
      decomposition: decompositionOf(decompositionBudget(MiB), maxSubtasks),
      sampler: {
        // At the sampler's caps: 100 characters a string, notes of 2 KiB (6 bytes a character here).
        provider: '\u0001'.repeat(100),
        model: '\u0001'.repeat(100),
        promptVersion: '\u0001'.repeat(100),
        latencyMs: 300000,
        usage: { inputTokens: 1_000_000, outputTokens: 1_000_000 },
        notes: ['\u0001'.repeat(300), 'and 10 more'],
      },
    }
    const headers = 512 // what an append's NATS headers take, generously
    assert.ok(jsonBytes(worst) + headers <= MiB, `Sampled event ${jsonBytes(worst)} bytes at maxSubtasks ${maxSubtasks}`)
    assert.ok(jsonBytes(worst) <= sampledEventBound(r, opts))
    const reply = {
      jsonrpc: '2.0',
      result: { taskId: r.taskId, key: worst.attachmentKey, type: 'json', value: decompositionAttachment(worst), createdBy: worst.decomposedBy, createdAt: new Date(0).toISOString() },
      id: 123456789,
    }
    assert.ok(jsonBytes(reply) + headers <= MiB, `get_attachment reply ${jsonBytes(reply)} bytes at maxSubtasks ${maxSubtasks}`)
  }
})

test('itemsThatFit: items in order while the reply stays within the budget, commas counted', () => {
  const items = ['aaaa', 'bbbb', 'cccc'] // 6 bytes of JSON each
  assert.equal(itemsThatFit(items, 10, 10 + 6 + 1 + 6), { count: 2, bytes: 23 })
  assert.equal(itemsThatFit(items, 10, 15), { count: 0, bytes: 10 })
  assert.equal(itemsThatFit(items, 0, 1000), { count: 3, bytes: 20 })
})

test.run()
