// `decomposer parked [--seq N] [--json]`            list parked events
// `decomposer parked --retry [--seq N] [--json]`    re-drive them; exit 3 when some still fail
// Listing needs Redis only; re-driving opens everything the projections write to, like `replay`.
import { parseArgs } from 'node:util'
import type { Config } from '../config.js'
import { createLogger } from '../log.js'
import { openConnections } from '../app.js'
import { openRedis } from '../store/redis.js'
import { keys as keysFor } from '../store/keys.js'
import { parkedStore } from '../store/parked.js'
import type { ParkedEntry } from '../store/parked.js'
import { redrive } from '../projectors/redrive.js'
import { consumerHandlers } from '../projectors/consumer-handlers.js'
import type { RedriveOutcome } from '../projectors/redrive.js'

export type Print = (line: string) => void

export interface CommandIo {
  /** Standard output (tests capture it). */
  print?: Print
  /** Reports a usage error on stderr and returns its exit code (main.ts's `fail`). */
  fail(message: string): number
}

/** Returns the exit code: 0 listed or all re-driven, 1 bad arguments, 3 some still fail. */
export async function parkedCommand(config: Config, args: string[], io: CommandIo): Promise<number> {
  const print = io.print ?? console.log
  let values: { retry?: boolean; seq?: string; json?: boolean }
  try {
    ;({ values } = parseArgs({ args, options: { retry: { type: 'boolean' }, seq: { type: 'string' }, json: { type: 'boolean' } } }))
  } catch (err) {
    return io.fail(`parked: ${(err as Error).message}`)
  }
  const seq = values.seq === undefined ? undefined : Number(values.seq)
  if (seq !== undefined && !(Number.isInteger(seq) && seq > 0)) return io.fail('parked: --seq must be a positive integer (a stream sequence)')
  const only = (entries: ParkedEntry[]) => (seq === undefined ? entries : entries.filter((e) => e.seq === seq))
  return values.retry ? retry(config, only, values.json ?? false, print) : list(config, only, values.json ?? false, print)
}

async function list(config: Config, only: (e: ParkedEntry[]) => ParkedEntry[], json: boolean, print: Print): Promise<number> {
  const redis = await openRedis(config.redisUrl)
  try {
    const entries = only(await parkedStore(redis, keysFor(config.redisPrefix)).list())
    if (json) print(JSON.stringify(entries, null, 2))
    else if (entries.length === 0) print('no parked events')
    else for (const e of entries) print(formatEntry(e))
    return 0
  } finally {
    redis.disconnect()
  }
}

async function retry(config: Config, only: (e: ParkedEntry[]) => ParkedEntry[], json: boolean, print: Print): Promise<number> {
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, { role: 'parked' })
  const conn = await openConnections(config, log)
  try {
    const parked = parkedStore(conn.redis, conn.keys)
    const outcomes = await redrive(only(await parked.list()), {
      parked,
      event: (seq) => conn.store.get(seq),
      handlers: consumerHandlers(conn, config),
      streamName: config.streamName,
    })
    if (json) print(JSON.stringify(outcomes, null, 2))
    else for (const line of formatOutcomes(outcomes)) print(line)
    return outcomes.every((o) => o.ok) ? 0 : 3
  } finally {
    conn.redis.disconnect()
    await conn.db.destroy()
    await conn.nc.drain().catch(() => conn.nc.close())
  }
}

/** One line: seq, consumer, type, attempts, error, when. */
export function formatEntry(e: ParkedEntry): string {
  return `seq ${e.seq}  ${e.consumer}  ${e.type}  ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}  ${JSON.stringify(e.error)}  parked ${new Date(e.parkedAt).toISOString()}`
}

export function formatOutcomes(outcomes: readonly RedriveOutcome[]): string[] {
  if (outcomes.length === 0) return ['no parked events']
  const failing = outcomes.filter((o) => !o.ok)
  return [
    ...outcomes.map((o) => (o.ok ? `re-driven: seq ${o.entry.seq}  ${o.entry.consumer}  ${o.entry.type}` : `still failing: ${formatEntry(o.entry)}`)),
    `${outcomes.length - failing.length} re-driven, ${failing.length} still parked`,
  ]
}
