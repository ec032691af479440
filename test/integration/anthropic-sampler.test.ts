// The Anthropic provider against a local HTTP server speaking the Messages API wire format: real
// SDK, real HTTP, real retries. No network beyond loopback.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createAnthropicSampler } from '../../src/sampling/anthropic.js'
import { sampleDecomposition } from '../../src/sampling/sampler.js'
import { chainSamplers } from '../../src/sampling/chain.js'
import { heuristicSampler } from '../../src/sampling/heuristic.js'
import { InvalidDecompositionError, SamplingTimeoutError } from '../../src/errors.js'
import { silentLogger } from '../../src/log.js'
import { hang, json, samplingRequest as request, validAnswer as answer, withHttpPeer as withServer } from '../helpers/http-peer.js'
import type { Reply } from '../helpers/http-peer.js'

const message = (text: string): Reply =>
  json(200, {
    id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
    type: 'message',
    role: 'assistant',
    model: 'claude-test-2026',
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 512, output_tokens: 256 },
  })
const apiError = (status: number, type: string): Reply =>
  json(status, { type: 'error', error: { type, message: `${type} happened` }, request_id: 'req_test' }, { 'retry-after-ms': '10' })

const opts = { timestampMs: 1000, maxSubtasks: 20, timeoutMs: 5000, now: Date.now }
const sampler = (baseURL: string, maxRetries = 0) => createAnthropicSampler({ baseURL, apiKey: 'sk-ant-test', model: 'claude-test', maxRetries })

test('request shape: /v1/messages, API key and version header, system prompt, task delimited, JSON schema output', () =>
  withServer([message('```json\n' + JSON.stringify(answer) + '\n```')], async (baseURL, seen) => {
    const out = await sampleDecomposition(sampler(baseURL), request, opts)
    assert.is(out.decomposition.subtasks.length, 2)
    assert.equal(out.decomposition.subtasks[1]!.dependencies, ['st-1000-1'])
    assert.equal(
      { provider: out.info.provider, model: out.info.model, promptVersion: out.info.promptVersion, usage: out.info.usage },
      { provider: 'anthropic', model: 'claude-test-2026', promptVersion: 'decompose-v2', usage: { inputTokens: 512, outputTokens: 256 } },
    )
    const r = seen[0]!
    assert.is(r.method, 'POST')
    assert.is(r.url, '/v1/messages')
    // The key travels as `x-api-key` or, in newer SDKs, as a bearer token: either way, ours.
    assert.ok(r.headers['x-api-key'] === 'sk-ant-test' || r.headers.authorization === 'Bearer sk-ant-test')
    assert.ok(r.headers['anthropic-version'])
    assert.is(r.body.model, 'claude-test')
    assert.ok(r.body.max_tokens > 0)
    assert.match(r.body.system, /JSON schema/)
    assert.equal(r.body.messages.map((m: { role: string }) => m.role), ['user'])
    assert.match(r.body.messages[0].content, /<task>\nBuild an invoices API\n<\/task>/)
    const format = r.body.output_config.format
    assert.is(format.type, 'json_schema')
    // Strict structured output: every object closed, and the answer's shape kept.
    assert.is(format.schema.additionalProperties, false)
    assert.ok(format.schema.properties.subtasks.items.properties.dependencies)
  }))

test('an invalid answer gets exactly one repair round with the errors sent back', () =>
  withServer([message(JSON.stringify({ ...answer, subtasks: [{ ...answer.subtasks[0], dependencies: ['ghost'] }] })), message(JSON.stringify(answer))], async (baseURL, seen) => {
    const out = await sampleDecomposition(sampler(baseURL), request, opts)
    assert.is(out.decomposition.subtasks.length, 2)
    assert.is(seen.length, 2)
    assert.match(seen[1]!.body.messages[0].content, /rejected[\s\S]*ghost/)
  }))

test('still invalid after the repair round → InvalidDecompositionError naming the problem', () =>
  withServer([message('I would rather not.')], async (baseURL, seen) => {
    try {
      await sampleDecomposition(sampler(baseURL), request, opts)
      assert.unreachable()
    } catch (err) {
      assert.instance(err, InvalidDecompositionError)
      assert.ok(((err as InvalidDecompositionError).data!.issues as unknown[]).length > 0)
    }
    assert.is(seen.length, 2)
  }))

test('429 then success is retried; overloaded 529 and 500 fail after the retries', async () => {
  await withServer([apiError(429, 'rate_limit_error'), message(JSON.stringify(answer))], async (baseURL, seen) => {
    const out = await sampleDecomposition(sampler(baseURL, 2), request, opts)
    assert.is(out.decomposition.subtasks.length, 2)
    assert.is(seen.length, 2)
  })
  for (const [status, type] of [[529, 'overloaded_error'], [500, 'api_error']] as const) {
    await withServer([apiError(status, type)], async (baseURL, seen) => {
      try {
        await sampleDecomposition(sampler(baseURL, 1), request, opts)
        assert.unreachable()
      } catch (err) {
        assert.match(String((err as Error).message), new RegExp(String(status)))
      }
      assert.is(seen.length, 2)
    })
  }
})

test('a 400 is not retried', () =>
  withServer([apiError(400, 'invalid_request_error')], async (baseURL, seen) => {
    try {
      await sampleDecomposition(sampler(baseURL, 3), request, opts)
      assert.unreachable()
    } catch (err) {
      assert.match(String((err as Error).message), /400/)
    }
    assert.is(seen.length, 1)
  }))

test('a server that hangs past the timeout: the call is aborted with SamplingTimeoutError', () =>
  withServer([hang], async (baseURL) => {
    const started = Date.now()
    try {
      await sampleDecomposition(sampler(baseURL), request, { ...opts, timeoutMs: 300 })
      assert.unreachable()
    } catch (err) {
      assert.instance(err, SamplingTimeoutError)
    }
    assert.ok(Date.now() - started < 3000)
  }))

test('fallback chain: anthropic failing hands over to the heuristic planner', () =>
  withServer([apiError(500, 'api_error')], async (baseURL) => {
    const chain = chainSamplers([sampler(baseURL), heuristicSampler], silentLogger)
    const out = await sampleDecomposition(chain, { ...request, specialists: ['frontend', 'backend', 'testing', 'docs', 'general'] }, opts)
    assert.is(out.info.provider, 'heuristic')
  }))

test.run()
