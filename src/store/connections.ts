// The open handles one process works with. Lives in the store layer so projectors, replay and the
// app wiring can all name it without importing upward into app.ts (which re-exports it).
import type { NatsConnection } from '@nats-io/nats-core'
import type { Redis } from 'ioredis'
import type { EventStore } from './event-store.js'
import type { Keys } from './keys.js'
import type { Db } from './postgres.js'
import type { ProjectionCommands } from './redis.js'

export interface Connections {
  nc: NatsConnection
  redis: Redis & ProjectionCommands
  db: Db
  store: EventStore
  keys: Keys
}
