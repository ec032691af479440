// `decomposer mcp`: the MCP server an MCP client (Claude Code, Claude Desktop, ...) launches over
// stdio. It is the client's door into the service and the service's door back into the client:
//  - tools: each call is one RPC call over NATS, sent with this bridge's session id, so the
//    decomposition it starts is sampled through this very client;
//  - sampling: it attaches its session (`mcp.attach`, renewed while it runs), which names the one
//    subject it listens on (`<samplingSubjectPrefix>.<its user's token>.<sessionId>`), and answers
//    the service's `mcp` sampler there by asking the client with `sampling/createMessage`.
// Only NATS is needed; stdout belongs to the MCP protocol, so logs go to stderr.
import type { NatsConnection, Subscription } from '@nats-io/nats-core'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import Value from 'typebox/value'
import type { Logger } from '../log.js'
import { call } from '../client/rpc-client.js'
import { McpSamplingRequest } from '../sampling/mcp-wire.js'
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
  /** How often to retry attaching while the service is not reachable. */
  retryMs?: number
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

  // The service names the subject on attach; the bridge listens there in a queue group, so two
  // bridges that share a session never both ask their clients. Attaching is renewed well within
  // its lifetime, and retried while the service is away.
  let sub: Subscription | undefined
  let subject: string | undefined
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let attachedOnce = false
  let failures = 0
  const listen = (next: string) => {
    if (next === subject) return
    sub?.unsubscribe()
    subject = next
    sub = nc.subscribe(next, {
      queue: 'decomposer-mcp',
      callback: (err, msg) => {
        if (err) return log.warn('sampling subscription error', { err })
        void answer(msg.string()).then((reply) => msg.respond(JSON.stringify(reply)))
      },
    })
  }
  const attach = async () => {
    if (stopped) return
    let delay = opts.retryMs ?? 2000
    try {
      const reply = await call(nc, opts.rpcPrefix, 'mcp.attach', { sessionId: opts.sessionId }, { sessionId: opts.sessionId, timeoutMs: 5000 })
      const r = reply.result as { samplingSubject?: unknown; ttlMs?: unknown } | undefined
      if (reply.error || typeof r?.samplingSubject !== 'string' || typeof r.ttlMs !== 'number') {
        throw new Error(reply.error ? `${reply.error.code} ${reply.error.message}` : 'unexpected mcp.attach answer')
      }
      listen(r.samplingSubject)
      await nc.flush()
      if (!attachedOnce) log.info('MCP bridge attached', { sessionId: opts.sessionId, samplingSubject: r.samplingSubject })
      attachedOnce = true
      delay = Math.max(500, Math.floor(r.ttlMs / 3))
      failures = 0
    } catch (err) {
      // While the service is away this repeats every retry: say so once, then every 15th try (~30 s).
      if (failures++ % 15 === 0) log.warn('could not attach the session to the service; retrying', { err: err as Error, inMs: delay, failures })
    }
    if (!stopped) timer = setTimeout(() => void attach(), delay)
  }

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
  // Attached before the client's `initialize` is answered, so its first decompose can sample here.
  await attach()
  await server.connect(transport)
  log.info('MCP bridge ready', { sessionId: opts.sessionId, samplingSubject: subject })

  return {
    closed,
    async close() {
      stopped = true
      clearTimeout(timer)
      sub?.unsubscribe()
      // Tell the service at once, so it stops sending this session's sampling here.
      await call(nc, opts.rpcPrefix, 'mcp.detach', { sessionId: opts.sessionId }, { sessionId: opts.sessionId, timeoutMs: 2000 }).catch(() => undefined)
      await server.close()
      resolveClosed()
    },
  }
}
