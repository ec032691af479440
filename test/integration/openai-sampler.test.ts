// The OpenAI-compatible provider against a local HTTP server speaking the chat-completions wire
// format: real SDK, real HTTP, real retries. No network beyond loopback.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createOpenAiSampler } from '../../src/sampling/openai.js'
import { sampleDecomposition } from '../../src/sampling/sampler.js'
import { chainSamplers } from '../../src/sampling/chain.js'
import { heuristicSampler } from '../../src/sampling/heuristic.js'
import { SamplingTimeoutError, InvalidDecompositionError } from '../../src/errors.js'
import { silentLogger } from '../../src/log.js'
import { hang, json, samplingRequest as request, validAnswer as answer, withHttpPeer } from '../helpers/http-peer.js'
import type { Reply, SeenRequest } from '../helpers/http-peer.js'

const withServer = (replies: Reply[], fn: (baseURL: string, seen: SeenRequest[]) => Promise<void>) =>
  withHttpPeer(replies, (origin, seen) => fn(`${origin}/v1`, seen))

const completion = (content: string): Reply =>
  json(200, {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1734567890,
    model: 'test-model-2026',
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 321, completion_tokens: 123, total_tokens: 444 },
  })
const apiError = (status: number, code: string): Reply =>
  json(status, { error: { message: `${code} happened`, type: code, param: null, code } }, { 'retry-after-ms': '10' })

const opts = { timestampMs: 1000, maxSubtasks: 20, timeoutMs: 5000, now: Date.now }

test('request shape: model, system+user messages with the task delimited, JSON schema output, bearer key; fenced answer accepted', () =>
  withServer([completion('Here you go:\n```json\n' + JSON.stringify(answer) + '\n```\nGood luck!')], async (baseURL, seen) => {
    const sampler = createOpenAiSampler({ baseURL, apiKey: 'sk-test', model: 'test-model', maxRetries: 0 })
    const out = await sampleDecomposition(sampler, request, opts)
    assert.is(out.decomposition.subtasks.length, 2)
    assert.equal(out.decomposition.subtasks[1]!.dependencies, ['st-1000-1'])
    assert.is(out.info.provider, 'openai')
    assert.is(out.info.model, 'test-model-2026')
    assert.is(out.info.promptVersion, 'decompose-v2')
    assert.equal(out.info.usage, { inputTokens: 321, outputTokens: 123 })
    const body = seen[0]!.body
    assert.is(seen[0]!.headers.authorization, 'Bearer sk-test')
    assert.is(body.model, 'test-model')
    assert.equal(body.messages.map((m: { role: string }) => m.role), ['system', 'user'])
    assert.match(body.messages[1].content, /<task>\nBuild an invoices API\n<\/task>/)
    assert.match(body.messages[1].content, /Use REST/)
    assert.is(body.response_format.type, 'json_schema')
    assert.ok(body.response_format.json_schema.schema.properties.subtasks)
  }))

test('an invalid answer gets exactly one repair round with the errors sent back', () =>
  withServer([completion(JSON.stringify({ ...answer, subtasks: [{ ...answer.subtasks[0], dependencies: ['ghost'] }] })), completion(JSON.stringify(answer))], async (baseURL, seen) => {
    const sampler = createOpenAiSampler({ baseURL, apiKey: 'k', model: 'm', maxRetries: 0 })
    const out = await sampleDecomposition(sampler, request, opts)
    assert.is(out.decomposition.subtasks.length, 2)
    assert.is(seen.length, 2)
    assert.match(seen[1]!.body.messages[1].content, /rejected[\s\S]*ghost/)
  }))

test('still invalid after the repair round → InvalidDecompositionError with the issues', () =>
  withServer([completion('I cannot do that.')], async (baseURL, seen) => {
    const sampler = createOpenAiSampler({ baseURL, apiKey: 'k', model: 'm', maxRetries: 0 })
    try {
      await sampleDecomposition(sampler, request, opts)
      assert.unreachable()
    } catch (err) {
      assert.instance(err, InvalidDecompositionError)
      assert.ok(((err as InvalidDecompositionError).data!.issues as unknown[]).length > 0)
    }
    assert.is(seen.length, 2)
  }))

test('429 then success: retried with backoff; a persistent 500 fails after the retries', async () => {
  await withServer([apiError(429, 'rate_limit_exceeded'), completion(JSON.stringify(answer))], async (baseURL, seen) => {
    const out = await sampleDecomposition(createOpenAiSampler({ baseURL, apiKey: 'k', model: 'm', maxRetries: 2 }), request, opts)
    assert.is(out.decomposition.subtasks.length, 2)
    assert.is(seen.length, 2)
  })
  await withServer([apiError(500, 'server_error')], async (baseURL, seen) => {
    try {
      await sampleDecomposition(createOpenAiSampler({ baseURL, apiKey: 'k', model: 'm', maxRetries: 1 }), request, opts)
      assert.unreachable()
    } catch (err) {
      assert.match(String((err as Error).message), /500/)
    }
    assert.is(seen.length, 2)
  })
})

test('a server that hangs past the timeout: the call is aborted with SamplingTimeoutError', () =>
  withServer([hang], async (baseURL) => {
    const started = Date.now()
    try {
      await sampleDecomposition(createOpenAiSampler({ baseURL, apiKey: 'k', model: 'm', maxRetries: 0 }), request, { ...opts, timeoutMs: 300 })
      assert.unreachable()
    } catch (err) {
      assert.instance(err, SamplingTimeoutError)
    }
    assert.ok(Date.now() - started < 3000)
  }))

test('fallback chain: a failing provider hands over to the next, and the event records who answered', () =>
  withServer([apiError(500, 'server_error')], async (baseURL) => {
    const chain = chainSamplers([createOpenAiSampler({ baseURL, apiKey: 'k', model: 'm', maxRetries: 0 }), heuristicSampler], silentLogger)
    const out = await sampleDecomposition(chain, { ...request, specialists: ['frontend', 'backend', 'testing', 'docs', 'general'] }, opts)
    assert.is(out.info.provider, 'heuristic')
    assert.ok(out.decomposition.subtasks.length > 0)
  }))

test.run()
