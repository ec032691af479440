// The bench's replay figure, in a process of its own as `decomposer replay` runs: rebuilds every
// read model of the bench stream into a scratch namespace, prints the summary as JSON on stdout,
// and removes the scratch namespace. Configuration comes from the environment (see bench/main.ts).
import { sql } from 'kysely'
import { loadConfig } from '../src/config.js'
import { silentLogger } from '../src/log.js'
import { openConnections } from '../src/app.js'
import { keys as keysFor } from '../src/store/keys.js'
import { migrate } from '../src/store/postgres.js'
import { replay } from '../src/replay/replay.js'
import { deleteProjectedKeys } from '../src/replay/verify.js'
import { progressBar } from '../src/cli/progress.js'

const config = loadConfig()
const scratch = `${config.pgSchema}_replay`
const conn = await openConnections(config, silentLogger)
const scratchKeys = keysFor(`${config.redisPrefix.replace(/:$/, '')}_replay:`)
const scratchDb = await migrate(config.databaseUrl, scratch)
try {
  const length = (await conn.store.jsm.streams.info(config.streamName)).state.messages
  const bar = progressBar(length, 'replay')
  const summary = await replay(conn.store, { redis: conn.redis, keys: scratchKeys, db: scratchDb, ttlSeconds: config.decompositionTtlSeconds }, {
    log: silentLogger,
    onProgress: (n) => bar.update(n),
  })
  bar.done()
  process.stdout.write(`${JSON.stringify(summary)}\n`)
} finally {
  await deleteProjectedKeys(conn.redis, scratchKeys.prefix)
  await sql`DROP SCHEMA IF EXISTS ${sql.id(scratch)} CASCADE`.execute(scratchDb)
  await scratchDb.destroy()
  conn.redis.disconnect()
  await conn.db.destroy()
  await conn.nc.close()
}
