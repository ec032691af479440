// The OpenAI-compatible provider against a local HTTP server speaking the chat-completions wire
// format: real SDK, real HTTP, real retries. No network beyond loopback.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createOpenAiSampler } from '../../src/sampling/openai.js'
import { sampleDecomposition } from '../../src/sampling/sampler.js'
import { chainSamplers } from '../../src/sampling/chain.js'
import { heuristicSampler } from '../../src/sampling/heuristic.js'
import { SamplingTimeoutError, InvalidDecompositionError } from '../../src/errors.js'
import { silentLogger } from '../../src/log.js'

type Reply = (req: { body: any; headers: IncomingMessage['headers'] }, res: ServerResponse) => void
async function withServer(replies: Reply[], fn: (baseURL: string, seen: { body: any; headers: IncomingMessage['headers'] }[]) => Promise<void>) {
  const seen: { body: any; headers: IncomingMessage['headers'] }[] = []
  const server = createServer((req, res) => {
    let data = ''
    req.on('data', (c) => (data += c))
    req.on('end', () => {
      const r = { body: JSON.parse(data || '{}'), headers: req.headers }
      seen.push(r)
      const reply = replies[Math.min(seen.length - 1, replies.length - 1)]!
      reply(r, res)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, seen)
  } finally {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  }
}

const completion = (content: string): Reply => (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(
    JSON.stringify({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1734567890,
      model: 'test-model-2026',
      choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 321, completion_tokens: 123, total_tokens: 444 },
    }),
  )
}
const apiError = (status: number, code: string): Reply => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json', 'retry-after-ms': '10' })
  res.end(JSON.stringify({ error: { message: `${code} happened`, type: code, param: null, code } }))
}

const answer = {
  subtasks: [
    { id: 'a', description: 'Build the API', specialist: 'backend', dependencies: [], complexity: 30, estimatedMinutes: 45, context: { files: ['api/x.ts'] }, rationale: 'core' },
    { id: 'b', description: 'Test the API', specialist: 'testing', dependencies: ['a'], complexity: 10, estimatedMinutes: 20, context: {}, rationale: 'proof' },
  ],
  reasoning: 'API first, then tests',
}
const request = { sessionId: 's', task: 'Build an invoices API', priority: 60, constraints: ['Use REST'], specialists: ['backend', 'testing', 'general'] }
const opts = { timestampMs: 1000, maxSubtasks: 20, timeoutMs: 5000, now: Date.now }

test('request shape: model, system+user messages with the task delimited, JSON schema output, bearer key; fenced answer accepted', () =>
  withServer([completion('Here you go:\n```json\n' + JSON.stringify(answer) + '\n```\nGood luck!')], async (baseURL, seen) => {
    const sampler = createOpenAiSampler({ baseURL, apiKey: 'sk-test', model: 'test-model', maxRetries: 0 })
    const out = await sampleDecomposition(sampler, request, opts)
    assert.is(out.decomposition.subtasks.length, 2)
    assert.equal(out.decomposition.subtasks[1]!.dependencies, ['st-1000-1'])
    assert.is(out.info.provider, 'openai')
    assert.is(out.info.model, 'test-model-2026')
    assert.is(out.info.promptVersion, 'decompose-v1')
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
  withServer([() => undefined], async (baseURL) => {
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
