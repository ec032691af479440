// `decomposer mcp`: the MCP server an MCP client (Claude Code, Claude Desktop, ...) launches over
// stdio. It is the client's door into the service and the service's door back into the client:
//  - tools: each call is one RPC call over NATS, sent with this bridge's session id, so the
//    decomposition it starts is sampled through this very client;
//  - sampling: it answers `<samplingSubjectPrefix>.<sessionId>` requests from the service's `mcp`
//    sampler by asking the client with `sampling/createMessage`.
// Only NATS is needed; stdout belongs to the MCP protocol, so logs go to stderr.
import type { NatsConnection, Subscription } from '@nats-io/nats-core'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import Value from 'typebox/value'
import type { Logger } from '../log.js'
import { call } from '../cli/rpc-client.js'
import { McpSamplingRequest, samplingSubject } from '../sampling/mcp-wire.js'
import type { McpSamplingReply } from '../sampling/mcp-wire.js'
import { tools } from './tools.js'

export interface BridgeOptions {
  nc: NatsConnection
  rpcPrefix: string
  samplingSubjectPrefix: string
  sessionId: string
  /** How long a tool call waits for the service (a decomposition includes sampling). */
  rpcTimeoutMs: number
  version: string
  log: Logger
}

export interface Bridge {
  /** Resolves when the MCP client goes away (or close() is called). */
  closed: Promise<void>
  close(): Promise<void>
}

export async function startMcpBridge(opts: BridgeOptions, transport: Transport): Promise<Bridge> {
  const { nc, log } = opts
  const server = new Server(
    { name: 'decomposer', version: opts.version },
    {
      capabilities: { tools: {} },
      instructions:
        'Decomposes software tasks into dependency graphs of subtasks for specialist agents. Create a task with ' +
        'task.create, then call task.decompose; sampling requests for the plan come back through this session.',
    },
  )

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [...tools] }))
  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const tool = tools.find((t) => t.name === request.params.name)
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`)
    const reply = await call(nc, opts.rpcPrefix, tool.name, request.params.arguments ?? {}, {
      sessionId: opts.sessionId,
      timeoutMs: opts.rpcTimeoutMs,
    })
    if (reply.error) {
      const data = reply.error.data === undefined ? '' : `\n${JSON.stringify(reply.error.data, null, 2)}`
      return { isError: true, content: [{ type: 'text', text: `Error ${reply.error.code}: ${reply.error.message}${data}` }] }
    }
    const result = reply.result
    return {
      content: [{ type: 'text', text: JSON.stringify(result, null, 2) }],
      ...(result && typeof result === 'object' && !Array.isArray(result) ? { structuredContent: result as Record<string, unknown> } : {}),
    }
  })

  // A queue group, so two bridges that share a session never both ask their clients.
  const subject = samplingSubject(opts.samplingSubjectPrefix, opts.sessionId)
  const sub: Subscription = nc.subscribe(subject, {
    queue: 'decomposer-mcp',
    callback: (err, msg) => {
      if (err) return log.warn('sampling subscription error', { err })
      void answer(msg.string()).then((reply) => msg.respond(JSON.stringify(reply)))
    },
  })

  async function answer(text: string): Promise<McpSamplingReply> {
    let request: unknown
    try {
      request = JSON.parse(text)
    } catch {
      return { ok: false, reason: 'failed', message: 'sampling request is not JSON' }
    }
    if (!Value.Check(McpSamplingRequest, request)) return { ok: false, reason: 'failed', message: 'sampling request in an unknown shape' }
    if (!server.getClientCapabilities()?.sampling) {
      return { ok: false, reason: 'unavailable', message: 'the MCP client of this session does not offer sampling' }
    }
    const started = Date.now()
    try {
      const result = await server.createMessage(
        {
          systemPrompt: request.systemPrompt,
          messages: [{ role: 'user', content: { type: 'text', text: request.userPrompt } }],
          maxTokens: request.maxTokens,
          includeContext: 'none',
          modelPreferences: { intelligencePriority: 0.8, speedPriority: 0.3 },
          metadata: { promptVersion: request.promptVersion },
        },
        // The SDK's default request timeout is 60 s; a careful model may take longer.
        { timeout: request.timeoutMs, signal: AbortSignal.timeout(request.timeoutMs) },
      )
      const blocks = Array.isArray(result.content) ? result.content : [result.content]
      const answerText = blocks.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('')
      log.info('sampled through the MCP client', { model: result.model, ms: Date.now() - started })
      return { ok: true, text: answerText, model: result.model, ...(result.stopReason ? { stopReason: result.stopReason } : {}) }
    } catch (err) {
      log.warn('MCP sampling failed', { err: err as Error })
      return { ok: false, reason: 'failed', message: (err as Error).message ?? String(err) }
    }
  }

  let resolveClosed!: () => void
  const closed = new Promise<void>((r) => (resolveClosed = r))
  server.onclose = () => resolveClosed()
  await server.connect(transport)
  log.info('MCP bridge ready', { sessionId: opts.sessionId, samplingSubject: subject })

  return {
    closed,
    async close() {
      sub.unsubscribe()
      await server.close()
      resolveClosed()
    },
  }
}
