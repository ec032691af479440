// NATS connection: the server list, the login, and one clear failure. nats.js v3 ignores
// `user:pass@` in a server URL, so credentials written there are lifted into options here; the
// URLs handed to nats.js (and printed in any message) never carry them.
import { readFileSync } from 'node:fs'
import { connect } from '@nats-io/transport-node'
import { AuthorizationError, credsAuthenticator, nkeyAuthenticator, nkeys } from '@nats-io/nats-core'
import type { ConnectionOptions, NatsConnection } from '@nats-io/nats-core'
import { ConfigError, parseNatsUrl } from '../config.js'
import type { Config } from '../config.js'
import { StorageError } from '../errors.js'
import { redactSecrets, redactUrl, urlSecrets } from '../redact.js'

export type NatsSettings = Pick<Config, 'natsUrl' | 'natsUser' | 'natsPassword' | 'natsToken' | 'natsCreds' | 'natsNkey'>

export interface NatsConnectOpts {
  /** Connection name, shown by `nats server report connections`. */
  name: string
  /** Inbox prefix; undefined keeps nats.js's `_INBOX`. */
  inboxPrefix?: string | undefined
}

/** nats.js options for `settings`. Reads NATS_CREDS / an NATS_NKEY file now, so a bad path fails early. */
export function natsConnectOptions(settings: NatsSettings, opts: NatsConnectOpts): ConnectionOptions {
  const { servers, credentials } = parseNatsUrl(settings.natsUrl)
  const options: ConnectionOptions = {
    servers,
    name: opts.name,
    // Outages end: reconnect forever, quickly.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // nats.js otherwise builds an Error per request (every JetStream append) just in case it times
    // out; that was 7 % of the service's CPU under load.
    noAsyncTraces: true,
  }
  if (opts.inboxPrefix !== undefined) options.inboxPrefix = opts.inboxPrefix
  if (settings.natsUser !== undefined) {
    options.user = settings.natsUser
    options.pass = settings.natsPassword ?? ''
  } else if (settings.natsToken !== undefined) {
    options.token = settings.natsToken
  } else if (settings.natsCreds !== undefined) {
    options.authenticator = credsAuthenticator(credsSource(settings.natsCreds))
  } else if (settings.natsNkey !== undefined) {
    options.authenticator = nkeyAuthenticator(nkeySeedSource(settings.natsNkey))
  } else if (credentials && 'token' in credentials) {
    options.token = credentials.token
  } else if (credentials) {
    options.user = credentials.user
    options.pass = credentials.pass
  }
  return options
}

/** How the connection logs in, for messages: never the secret itself. */
export function natsLoginDescription(settings: NatsSettings): string | undefined {
  if (settings.natsUser !== undefined) return `user "${settings.natsUser}"`
  if (settings.natsToken !== undefined) return 'NATS_TOKEN'
  if (settings.natsCreds !== undefined) return `creds file ${settings.natsCreds}`
  if (settings.natsNkey !== undefined) return isSeed(settings.natsNkey) ? 'NATS_NKEY seed' : `nkey seed file ${settings.natsNkey}`
  const { credentials } = parseNatsUrl(settings.natsUrl)
  if (!credentials) return undefined
  return 'token' in credentials ? 'the token in NATS_URL' : `user "${credentials.user}" (from NATS_URL)`
}

/**
 * Connects, or fails with one StorageError naming the (redacted) servers and what went wrong:
 * unreachable, or the login refused. A bad NATS_CREDS / NATS_NKEY is a ConfigError (no retry helps).
 */
export async function connectNats(config: NatsSettings, opts: NatsConnectOpts): Promise<NatsConnection> {
  const options = natsConnectOptions(config, opts)
  const where = redactUrl((options.servers as string[]).join(','))
  try {
    return await connect(options)
  } catch (err) {
    const secrets = [config.natsPassword, config.natsToken, config.natsNkey, ...urlSecrets(config.natsUrl)]
    const reason = redactSecrets(describe(err), secrets)
    if (err instanceof AuthorizationError || /authorization|authentication/i.test(reason)) {
      const as = natsLoginDescription(config)
      throw new StorageError(`NATS refused the login at ${where}${as ? ` as ${as}` : ' (no credentials configured)'} (${reason})`, { store: 'nats', reason: 'authorization' }, { cause: err })
    }
    throw new StorageError(`NATS is not reachable at ${where} (${reason})`, { store: 'nats' }, { cause: err })
  }
}

/** An error's message with its cause's, which is where nats.js puts the socket error. */
function describe(err: unknown): string {
  const e = err as Error
  const cause = e.cause instanceof Error && e.cause.message && !e.message.includes(e.cause.message) ? `: ${e.cause.message}` : ''
  return `${e.message || String(err)}${cause}`
}

const seedPattern = /^SU[A-Z2-7]{50,}$/

function isSeed(value: string): boolean {
  return seedPattern.test(value.trim())
}

/**
 * Reads a credential file now (so a wrong path is a start-up error) and again at every reconnect,
 * so a rotated file is picked up without a restart; a failed re-read keeps the last good copy.
 */
function fileSource(path: string, variable: string, check: (content: Uint8Array) => void): () => Uint8Array {
  const read = () => new Uint8Array(readFileSync(path))
  let last: Uint8Array
  try {
    last = read()
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${variable} file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  check(last)
  return () => {
    try {
      const next = read()
      check(next)
      last = next
    } catch {
      // keep the last good copy: a half-written file mid-rotation must not break the reconnect
    }
    return last
  }
}

function credsSource(path: string): () => Uint8Array {
  return fileSource(path, 'NATS_CREDS', (content) => {
    try {
      // Parsing and signing a dummy nonce is the check nats.js itself will do at connect time.
      credsAuthenticator(content)('check')
    } catch {
      throw new ConfigError(`invalid configuration: NATS_CREDS file ${path} is not a creds file (user JWT and nkey seed)`)
    }
  })
}

/** NATS_NKEY: a user seed itself, or the path of a file holding one (alone, or among other lines). */
function nkeySeedSource(value: string): () => Uint8Array {
  if (isSeed(value)) {
    const seed = userSeed(value.trim(), 'NATS_NKEY is not a valid nkey user seed')
    return () => seed
  }
  if (/^S[A-Z2-7]{50,}$/.test(value.trim())) {
    // A seed, but not a user's (an account or operator seed): never print it.
    throw new ConfigError('invalid configuration: NATS_NKEY is an nkey seed but not a user seed (SU...)')
  }
  const path = value
  const source = fileSource(path, 'NATS_NKEY', (content) => {
    userSeed(seedIn(content), `NATS_NKEY file ${path} holds no nkey user seed (SU...)`)
  })
  return () => new TextEncoder().encode(seedIn(source()))
}

function seedIn(content: Uint8Array): string {
  return /SU[A-Z2-7]{50,}/.exec(new TextDecoder().decode(content))?.[0] ?? ''
}

function userSeed(seed: string, problem: string): Uint8Array {
  const bytes = new TextEncoder().encode(seed)
  try {
    if (nkeys.fromSeed(bytes).getPublicKey().startsWith('U')) return bytes
  } catch {
    // fall through to the ConfigError: the library's message may quote the seed
  }
  throw new ConfigError(`invalid configuration: ${problem}`)
}
