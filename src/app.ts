// Wires one process: connections, the event log, and whichever roles this instance runs. Every role
// is safe on many instances at once.
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { eventSubjectPrefix, hasNatsCredentials, serviceInboxPrefix } from './config.js'
import type { Config } from './config.js'
import type { Logger } from './log.js'
import { redactUrl } from './redact.js'
import { connectNats } from './store/nats-connect.js'
import { EventStore } from './store/event-store.js'
import { keys as keysFor } from './store/keys.js'
import { defineProjectionCommands, openRedis, redisCall } from './store/redis.js'
import { migrate } from './store/postgres.js'
import { runConsumer } from './projectors/run-consumer.js'
import type { EventHandler, RunningConsumer } from './projectors/run-consumer.js'
import { parkedStore } from './store/parked.js'
import { consumerHandlers } from './projectors/consumer-handlers.js'
import type { DomainEvent } from './domain/events.js'
import { samplerWorker } from './workers/sampler-worker.js'
import { samplersFromConfig } from './sampling/chain.js'
import { createSamplingBreaker } from './sampling/breaker.js'
import type { SamplingBreaker } from './sampling/breaker.js'
import type { Sampler } from './sampling/sampler.js'
import { systemMethods } from './rpc/system-methods.js'
import { createDispatcher } from './rpc/dispatcher.js'
import type { Dispatcher } from './rpc/dispatcher.js'
import { OutcomeWatcher } from './rpc/outcome-watcher.js'
import { startRpcServer } from './rpc/server.js'
import type { RpcServer } from './rpc/server.js'
import { taskMethods } from './rpc/task-methods.js'
import { attachmentMethods } from './rpc/attachment-methods.js'
import { sessionMethods } from './rpc/session-methods.js'
import type { ReplyGuard } from './rpc/reply-guard.js'
import type { Connections } from './store/connections.js'

export const version = '0.1.0'

export type { Connections } from './store/connections.js'

export interface RunningService {
  connections: Connections
  dispatcher: Dispatcher | undefined
  /** Requests dropped for their reply subject (rpc role only). */
  replyGuard: ReplyGuard | undefined
  close(): Promise<void>
}

/** Opens NATS, Redis and Postgres (creating the database and running migrations) and the stream. */
export async function openConnections(config: Config, log: Logger): Promise<Connections> {
  const nc = await connectNats(config, { name: config.instanceId, inboxPrefix: serviceInboxPrefix(config) })
  let redis: Redis | undefined
  try {
    let lastReport = 0
    redis = await openRedis(config.redisUrl, (err) => {
      // ioredis reconnects on its own; one line every 5 s at most while it is down.
      if (Date.now() - lastReport < 5000) return
      lastReport = Date.now()
      log.warn('redis connection error; reconnecting', { err })
    })
    const db = await migrate(config.databaseUrl, config.pgSchema)
    const store = await EventStore.open(nc, { streamName: config.streamName, subjectPrefix: eventSubjectPrefix(config) })
    log.debug('connected', { nats: redactUrl(config.natsUrl), redis: redactUrl(config.redisUrl), stream: config.streamName })
    return { nc, redis: defineProjectionCommands(redis), db, store, keys: keysFor(config.redisPrefix) }
  } catch (err) {
    redis?.disconnect()
    await nc.close()
    throw err
  }
}

export interface ServiceOptions {
  now?: () => number
  /** Replaces the configured sampler (tests drive the breaker and timeout with their own). */
  sampler?: Sampler
}

