// Shared set-up of the fault tests: private NATS and Redis, a cuttable proxy to Postgres, a config
// pointing at them, and a dispose that removes all of it.
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/nats-core'
import { sql } from 'kysely'
import type { Config } from '../../src/config.js'
import { createDb } from '../../src/store/postgres.js'
import { openConnections } from '../../src/app.js'
import type { Connections } from '../../src/app.js'
import { silentLogger } from '../../src/log.js'
import { testConfig } from '../helpers/env.js'
import { startPrivateNats, startPrivateRedis, TcpProxy } from '../helpers/private-services.js'

export interface FaultRig {
  config: Config
  nats: Awaited<ReturnType<typeof startPrivateNats>>
  redis: Awaited<ReturnType<typeof startPrivateRedis>>
  pg: TcpProxy
  client: NatsConnection
  /** Connections for assertions (through the same private servers). */
  open(): Promise<Connections>
  dispose(): Promise<void>
}

export async function faultRig(label: string, overrides: Partial<Config> = {}): Promise<FaultRig> {
  const nats = await startPrivateNats()
  const redis = await startPrivateRedis()
  const pg = await TcpProxy.start(5432)
  const base = testConfig(label)
  const config = testConfig(label, {
    natsUrl: nats.url,
    redisUrl: redis.url,
    databaseUrl: base.databaseUrl.replace(/@127\.0\.0\.1:5432\//, `@127.0.0.1:${pg.port}/`),
    ackWaitMs: 2000,
    ...overrides,
  })
  const client = await connect({ servers: nats.url, name: `fault-client-${label}`, maxReconnectAttempts: -1, reconnectTimeWait: 250 })
  const opened: Connections[] = []
  return {
    config,
    nats,
    redis,
    pg,
    client,
    async open() {
      const c = await openConnections(config, silentLogger)
      opened.push(c)
      return c
    },
    async dispose() {
      for (const c of opened) {
        c.redis.disconnect()
        await c.db.destroy()
        await c.nc.close()
      }
      await client.close()
      await nats.dispose()
      await redis.dispose()
      await pg.dispose()
      const db = createDb(base.databaseUrl, 'public', 1)
      try {
        await sql`DROP SCHEMA IF EXISTS ${sql.id(config.pgSchema)} CASCADE`.execute(db)
      } finally {
        await db.destroy()
      }
    },
  }
}
