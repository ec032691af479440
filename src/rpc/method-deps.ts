// What the RPC methods need from the outside world, injected so tests can build it from real
// connections with their own prefixes.
import type { Redis } from 'ioredis'
import type { Config } from '../config.js'
import type { Logger } from '../log.js'
import type { EventStore } from '../store/event-store.js'
import type { Keys } from '../store/keys.js'
import type { ProjectionCommands } from '../store/redis.js'
import type { Db } from '../store/postgres.js'
import type { OutcomeWatcher } from './outcome-watcher.js'

export interface MethodDeps {
  config: Pick<Config, 'instanceId' | 'replyTimeoutMs' | 'decompositionTtlSeconds' | 'rateLimitPerMinute' | 'instanceTtlMs' | 'maxSubtasks'>
  store: EventStore
  redis: Redis & ProjectionCommands
  keys: Keys
  db: Db
  watcher: OutcomeWatcher
  log: Logger
  now: () => number
  random: () => string
}
