// The spec's session-aware sampling: the request goes over NATS to the MCP bridge of the request's
// session (`decomposer mcp`, launched by the user's MCP client), which asks its client to sample
// with `sampling/createMessage`. A session without a bridge answers at once with NATS no-responders,
// and the chain moves on to the next provider.
import type { NatsConnection } from '@nats-io/nats-core'
import { NoRespondersError, RequestError } from '@nats-io/nats-core'
import Value from 'typebox/value'
import { InternalError, SamplerUnavailableError } from '../errors.js'
import type { Sampler } from './sampler.js'
import { parseAnswer, promptVersion, systemPrompt, userPrompt } from './prompt.js'
import { McpSamplingReply, openSamplingOwner, samplingSubject, samplingWireVersion, sessionTokenPattern } from './mcp-wire.js'
import type { McpSamplingRequest } from './mcp-wire.js'

export interface McpSamplerOptions {
  nc: NatsConnection
  subjectPrefix: string
  /** The sampling timeout: how long to wait for the bridge (and how long the bridge may take). */
  timeoutMs: number
  maxTokens?: number
  /** Whether a bridge of `owner` has attached `sessionId` (mcp.attach) and still heartbeats. */
  attached(owner: string, sessionId: string): Promise<boolean>
}

export function createMcpSampler(opts: McpSamplerOptions): Sampler {
  return {
    name: 'mcp',
    repairable: true,
    usesProfiles: true,
    async sample(request, signal) {
      if (!sessionTokenPattern.test(request.sessionId)) {
        throw new SamplerUnavailableError(`Session id "${request.sessionId}" cannot address an MCP bridge (use A-Z a-z 0-9 _ : -)`)
      }
      const owner = request.samplingOwner ?? openSamplingOwner
      if (!(await opts.attached(owner, request.sessionId))) {
        throw new SamplerUnavailableError(`No MCP bridge has attached session ${request.sessionId}`)
      }
      const body: McpSamplingRequest = {
        version: samplingWireVersion,
        sessionId: request.sessionId,
        promptVersion,
        systemPrompt: systemPrompt(),
        userPrompt: userPrompt(request),
        maxTokens: opts.maxTokens ?? 8192,
        timeoutMs: opts.timeoutMs,
      }
      signal.throwIfAborted()
      let text: string
      try {
        const reply = await opts.nc.request(samplingSubject(opts.subjectPrefix, owner, request.sessionId), JSON.stringify(body), { timeout: opts.timeoutMs })
        text = reply.string()
      } catch (err) {
        if (isNoResponders(err)) throw new SamplerUnavailableError(`No MCP bridge is connected for session ${request.sessionId}`)
        throw err
      }
      let reply: unknown
      try {
        reply = JSON.parse(text)
      } catch {
        throw new InternalError('The MCP bridge answered with something that is not JSON')
      }
      if (!Value.Check(McpSamplingReply, reply)) throw new InternalError('The MCP bridge answered in an unknown shape')
      if (!reply.ok) {
        const message = `MCP sampling for session ${request.sessionId}: ${reply.message}`
        throw reply.reason === 'unavailable' ? new SamplerUnavailableError(message) : new InternalError(message)
      }
      return { output: parseAnswer(reply.text), model: reply.model, promptVersion }
    },
  }
}

function isNoResponders(err: unknown): boolean {
  if (err instanceof NoRespondersError) return true
  return err instanceof RequestError && err.isNoResponders()
}
