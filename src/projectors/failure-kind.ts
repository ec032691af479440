// What a consumer's failed event means, decided from the error alone (pure, so it is unit-tested).
//
//   outage  a store (Redis, Postgres, JetStream) could not be reached or is recovering: the same
//           event will apply once it is back, so it is retried for as long as it takes and never
//           parked (the outage test depends on that);
//   refused the store answered and said no (Postgres: invalid byte sequence, `\u0000` in jsonb, a
//           CHECK; Redis: WRONGTYPE, a script error), or the code threw (a bug): retried a bounded
//           number of times, then parked;
//   never   the event can never be applied (undecodable, an invalid transition): parked at once.
//
// Why look inside StorageError: pgCall and redisCall wrap *every* driver error in StorageError
// ("PostgreSQL unavailable"), refusals included, so the wrapper alone cannot tell an outage from
// poison. The driver's own error (the `cause`) can: Postgres refusals carry an SQLSTATE, Redis
// refusals are ReplyErrors. Anything we cannot place stays an outage: wrongly retrying for ever is
// today's behaviour, wrongly parking during an outage would skip healthy events.
import { PoisonEventError, StorageError } from '../errors.js'
import { InvalidTransitionError } from '../domain/decomposition.js'
import { scrubUserinfo } from '../redact.js'

export type FailureKind = 'outage' | 'refused' | 'never'

/**
 * SQLSTATE classes that mean "not now" rather than "not this": 08 connection exception,
 * 40 rollback (serialization, deadlock), 53 insufficient resources, 55 lock not available,
 * 57 operator intervention (shutdown, cannot connect now), 58 system error.
 */
const transientSqlStateClasses = new Set(['08', '40', '53', '55', '57', '58'])

/** Redis reply prefixes of a server that is busy, loading, read-only or out of memory. */
const transientRedisReplies = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|NOREPLICAS|MISCONF|OOM|NOSCRIPT)\b/

export function classifyFailure(err: unknown): FailureKind {
  if (err instanceof PoisonEventError || err instanceof InvalidTransitionError) return 'never'
  if (err instanceof StorageError) return refusal(err.cause) ? 'refused' : 'outage'
  // Not wrapped, yet a connection failure (a driver called outside pgCall/redisCall): still an outage.
  if (isConnectionError(err)) return 'outage'
  return 'refused'
}

/** The store's own answer refusing this write, as opposed to the store being away. */
function refusal(cause: unknown): boolean {
  if (!(cause instanceof Error)) return false
  const sqlState = sqlStateOf(cause)
  if (sqlState) return !transientSqlStateClasses.has(sqlState.slice(0, 2))
  if (cause.name === 'ReplyError') return !transientRedisReplies.test(cause.message)
  return false
}

function sqlStateOf(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('E') ? code : undefined
}

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)$/.test(code)
}

/**
 * What went wrong, for the parked entry and the log: the driver's message (and SQLSTATE) rather than
 * the wrapper's "PostgreSQL unavailable", which would mislead for a refusal. Userinfo is masked.
 */
export function failureMessage(err: unknown): string {
  const parts: string[] = []
  let e: unknown = err
  for (let depth = 0; e instanceof Error && depth < 4; depth++, e = e.cause) {
    const state = sqlStateOf(e)
    parts.push(state ? `${e.message} (SQLSTATE ${state})` : e.message)
  }
  if (parts.length === 0) parts.push(String(err))
  // A refusal reads best as the store's name and the driver's message.
  const store = err instanceof StorageError ? err.data?.store : undefined
  const text = parts.length > 1 && typeof store === 'string' ? `${store}: ${parts.slice(1).join(': ')}` : parts.join(': ')
  return scrubUserinfo(text).slice(0, 500)
}
