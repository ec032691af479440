// Configuration is a schema: read from the environment once, defaulted, validated and frozen.
// Nothing else in the code base reads process.env.
import { hostname } from 'node:os'
import Type from 'typebox'
import Value from 'typebox/value'
import { fieldName } from './errors.js'
import { isTokenUserinfo, safeDecode, splitUserinfo, urlSecrets } from './redact.js'

const Role = Type.Union([
  Type.Literal('rpc'),
  Type.Literal('sampler'),
  Type.Literal('projectors'),
  Type.Literal('release'),
])
export type Role = Type.Static<typeof Role>
export const allRoles: readonly Role[] = ['rpc', 'sampler', 'projectors', 'release']

const Token = (defaultValue: string) => Type.String({ pattern: '^[A-Za-z0-9_-]+$', default: defaultValue })

const Secret = Type.Optional(Type.String({ minLength: 1 }))

export const Config = Type.Object({
  /** One server or a comma-separated list (a cluster); each may carry `user:pass@` or `token@`. */
  natsUrl: Type.String({ minLength: 1, default: 'nats://127.0.0.1:4222' }),
  natsUser: Secret,
  natsPassword: Secret,
  natsToken: Secret,
  /** Path to a `.creds` file (user JWT and nkey seed), as `nsc` writes them. */
  natsCreds: Secret,
  /** An nkey user seed (`SU...`) or the path of a file holding one. */
  natsNkey: Secret,
  /** Inbox prefix of this process's connection; a user whose permissions allow only `_INBOX_<user>.>` sets it. */
  natsInboxPrefix: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
  /** First subject tokens a request's reply subject may have (`_INBOX` also allows `_INBOX_<x>`). */
  replySubjectPrefixes: Type.Array(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), { minItems: 1, default: ['_INBOX', '_R_'] }),
  /**
   * Where a caller's identity comes from: `nats` the server-set Nats-Request-Info header only,
   * `headers` the client's Client-Id/Session-Id headers, `auto` the former when present, else the latter.
   */
  callerIdentity: Type.Union([Type.Literal('auto'), Type.Literal('nats'), Type.Literal('headers')], { default: 'auto' }),
  redisUrl: Type.String({ default: 'redis://127.0.0.1:6379' }),
  databaseUrl: Type.String({ default: 'postgres://postgres@127.0.0.1:5432/decomposer' }),
  /** JetStream stream holding every event. Its subjects are `cb.ev.<stream>.>` so streams never overlap. */
  streamName: Token('CB_EVENTS'),
  /** Subject prefix of the RPC endpoints: `<rpcPrefix>.task.decompose` and the generic `<rpcPrefix>`. */
  rpcPrefix: Type.String({ pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$', default: 'rpc' }),
  /** Prefix for republished events; empty means the contract subjects `task.decomposed` etc. */
  publishPrefix: Type.String({ pattern: '^([A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*)?$', default: '' }),
  /** Every Redis key starts with this (bullmq style): `cb:` gives the contract keys. */
  redisPrefix: Type.String({ minLength: 1, default: 'cb:' }),
  pgSchema: Type.String({ pattern: '^[a-z_][a-z0-9_]*$', default: 'public' }),
  serviceName: Token('decomposer'),
  instanceId: Type.String({ minLength: 1, default: `decomposer-${hostname()}-${process.pid}` }),
  roles: Type.Array(Role, { minItems: 1, default: [...allRoles] }),
  /** Ordered sampler fallback chain. */
  samplers: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, default: ['heuristic'] }),
  samplingTimeoutMs: Type.Integer({ minimum: 1, default: 300_000 }),
  /** How long an RPC call waits for its decomposition to be persisted before answering -32001. */
  replyTimeoutMs: Type.Integer({ minimum: 1, default: 330_000 }),
  decompositionTtlSeconds: Type.Integer({ minimum: 1, default: 604_800 }),
  maxSubtasks: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  /** Decompositions admitted per client per sliding minute, shared by all instances; 0 turns it off. */
  rateLimitPerMinute: Type.Integer({ minimum: 0, default: 10 }),
  /** Consecutive sampling failures that open the circuit breaker. */
  breakerThreshold: Type.Integer({ minimum: 1, default: 3 }),
  /** How long the breaker stays open before one trial call (half-open). */
  breakerResetMs: Type.Integer({ minimum: 1, default: 60_000 }),
  /**
   * How long a consumer's delivered event stays with an instance before JetStream gives it to
   * another: the time to take over from a crashed instance. Long steps (sampling) report progress.
   */
  ackWaitMs: Type.Integer({ minimum: 1000, default: 30_000 }),
  /** Deliveries after which an event a consumer keeps failing to apply (not a store outage) is parked. */
  parkAfterAttempts: Type.Integer({ minimum: 1, default: 5 }),
  /**
   * On SIGTERM: how long requests and steps in flight may still finish; requests still running
   * then are answered with a retryable error, unfinished steps are taken over by other instances.
   */
  shutdownGraceMs: Type.Integer({ minimum: 0, default: 10_000 }),
  /** Specialist instances expire this long after their last heartbeat. */
  instanceTtlMs: Type.Integer({ minimum: 1000, default: 30_000 }),
  openaiBaseUrl: Type.Optional(Type.String({ minLength: 1 })),
  openaiApiKey: Type.Optional(Type.String({ minLength: 1 })),
  openaiModel: Type.String({ minLength: 1, default: 'gpt-4o-mini' }),
  anthropicBaseUrl: Type.Optional(Type.String({ minLength: 1 })),
  anthropicApiKey: Type.Optional(Type.String({ minLength: 1 })),
  anthropicModel: Type.String({ minLength: 1, default: 'claude-sonnet-4-5' }),
  /** NATS subject prefix of MCP sampling requests: `<prefix>.<sessionId>` reaches that session's bridge. */
  samplingSubjectPrefix: Type.String({ pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$', default: 'cb.sampling' }),
  logLevel: Type.Union(
    [Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error'), Type.Literal('silent')],
    { default: 'info' },
  ),
})
export type Config = Readonly<Type.Static<typeof Config>>
export type CallerIdentity = Config['callerIdentity']

const envNames: Record<keyof Config, string> = {
  natsUrl: 'NATS_URL',
  natsUser: 'NATS_USER',
  natsPassword: 'NATS_PASSWORD',
  natsToken: 'NATS_TOKEN',
  natsCreds: 'NATS_CREDS',
  natsNkey: 'NATS_NKEY',
  natsInboxPrefix: 'NATS_INBOX_PREFIX',
  replySubjectPrefixes: 'REPLY_SUBJECT_PREFIXES',
  callerIdentity: 'CALLER_IDENTITY',
  redisUrl: 'REDIS_URL',
  databaseUrl: 'DATABASE_URL',
  streamName: 'STREAM_NAME',
  rpcPrefix: 'RPC_PREFIX',
  publishPrefix: 'PUBLISH_PREFIX',
  redisPrefix: 'REDIS_PREFIX',
  pgSchema: 'PG_SCHEMA',
  serviceName: 'SERVICE_NAME',
  instanceId: 'INSTANCE_ID',
  roles: 'ROLES',
  samplers: 'SAMPLER',
  samplingTimeoutMs: 'SAMPLING_TIMEOUT_MS',
  replyTimeoutMs: 'REPLY_TIMEOUT_MS',
  decompositionTtlSeconds: 'DECOMPOSITION_TTL_SECONDS',
  maxSubtasks: 'MAX_SUBTASKS',
  rateLimitPerMinute: 'RATE_LIMIT_PER_MINUTE',
  breakerThreshold: 'BREAKER_THRESHOLD',
  breakerResetMs: 'BREAKER_RESET_MS',
  instanceTtlMs: 'INSTANCE_TTL_MS',
  shutdownGraceMs: 'SHUTDOWN_GRACE_MS',
  ackWaitMs: 'ACK_WAIT_MS',
  parkAfterAttempts: 'PARK_AFTER_ATTEMPTS',
  openaiBaseUrl: 'OPENAI_BASE_URL',
  openaiApiKey: 'OPENAI_API_KEY',
  openaiModel: 'OPENAI_MODEL',
  anthropicBaseUrl: 'ANTHROPIC_BASE_URL',
  anthropicApiKey: 'ANTHROPIC_API_KEY',
  anthropicModel: 'ANTHROPIC_MODEL',
  samplingSubjectPrefix: 'SAMPLING_SUBJECT_PREFIX',
  logLevel: 'LOG_LEVEL',
}
const listKeys = new Set<keyof Config>(['roles', 'samplers', 'replySubjectPrefixes'])

const samplerNames = ['mcp', 'anthropic', 'openai', 'heuristic']

export class ConfigError extends Error {}

/** Builds the frozen config from environment variables (and overrides, for tests and the CLI). */
export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: Partial<Config> = {}): Config {
  const raw: Record<string, unknown> = {}
  for (const [key, name] of Object.entries(envNames) as [keyof Config, string][]) {
    const v = env[name]
    if (v === undefined || v === '') continue
    raw[key] = listKeys.has(key) ? v.split(',').map((s) => s.trim()).filter(Boolean) : v
  }
  if (raw.roles && (raw.roles as string[]).includes('all')) raw.roles = [...allRoles]
  const merged = Value.Convert(Config, Value.Default(Config, { ...raw, ...overrides }))
  const errors = [...Value.Errors(Config, merged)]
  if (errors.length > 0) {
    const e = errors.find((x) => x.instancePath !== '') ?? errors[0]!
    const key = fieldName(e.instancePath).split(/[.[]/)[0] as keyof Config
    throw new ConfigError(`invalid configuration: ${envNames[key] ?? key} ${e.message}`)
  }
  const config = merged as Config
  for (const name of config.samplers) {
    if (!samplerNames.includes(name)) {
      throw new ConfigError(`invalid configuration: SAMPLER "${name}" is not a sampler (available: ${samplerNames.join(', ')})`)
    }
  }
  if (config.samplers.includes('openai') && !config.openaiApiKey && !config.openaiBaseUrl) {
    throw new ConfigError('invalid configuration: SAMPLER=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local server such as Ollama)')
  }
  if (config.samplers.includes('anthropic') && !config.anthropicApiKey) {
    throw new ConfigError('invalid configuration: SAMPLER=anthropic needs ANTHROPIC_API_KEY')
  }
  checkNatsAuth(config)
  return Object.freeze(config)
}

/**
 * The environment that reproduces `config` in another process (`decomposer start`, `replay`, the
 * bench's service): the inverse of loadConfig, so a child never runs with a half-copied config.
 */
export function configEnv(config: Config): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, name] of Object.entries(envNames) as [keyof Config, string][]) {
    const v = config[key]
    if (v === undefined) continue
    env[name] = Array.isArray(v) ? v.join(',') : String(v)
  }
  return env
}

