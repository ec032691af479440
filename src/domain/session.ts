// Session id resolution, in the spec's order: explicit param, Session-Id header (context metadata),
// Client-Id header, then this instance's id.
import { NoSessionError } from '../errors.js'

export interface SessionSources {
  paramSessionId?: string | undefined
  headerSessionId?: string | undefined
  clientId?: string | undefined
  instanceId?: string | undefined
}

export function resolveSessionId(s: SessionSources): string {
  for (const candidate of [s.paramSessionId, s.headerSessionId, s.clientId, s.instanceId]) {
    const v = candidate?.trim()
    if (v) return v
  }
  throw new NoSessionError('No session ID available for sampling')
}
