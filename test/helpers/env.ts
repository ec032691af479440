// Test environments on the real local services. Every environment gets its own stream, subject
// namespace, RPC prefix, Redis key prefix and Postgres schema, so suites run in any order, twice in
// a row, and side by side; dispose() removes all of it.
import { randomBytes } from 'node:crypto'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/nats-core'
import { Redis } from 'ioredis'
import { sql } from 'kysely'
import { configEnv, eventSubjectPrefix, loadConfig } from '../../src/config.js'
import type { Config } from '../../src/config.js'
import { createDb, ensureDatabase } from '../../src/store/postgres.js'
import { defineProjectionCommands } from '../../src/store/redis.js'
import type { ProjectionCommands } from '../../src/store/redis.js'
import { keys as keysFor } from '../../src/store/keys.js'
import type { Keys } from '../../src/store/keys.js'
import { silentLogger } from '../../src/log.js'
import type { DomainEvent } from '../../src/domain/events.js'
import { startService } from '../../src/app.js'
import type { RunningService, ServiceOptions } from '../../src/app.js'

export function uniqueName(label: string): string {
  return `${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 12)}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
}

/** A config whose every namespace is private to this test. */
export function testConfig(label: string, overrides: Partial<Config> = {}): Config {
  const name = uniqueName(label)
  return loadConfig(process.env, {
    streamName: `T_${name.toUpperCase()}`,
    rpcPrefix: `t_${name}.rpc`,
    publishPrefix: `t_${name}`,
    redisPrefix: `t_${name}:`,
    pgSchema: `t_${name}`,
    instanceId: `test-${name}`,
    logLevel: 'silent',
    replyTimeoutMs: 15_000,
    // suites make many decompositions from one client; the rate-limit test sets its own limit
    rateLimitPerMinute: 0,
    ...overrides,
  })
}

/**
 * Runs `fn` with a private config and a Redis client carrying the projection scripts, then
 * disconnects and removes everything under the config's namespaces, whatever `fn` did.
 */
export async function withRedis(label: string, fn: (ctx: { config: Config; redis: Redis & ProjectionCommands; keys: Keys }) => Promise<void>): Promise<void> {
  const config = testConfig(label)
  const redis = defineProjectionCommands(new Redis(config.redisUrl))
  try {
    await fn({ config, redis, keys: keysFor(config.redisPrefix) })
  } finally {
    redis.disconnect()
    await cleanup(config)
  }
}

/** Removes everything a test config created: stream (and its consumers), Redis keys, schema. */
export async function cleanup(config: Config): Promise<void> {
  const nc = await connect({ servers: config.natsUrl })
  try {
    const jsm = await jetstreamManager(nc)
    await jsm.streams.delete(config.streamName).catch(() => undefined)
  } finally {
    await nc.close()
  }
  const redis = new Redis(config.redisUrl)
  try {
    let cursor = '0'
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${config.redisPrefix}*`, 'COUNT', 1000)
      cursor = next
      if (found.length > 0) await redis.del(...found)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
  // The database may not exist yet on a fresh machine when a Redis-only test cleans up first.
  await ensureDatabase(config.databaseUrl)
  const db = createDb(config.databaseUrl, 'public', 1)
  try {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(config.pgSchema)} CASCADE`.execute(db)
  } finally {
    await db.destroy()
  }
}

export interface TestService extends AsyncDisposable {
  config: Config
  service: RunningService
  /** A separate client connection, as a real caller would have. */
  client: NatsConnection
  redis: Redis
  dispose(): Promise<void>
}

export async function startTestService(label: string, overrides: Partial<Config> = {}, opts: ServiceOptions = {}): Promise<TestService> {
  const config = testConfig(label, overrides)
  const service = await startService(config, silentLogger, opts)
  const client = await connect({ servers: config.natsUrl, name: `test-client-${label}` })
  const redis = new Redis(config.redisUrl)
  const dispose = async () => {
    await client.close()
    redis.disconnect()
    await service.close()
    await cleanup(config)
  }
  return { config, service, client, redis, dispose, [Symbol.asyncDispose]: dispose }
}

/** Polls until `fn` returns a value other than undefined, or fails after `ms`. */
export async function eventually<T>(fn: () => Promise<T | undefined>, ms = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms
  let pause = 10
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, pause))
    pause = Math.min(250, pause * 2) // quick at first, then gentle on a loaded machine
  }
}

export const darkModeRequest = {
  taskId: 't-123456',
  task: 'Add dark mode toggle to settings page',
  priority: 75,
  constraints: ['Use React hooks', 'Follow atomic design pattern', 'Ensure mobile responsiveness'],
  sessionId: 'session-abc123',
}

/** Every event in a test's stream (optionally one kind of aggregate), in log order. */
export async function readAllEvents(config: Config, kind?: 'task' | 'attachment' | 'decomposition'): Promise<{ seq: number; subject: string; event: DomainEvent }[]> {
  const nc = await connect({ servers: config.natsUrl })
  try {
    const jsm = await jetstreamManager(nc)
    const info = await jsm.streams.info(config.streamName)
    const out: { seq: number; subject: string; event: DomainEvent }[] = []
    if (info.state.messages === 0) return out
    const filter = `${eventSubjectPrefix(config)}.${kind ? `${kind}.>` : '>'}`
    const consumer = await jetstream(nc).consumers.get(config.streamName, { filter_subjects: filter })
    for (let done = false; !done; ) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 })
      done = true // an empty batch means nothing (more) matches the filter
      for await (const m of batch) {
        out.push({ seq: m.seq, subject: m.subject, event: m.json<DomainEvent>() })
        done = m.info.pending === 0
        if (done) break
      }
    }
    // Remove the ephemeral consumer now rather than at its inactivity timeout: tests poll this.
    await consumer.delete().catch(() => undefined)
    return out
  } finally {
    await nc.close()
  }
}

/** The environment that gives a child process (`decomposer start`, `replay`, `mcp`) this config. */
export function envFor(config: Config, extra: Record<string, string> = {}): Record<string, string> {
  return { ...(process.env as Record<string, string>), NODE_OPTIONS: '', ...configEnv(config), ...extra }
}

/** The aggregate an event belongs to (a decomposition's steps live on several subjects). */
export function aggregateOf(event: DomainEvent): string {
  return 'decompositionId' in event ? `decomposition:${event.decompositionId}` : `task:${event.taskId}`
}