export interface NatsServerList {
  /** The servers with any userinfo removed (nats.js v3 ignores it, and logs must not see it). */
  servers: string[]
  /** Credentials written into the URL(s): `user:pass@` or `token@`. */
  credentials: { user: string; pass: string } | { token: string } | undefined
}

/**
 * Splits NATS_URL into its servers and the credentials embedded in them. Every server that carries
 * credentials must carry the same ones: a connection has one identity, whichever server it reaches.
 */
export function parseNatsUrl(natsUrl: string): NatsServerList {
  const servers: string[] = []
  let written: string | undefined
  let credentials: NatsServerList['credentials']
  for (const entry of natsUrl.split(',').map((s) => s.trim()).filter(Boolean)) {
    const parts = splitUserinfo(entry)
    servers.push(parts.bare)
    if (parts.userinfo === undefined || parts.userinfo === '') continue
    if (written !== undefined && written !== parts.userinfo) {
      throw new ConfigError('invalid configuration: the servers in NATS_URL carry different credentials')
    }
    written = parts.userinfo
    const colon = parts.userinfo.indexOf(':')
    if (colon !== -1) credentials = { user: safeDecode(parts.userinfo.slice(0, colon)), pass: safeDecode(parts.userinfo.slice(colon + 1)) }
    else if (isTokenUserinfo(parts)) credentials = { token: safeDecode(parts.userinfo) }
    else throw new ConfigError(`invalid configuration: NATS_URL scheme "${parts.scheme ?? ''}" is not a NATS scheme`)
  }
  if (servers.length === 0) throw new ConfigError('invalid configuration: NATS_URL names no server')
  return { servers, credentials }
}

