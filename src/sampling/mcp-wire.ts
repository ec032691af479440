// The wire contract between the service's `mcp` sampler and the `decomposer mcp` bridge of a session:
// a NATS request on `<samplingSubjectPrefix>.<sessionId>`, JSON both ways, versioned so either side
// can refuse a shape it does not know instead of guessing.
import Type from 'typebox'

export const samplingWireVersion = 1

export const McpSamplingRequest = Type.Object({
  version: Type.Literal(samplingWireVersion),
  sessionId: Type.String(),
  promptVersion: Type.String(),
  systemPrompt: Type.String(),
  userPrompt: Type.String(),
  maxTokens: Type.Integer({ minimum: 1 }),
  /** How long the service will wait; the bridge aborts its client call at this point. */
  timeoutMs: Type.Integer({ minimum: 1 }),
})
export type McpSamplingRequest = Type.Static<typeof McpSamplingRequest>

export const McpSamplingReply = Type.Union([
  Type.Object({ ok: Type.Literal(true), text: Type.String(), model: Type.String(), stopReason: Type.Optional(Type.String()) }),
  Type.Object({
    ok: Type.Literal(false),
    /** `unavailable`: this bridge cannot sample (client lacks the capability); try the next provider. */
    reason: Type.Union([Type.Literal('unavailable'), Type.Literal('failed')]),
    message: Type.String(),
  }),
])
export type McpSamplingReply = Type.Static<typeof McpSamplingReply>

/** Sampling owner of callers that are not authenticated (development, or the service's own account). */
export const openSamplingOwner = '_'

/** Session ids become one subject token: no dots, wildcards or whitespace. */
export const sessionTokenPattern = /^[A-Za-z0-9_:-]{1,128}$/

/**
 * Sampling requests of `owner` (the caller's subject token, see rpc/caller.ts) for one of its
 * sessions. The owner token lets NATS permissions give each bridge user `<prefix>.<its user>.>`
 * and nothing else: a bridge never receives another user's prompts.
 */
export function samplingSubject(prefix: string, owner: string, sessionId: string): string {
  return `${prefix}.${owner}.${sessionId}`
}
