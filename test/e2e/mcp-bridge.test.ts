// The MCP bridge end to end: `decomposer mcp` runs as a real stdio child, the SDK's real Client
// connects with a sampling handler, and a `task.decompose` tool call comes back to that handler as
// a sampling request whose answer becomes the persisted decomposition. Real NATS, Redis, Postgres.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js'
import type { CreateMessageRequest, CreateMessageResult } from '@modelcontextprotocol/sdk/types.js'
import { call } from '../../src/client/rpc-client.js'
import { readAllEvents, startTestService } from '../helpers/env.js'
import type { TestService } from '../helpers/env.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

const answer = {
  subtasks: [
    { id: 'ui', description: 'Build the MCP-sampled toggle component', specialist: 'frontend', dependencies: [], complexity: 40, estimatedMinutes: 60, context: { files: ['src/Toggle.tsx'] }, rationale: 'the visible part' },
    { id: 'qa', description: 'Test the MCP-sampled toggle', specialist: 'testing', dependencies: ['ui'], complexity: 15, estimatedMinutes: 30, context: {}, rationale: 'proof it works' },
  ],
  reasoning: 'component first, tests after',
}

interface Harness {
  client: Client
  seen: CreateMessageRequest['params'][]
  /** Answers the sampling handler gives, in order (the last one repeats). */
  answers: string[]
  stderr: string[]
  close(): Promise<void>
}

async function launchBridge(svc: TestService, sessionId: string, opts: { sampling: boolean }): Promise<Harness> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['bin/decomposer.js', 'mcp', '--session', sessionId],
    cwd: root,
    env: { ...(process.env as Record<string, string>), NATS_URL: svc.config.natsUrl, RPC_PREFIX: svc.config.rpcPrefix, LOG_LEVEL: 'info' },
    stderr: 'pipe',
  })
  const stderr: string[] = []
  transport.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()))
  const client = new Client({ name: 'decomposer-test-client', version: '1.0.0' }, { capabilities: opts.sampling ? { sampling: {} } : {} })
  const h: Harness = { client, seen: [], answers: [], stderr, close: () => client.close() }
  if (opts.sampling) {
    client.setRequestHandler(CreateMessageRequestSchema, async (request): Promise<CreateMessageResult> => {
      h.seen.push(request.params)
      const text = h.answers[Math.min(h.seen.length - 1, h.answers.length - 1)] ?? ''
      return { role: 'assistant', content: { type: 'text', text }, model: 'claude-test-model', stopReason: 'endTurn' }
    })
  }
  await client.connect(transport)
  // The bridge subscribes to its sampling subject before it answers `initialize`; flush nothing more.
  return h
}

function toolJson(result: Awaited<ReturnType<Client['callTool']>>): any {
  const content = result.content as { type: string; text: string }[]
  assert.is(result.isError, undefined, content[0]?.text)
  return JSON.parse(content[0]!.text)
}