type NatsAuthSettings = Pick<Config, 'natsUrl' | 'natsUser' | 'natsPassword' | 'natsToken' | 'natsCreds' | 'natsNkey'>

/** One way of logging in to NATS at most: two would leave it to the server which one counts. */
function checkNatsAuth(config: NatsAuthSettings): void {
  const fail = (why: string) => {
    throw new ConfigError(`invalid configuration: ${why}`)
  }
  if (config.natsUser !== undefined && config.natsPassword === undefined) fail('NATS_USER needs NATS_PASSWORD')
  if (config.natsPassword !== undefined && config.natsUser === undefined) fail('NATS_PASSWORD needs NATS_USER')
  const methods = [
    config.natsUser !== undefined ? 'NATS_USER/NATS_PASSWORD' : undefined,
    config.natsToken !== undefined ? 'NATS_TOKEN' : undefined,
    config.natsCreds !== undefined ? 'NATS_CREDS' : undefined,
    config.natsNkey !== undefined ? 'NATS_NKEY' : undefined,
    parseNatsUrl(config.natsUrl).credentials ? 'credentials in NATS_URL' : undefined,
  ].filter((m): m is string => m !== undefined)
  if (methods.length > 1) fail(`${methods.join(' and ')} are set; choose one way to log in to NATS`)
}

