// Configuration is a schema: read from the environment once, defaulted, validated and frozen.
// Nothing else in the code base reads process.env.
import { hostname } from 'node:os'
import Type from 'typebox'
import Value from 'typebox/value'
import { fieldName } from './errors.js'

const Role = Type.Union([
  Type.Literal('rpc'),
  Type.Literal('sampler'),
  Type.Literal('projectors'),
  Type.Literal('release'),
])
export type Role = Type.Static<typeof Role>
export const allRoles: readonly Role[] = ['rpc', 'sampler', 'projectors', 'release']

const Token = (defaultValue: string) => Type.String({ pattern: '^[A-Za-z0-9_-]+$', default: defaultValue })

export const Config = Type.Object({
  natsUrl: Type.String({ default: 'nats://127.0.0.1:4222' }),
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

const envNames: Record<keyof Config, string> = {
  natsUrl: 'NATS_URL',
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
  ackWaitMs: 'ACK_WAIT_MS',
  openaiBaseUrl: 'OPENAI_BASE_URL',
  openaiApiKey: 'OPENAI_API_KEY',
  openaiModel: 'OPENAI_MODEL',
  anthropicBaseUrl: 'ANTHROPIC_BASE_URL',
  anthropicApiKey: 'ANTHROPIC_API_KEY',
  anthropicModel: 'ANTHROPIC_MODEL',
  samplingSubjectPrefix: 'SAMPLING_SUBJECT_PREFIX',
  logLevel: 'LOG_LEVEL',
}
const listKeys = new Set<keyof Config>(['roles', 'samplers'])

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

/** JetStream subject namespace of a stream; unique per stream so test streams never overlap. */
export function eventSubjectPrefix(config: Pick<Config, 'streamName'>): string {
  return `cb.ev.${config.streamName}`
}