export async function startService(config: Config, log: Logger, opts: ServiceOptions = {}): Promise<RunningService> {
  const conn = await openConnections(config, log)
  const now = opts.now ?? Date.now
  const consumers: RunningConsumer[] = []
  let rpc: RpcServer | undefined
  let watcher: OutcomeWatcher | undefined
  let dispatcher: Dispatcher | undefined
  let breaker: SamplingBreaker | undefined
  let replyGuard: ReplyGuard | undefined
  const { store } = conn
  // An event a consumer keeps failing to apply (not an outage) is parked rather than retried for ever.
  const parking = { store: parkedStore(conn.redis, conn.keys), afterAttempts: config.parkAfterAttempts }
  // One durable consumer per purpose and filter subject (nats-server 2.9 takes one filter each), so
  // a consumer receives only the events it acts on; the event types are a second check.
  const consume = async (purpose: string, filterSubject: string, concurrency: number, eventTypes: readonly DomainEvent['type'][], handler: EventHandler) => {
    const spec = { durable: `${config.streamName}_${purpose}`, filterSubject, concurrency, ackWaitMs: config.ackWaitMs, eventTypes }
    consumers.push(await runConsumer(store, spec, handler, log, parking))
  }
  // What each projection and the release step do with an event (shared with `parked --retry`).
  const handle = consumerHandlers(conn, config, now)
  try {
    if (config.roles.includes('projectors')) {
      const project = async (purpose: string, filterSubject: string, concurrency: number, eventTypes: readonly DomainEvent['type'][]) =>
        consume(purpose, filterSubject, concurrency, eventTypes, handle.get(purpose)!)
      await project('redis_tasks', store.filter('task'), 16, ['TaskCreated'])
      await project('redis_outcomes', store.filter('decomposition', 'outcome'), 64, ['DecompositionSampled'])
      await project('redis_releases', store.filter('decomposition', 'released'), 64, ['SubtasksReleased'])
      await project('postgres_tasks', store.filter('task'), 16, ['TaskCreated'])
      await project('postgres_attachments', store.filter('attachment'), 16, ['AttachmentCreated'])
      await project('postgres_outcomes', store.filter('decomposition', 'outcome'), 32, ['DecompositionSampled'])
      // Consumers of the earlier layout (one per projector over every event, and the separate
      // republisher) would sit on the stream forever with a growing backlog; remove them.
      for (const old of ['redis', 'postgres', 'republisher']) {
        await store.jsm.consumers.delete(store.streamName, `${config.streamName}_${old}`).catch(() => undefined)
      }
    }
    if (config.roles.includes('sampler')) {
      const sampler = opts.sampler ?? samplersFromConfig(config, log, conn.nc, async (owner, sessionId) =>
        (await redisCall(() => conn.redis.exists(conn.keys.mcpSession(owner, sessionId)))) === 1,
      )
      breaker = createSamplingBreaker({ threshold: config.breakerThreshold, resetMs: config.breakerResetMs }, log)
      const work = samplerWorker({
        breaker,
        store,
        redis: conn.redis,
        keys: conn.keys,
        sampler,
        instanceId: config.instanceId,
        samplingTimeoutMs: config.samplingTimeoutMs,
        ackWaitMs: config.ackWaitMs,
        maxSubtasks: config.maxSubtasks,
        now,
        log,
      })
      await consume('sampler', store.filter('decomposition', 'requested'), 64, ['DecompositionRequested'], work)
    }
    if (config.roles.includes('release')) {
      await consume('release', store.filter('decomposition', 'persisted'), 64, ['DecompositionPersisted'], handle.get('release')!)
    }
    if (config.roles.includes('rpc')) {
      watcher = await OutcomeWatcher.start(store, log)
      const deps = {
        config,
        store,
        redis: conn.redis,
        keys: conn.keys,
        db: conn.db,
        watcher,
        log,
        now,
        random: () => randomBytes(6).toString('hex'),
      }
      const methods = {
        ...taskMethods(deps),
        ...attachmentMethods(deps),
        ...systemMethods({ ...deps, instanceTtlMs: config.instanceTtlMs }),
        ...sessionMethods({ ...deps, samplingSubjectPrefix: config.samplingSubjectPrefix }),
      }
      dispatcher = createDispatcher(methods, log, { 'swarm.decompose': 'task.decompose' })
      rpc = await startRpcServer(
        conn.nc,
        dispatcher,
        {
          serviceName: config.serviceName,
          version,
          rpcPrefix: config.rpcPrefix,
          instanceId: config.instanceId,
          methods: Object.keys(methods),
          replies: { prefixes: config.replySubjectPrefixes, ownInboxPrefix: serviceInboxPrefix(config) },
          identity: callerIdentityMode(config),
        },
        log,
      )
      replyGuard = rpc.replyGuard
    }
  } catch (err) {
    await Promise.allSettled(consumers.map((c) => c.stop()))
    await closeConnections(conn)
    throw err
  }
  log.info('decomposer started', {
    instance: config.instanceId,
    roles: config.roles,
    stream: config.streamName,
    rpc: config.roles.includes('rpc') ? `${config.rpcPrefix}.<method>` : undefined,
    sampler: config.samplers.join(','),
  })
  return {
    connections: conn,
    dispatcher,
    replyGuard,
    async close() {
      // Bounded by the grace: intake stops at once; what is still running after it is answered
      // (RPC) or left unacknowledged for another instance to take over (steps and projections).
      const deadline = Date.now() + config.shutdownGraceMs
      await rpc?.stop(config.shutdownGraceMs)
      await within(Promise.allSettled(consumers.map((c) => c.stop())), deadline - Date.now())
      await watcher?.close()
      breaker?.shutdown()
      await closeConnections(conn)
    },
  }
}

/**
 * How callers are identified (see rpc/caller.ts). `auto`: by the server-set Nats-Request-Info when
 * the service itself logs in (NATS authentication is on), else by the headers clients send.
 */
export function callerIdentityMode(config: Pick<Config, 'callerIdentity'> & Parameters<typeof hasNatsCredentials>[0]): 'nats' | 'headers' {
  if (config.callerIdentity === 'auto') return hasNatsCredentials(config) ? 'nats' : 'headers'
  return config.callerIdentity
}

/** Waits for `p` at most `ms` (then carries on; what is left is abandoned, not awaited). */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, Math.max(0, ms))))])
  clearTimeout(timer)
}

async function closeConnections(conn: Connections): Promise<void> {
  // A drain waits for subscriptions to finish; steps abandoned at shutdown may never do so.
  await within(conn.nc.drain().catch(() => undefined), 2000)
  if (!conn.nc.isClosed()) await conn.nc.close()
  conn.redis.disconnect()
  await conn.db.destroy()
}