/** True when the NATS connection logs in (settings or credentials in NATS_URL). */
export function hasNatsCredentials(config: NatsAuthSettings): boolean {
  return (
    config.natsUser !== undefined ||
    config.natsToken !== undefined ||
    config.natsCreds !== undefined ||
    config.natsNkey !== undefined ||
    parseNatsUrl(config.natsUrl).credentials !== undefined
  )
}

/**
 * The service's own inbox prefix: its JetStream deliveries and internal requests. Distinct from the
 * clients' `_INBOX` so the service can refuse replies aimed at its own traffic.
 */
export function serviceInboxPrefix(config: Pick<Config, 'natsInboxPrefix' | 'serviceName'>): string {
  return config.natsInboxPrefix ?? `_INBOX_${config.serviceName}`
}

/**
 * Every secret the configuration holds, for masking in messages that may echo one (the CLI's error
 * lines). A NATS_NKEY path is not a secret, the seed it names is read only when connecting.
 */
export function configSecrets(config: Config): string[] {
  return [
    config.natsPassword,
    config.natsToken,
    config.natsNkey !== undefined && /^S[A-Z2-7]{50,}$/.test(config.natsNkey) ? config.natsNkey : undefined,
    config.openaiApiKey,
    config.anthropicApiKey,
    ...urlSecrets(config.natsUrl),
    ...urlSecrets(config.redisUrl),
    ...urlSecrets(config.databaseUrl),
  ].filter((s): s is string => s !== undefined && s !== '')
}

/** JetStream subject namespace of a stream; unique per stream so test streams never overlap. */
export function eventSubjectPrefix(config: Pick<Config, 'streamName'>): string {
  return `cb.ev.${config.streamName}`
}
