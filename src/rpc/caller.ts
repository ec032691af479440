// Who is calling. With NATS authentication on, clients reach the service through an account import
// with `share: true`, and nats-server stamps every request with a `Nats-Request-Info` header naming
// the authenticated user: a client cannot forge it (the server overwrites whatever it sent). That
// user is the caller for rate limits, idempotency scopes, registrations and MCP sampling. Headers
// (`Client-Id`, `Session-Id`) may narrow an authenticated caller into sub-scopes, never widen it.
// Without authentication (local development) the headers are all there is, and they are trusted.
import { createHash } from 'node:crypto'
import { openSamplingOwner } from '../sampling/mcp-wire.js'

/** The authenticated NATS user behind a request, from the server-set `Nats-Request-Info` header. */
export interface AuthenticatedUser {
  user: string
  account: string
}

export interface Caller {
  /** Stable id of the caller: `u:<user>` when authenticated, `c:<Client-Id>`, `s:<session>`, or `anonymous`. */
  id: string
  authenticated: boolean
  /** Whom the rate limit counts: the user when authenticated (a rotated Client-Id changes nothing). */
  rateKey: string
  /** Scope of idempotency keys, or undefined for a caller with no identity at all. */
  idempotencyScope: string | undefined
  /** Owner of what the caller registers (specialist instances, MCP sessions). */
  owner: string
  /** Subject token of the caller's MCP bridges: `<samplingPrefix>.<samplingOwner>.<session>`. */
  samplingOwner: string
}

// Defined with the sampling wire contract (sampling must not import rpc); re-exported for callers here.
export { openSamplingOwner } from '../sampling/mcp-wire.js'

const tokenSafe = /^[A-Za-z0-9_-]{1,64}$/

/**
 * Parses the `Nats-Request-Info` header. nats-server adds it (and overwrites a client's) when a
 * request crosses a service import with `share: true`; it carries the account and, for users with
 * a name or nkey, `user`. Returns undefined for anything that does not name a user.
 */
export function parseRequestInfo(header: string | undefined): AuthenticatedUser | undefined {
  if (!header || header.length > 8192) return undefined
  let info: unknown
  try {
    info = JSON.parse(header)
  } catch {
    return undefined
  }
  if (typeof info !== 'object' || info === null) return undefined
  const { user, name, acc } = info as { user?: unknown; name?: unknown; acc?: unknown }
  const account = typeof acc === 'string' ? acc : ''
  const who = typeof user === 'string' && user !== '' ? user : typeof name === 'string' && name !== '' ? `${account}/${name}` : ''
  if (!who || !account) return undefined
  return { user: who, account }
}

/** A NATS user name as one subject token: as it is when safe, else a stable hash. */
export function samplingOwnerOf(user: string): string {
  return tokenSafe.test(user) ? user : `u-${createHash('sha256').update(user).digest('hex').slice(0, 32)}`
}

export interface CallerSources {
  user?: AuthenticatedUser | undefined
  clientId?: string | undefined
  /** The session the request names explicitly (param or `Session-Id` header), not a fallback. */
  explicitSessionId?: string | undefined
}

export function callerOf(s: CallerSources): Caller {
  if (s.user) {
    const id = `u:${s.user.user}`
    return {
      id,
      authenticated: true,
      rateKey: id,
      idempotencyScope: s.clientId ? `${id}/c:${s.clientId}` : id,
      owner: id,
      samplingOwner: samplingOwnerOf(s.user.user),
    }
  }
  const id = s.clientId ? `c:${s.clientId}` : s.explicitSessionId ? `s:${s.explicitSessionId}` : 'anonymous'
  return {
    id,
    authenticated: false,
    rateKey: id,
    idempotencyScope: id === 'anonymous' ? undefined : id,
    owner: id,
    samplingOwner: openSamplingOwner,
  }
}