test('a task.decompose tool call is sampled through the calling MCP client and persisted', async () => {
  await using svc = await startTestService('mcp', { samplers: ['mcp', 'heuristic'] })
  // A registered specialist: its capabilities must reach the prompt the client is asked to answer.
  const reg = await call(svc.client, svc.config.rpcPrefix, 'system.register', {
    id: 'fe-agent-1',
    roles: ['frontend', 'testing'],
    metadata: { capabilities: ['React hooks', 'Context API'], capacity: 2 },
  })
  assert.is(reg.error, undefined)
  const h = await launchBridge(svc, 'sess-mcp-e2e', { sampling: true })
  try {
    h.answers.push('Here is the plan:\n```json\n' + JSON.stringify(answer) + '\n```')
    const listed = await h.client.listTools()
    assert.ok(listed.tools.some((t) => t.name === 'task.decompose' && (t.inputSchema.properties as object)['task' as never]))

    const created = toolJson(await h.client.callTool({ name: 'task.create', arguments: { taskId: 't-mcp-1', title: 'Dark mode' } }))
    assert.is(created.taskId, 't-mcp-1')
    const result = toolJson(
      await h.client.callTool({ name: 'task.decompose', arguments: { taskId: 't-mcp-1', task: 'Add a dark mode toggle', constraints: ['Use React hooks'] } }),
    )

    // The sampling request arrived at this client, carrying the versioned prompt and the registry.
    assert.is(h.seen.length, 1)
    const req = h.seen[0]!
    assert.match(req.systemPrompt ?? '', /JSON schema/)
    const prompt = (req.messages[0]!.content as { text: string }).text
    assert.match(prompt, /<task>\nAdd a dark mode toggle\n<\/task>/)
    assert.match(prompt, /- frontend \(capabilities: Context API, React hooks; 1 healthy instance; 0 queued; spare capacity 2\)/)
    assert.is((req.metadata as { promptVersion?: string }).promptVersion, 'decompose-v2')

    // Its answer is the decomposition: replied, persisted, and recorded with its provenance.
    assert.equal(result.decomposition.subtasks.map((s: { description: string }) => s.description), answer.subtasks.map((s) => s.description))
    assert.match(result.attachmentKey, /^decomposition_\d+$/)
    const stored = toolJson(await h.client.callTool({ name: 'task.get_decomposition', arguments: { taskId: 't-mcp-1' } }))
    assert.equal(stored.decomposition, result.decomposition)
    const attachment = toolJson(await h.client.callTool({ name: 'task.get_attachment', arguments: { taskId: 't-mcp-1', key: result.attachmentKey } }))
    assert.equal(attachment.value.subtasks.map((s: { id: string }) => s.id), result.decomposition.subtasks.map((s: { id: string }) => s.id))
    const sampled = (await readAllEvents(svc.config, 'decomposition')).find((e) => e.event.type === 'DecompositionSampled')
    assert.ok(sampled)
    if (sampled.event.type !== 'DecompositionSampled') throw new Error('unreachable')
    assert.is(sampled.event.sampler?.provider, 'mcp')
    assert.is(sampled.event.sampler?.model, 'claude-test-model')

    // Bad tool input is a tool error naming the field, and the bridge keeps serving.
    const bad = await h.client.callTool({ name: 'task.decompose', arguments: { taskId: 't-mcp-1', task: 'x', priority: 500 } })
    assert.is(bad.isError, true)
    assert.match((bad.content as { text: string }[])[0]!.text, /-32602[\s\S]*priority/)
  } finally {
    await h.close()
  }
})

test('an invalid sampled answer gets one repair round through the same client', async () => {
  await using svc = await startTestService('mcprepair', { samplers: ['mcp', 'heuristic'] })
  const h = await launchBridge(svc, 'sess-mcp-repair', { sampling: true })
  try {
    h.answers.push(JSON.stringify({ ...answer, subtasks: [{ ...answer.subtasks[0], dependencies: ['ghost'] }] }), JSON.stringify(answer))
    toolJson(await h.client.callTool({ name: 'task.create', arguments: { taskId: 't-mcp-2', title: 'x' } }))
    const result = toolJson(await h.client.callTool({ name: 'task.decompose', arguments: { taskId: 't-mcp-2', task: 'Add a toggle' } }))
    assert.is(h.seen.length, 2)
    assert.match((h.seen[1]!.messages[0]!.content as { text: string }).text, /rejected[\s\S]*ghost/)
    assert.is(result.decomposition.subtasks.length, 2)
  } finally {
    await h.close()
  }
})

test('no bridge for the session, or a client without sampling: the next provider answers', async () => {
  await using svc = await startTestService('mcpfall', { samplers: ['mcp', 'heuristic'] })
  const rpc = (method: string, params: unknown) => call(svc.client, svc.config.rpcPrefix, method, params, { timeoutMs: 15_000 })
  assert.is((await rpc('task.create', { taskId: 't-nobody', title: 'x' })).error, undefined)
  const started = Date.now()
  const noBridge = await rpc('task.decompose', { taskId: 't-nobody', task: 'Add a settings page', sessionId: 'nobody-listens' })
  assert.is(noBridge.error, undefined)
  // NATS no-responders is immediate: no waiting for the 300 s sampling timeout.
  assert.ok(Date.now() - started < 5000, `fallback took ${Date.now() - started} ms`)

  const h = await launchBridge(svc, 'sess-no-sampling', { sampling: false })
  try {
    const result = toolJson(await h.client.callTool({ name: 'task.decompose', arguments: { taskId: 't-nobody', task: 'Add a settings page' } }))
    assert.ok(result.decomposition.subtasks.length > 0)
  } finally {
    await h.close()
  }
  const providers = (await readAllEvents(svc.config, 'decomposition')).flatMap((e) => (e.event.type === 'DecompositionSampled' ? [e.event.sampler?.provider] : []))
  assert.equal(providers, ['heuristic', 'heuristic'])
})

test.run()
