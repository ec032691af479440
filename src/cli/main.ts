// decomposer: the service and its command-line client.
//   decomposer start                                   run the service (all roles, or ROLES=...)
//   decomposer migrate                                 create the database and run migrations
//   decomposer task create "title" [--task-id ID]      create a task
//   decomposer decompose --task-id ID "text" [--constraint C ...] [--priority N] [--session S] [--json]
//   decomposer get --task-id ID [--json]               the latest decomposition of a task
//   decomposer mcp [--session ID]                      stdio MCP server for an MCP client
//   decomposer replay [--verify] [--clean]             rebuild (or verify) the read models from the log
import { hostname } from 'node:os'
import { parseArgs } from 'node:util'
import { NoRespondersError, RequestError, TimeoutError, nuid } from '@nats-io/nats-core'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { startMcpBridge } from '../mcp/bridge.js'
import { sessionTokenPattern } from '../sampling/mcp-wire.js'
import { ConfigError, configSecrets, loadConfig } from '../config.js'
import type { Config } from '../config.js'
import { DecomposerError, StorageError } from '../errors.js'
import { createLogger } from '../log.js'
import { openConnections, startService, version } from '../app.js'
import { connectNats } from '../store/nats-connect.js'
import { redactSecrets, redactUrl } from '../redact.js'
import { rebuildLive, verifyReadModels } from '../replay/rebuild.js'
import type { ReplaySummary } from '../replay/replay.js'
import { progressBar } from './progress.js'
import { migrate } from '../store/postgres.js'
import { call } from '../client/rpc-client.js'
import type { RpcReply } from '../client/rpc-client.js'
import { formatDecomposition } from './format.js'
import { parkedCommand } from './parked-command.js'
import type { DecomposeResult } from '../rpc/task-methods.js'

const usage = `Usage:
  decomposer start                         run the service (roles from ROLES, default all)
  decomposer migrate                       create the database if missing and run migrations
  decomposer task create <title> [--task-id ID] [--description TEXT] [--priority N]
  decomposer decompose --task-id ID <task text> [--constraint TEXT]... [--priority N]
                       [--session ID] [--client-id ID] [--idempotency-key KEY] [--timeout MS] [--json]
  decomposer get --task-id ID [--json]     the latest decomposition of a task
  decomposer replay [--clean] [--concurrency BATCHES]
                                           rebuild the Redis and Postgres read models from the
                                           event stream (--clean: empty them first); never
                                           appends or republishes
  decomposer replay --verify [--json]      rebuild into a scratch namespace and report every
                                           difference from the live read models (exit 3 if any)
  decomposer parked [--retry] [--seq N] [--json]
                                           events a consumer could not apply; --retry re-drives
                                           them (exit 3 if some still fail)
  decomposer mcp [--session ID]            stdio MCP server for an MCP client (Claude Code, ...):
                                           the RPC methods as tools, and this session's sampling

Environment: NATS_URL, REDIS_URL, DATABASE_URL, STREAM_NAME, RPC_PREFIX, LOG_LEVEL, ... (see README)`

const startHint: Record<string, string> = {
  nats: 'start it with: nats-server -js   (or set NATS_URL)',
  nats_authorization: 'check NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS, NATS_NKEY or the credentials in NATS_URL',
  redis: 'start it with: redis-server   (or set REDIS_URL)',
  postgres: 'start it with: pg_ctlcluster <version> main start   (or set DATABASE_URL)',
}

/**
 * The configuration's secrets, masked in every line `fail` writes: error messages from drivers and
 * from the service may echo a URL or a key. Set once the configuration is loaded.
 */
let secrets: string[] = []

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message)
    throw err
  }
  secrets = configSecrets(config)
  switch (command) {
    case 'start':
      return start(config)
    case 'migrate': {
      const db = await migrate(config.databaseUrl, config.pgSchema)
      await db.destroy()
      console.log(`migrations applied to ${config.pgSchema} in ${redactUrl(config.databaseUrl)}`)
      return 0
    }
    case 'task':
      if (rest[0] !== 'create') return fail(`unknown command "task ${rest[0] ?? ''}"\n\n${usage}`)
      return taskCreate(config, rest.slice(1))
    case 'decompose':
      return decompose(config, rest)
    case 'get':
      return get(config, rest)
    case 'mcp':
      return mcp(config, rest)
    case 'replay':
      return replayCommand(config, rest)
    case 'parked':
      return parkedCommand(config, rest, { fail })
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(usage)
      return command === undefined ? 1 : 0
    default:
      return fail(`unknown command "${command}"\n\n${usage}`)
  }
}

async function start(config: Config): Promise<number> {
  const log = createLogger(config.logLevel, { instance: config.instanceId })
  const service = await startService(config, log)
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info('stopping', { signal })
      resolve()
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
  })
  await service.close()
  return 0
}

async function withClient<T>(config: Config, fn: (nc: Awaited<ReturnType<typeof connectNats>>) => Promise<T>): Promise<T> {
  const nc = await connectNats(config, { name: 'decomposer-cli', inboxPrefix: config.natsInboxPrefix })
  try {
    return await fn(nc)
  } finally {
    await nc.close()
  }
}

async function taskCreate(config: Config, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'task-id': { type: 'string' }, description: { type: 'string' }, priority: { type: 'string' }, json: { type: 'boolean' } },
  })
  if (positionals.length === 0) return fail('task create needs a title')
  const params = {
    title: positionals.join(' '),
    ...(values['task-id'] ? { taskId: values['task-id'] } : {}),
    ...(values.description ? { description: values.description } : {}),
    ...(values.priority !== undefined ? { priority: Number(values.priority) } : {}),
  }
  const reply = await withClient(config, (nc) => call(nc, config.rpcPrefix, 'task.create', params))
  return report(reply, values.json ?? false, (r) => {
    const t = r as { taskId: string; title: string }
    return `created task ${t.taskId}: ${t.title}`
  })
}

async function decompose(config: Config, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'task-id': { type: 'string' },
      constraint: { type: 'string', multiple: true },
      priority: { type: 'string' },
      session: { type: 'string' },
      'client-id': { type: 'string' },
      'idempotency-key': { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
    },
  })
  if (!values['task-id']) return fail('decompose needs --task-id ID')
  if (positionals.length === 0) return fail('decompose needs the task text')
  const params = {
    taskId: values['task-id'],
    task: positionals.join(' '),
    ...(values.constraint ? { constraints: values.constraint } : {}),
    ...(values.priority !== undefined ? { priority: Number(values.priority) } : {}),
    ...(values.session ? { sessionId: values.session } : {}),
  }
  const reply = await withClient(config, (nc) =>
    call(nc, config.rpcPrefix, 'task.decompose', params, {
      timeoutMs: Number(values.timeout ?? config.replyTimeoutMs + 5000),
      // Without NATS authentication the caller is who the Client-Id says: name this CLI by default,
      // so an --idempotency-key has a scope of its own.
      clientId: values['client-id'] ?? `decomposer-cli@${hostname()}`,
      ...(values['idempotency-key'] ? { idempotencyKey: values['idempotency-key'] } : {}),
    }),
  )
  return report(reply, values.json ?? false, (r) => formatDecomposition(r as DecomposeResult))
}

async function get(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'task-id': { type: 'string' }, json: { type: 'boolean' } } })
  if (!values['task-id']) return fail('get needs --task-id ID')
  const reply = await withClient(config, (nc) => call(nc, config.rpcPrefix, 'task.get_decomposition', { taskId: values['task-id'] }))
  return report(reply, values.json ?? false, (r) => formatDecomposition(r as DecomposeResult))
}

async function replayCommand(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { verify: { type: 'boolean' }, clean: { type: 'boolean' }, concurrency: { type: 'string' }, json: { type: 'boolean' } },
  })
  if (values.verify && values.clean) return fail('--verify never touches the live read models; drop --clean')
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency)
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency > 0)) return fail('--concurrency must be a positive integer')
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, { role: 'replay' })
  const conn = await openConnections(config, log)
  try {
    const info = await conn.store.jsm.streams.info(config.streamName)
    const bar = progressBar(info.state.messages, values.verify ? 'verify' : 'replay')
    const settings = {
      databaseUrl: config.databaseUrl,
      pgSchema: config.pgSchema,
      ttlSeconds: config.decompositionTtlSeconds,
      log,
      onProgress: (applied: number) => bar.update(applied),
      ...(concurrency ? { concurrency } : {}),
    }
    if (values.verify) {
      const report = await verifyReadModels(conn, settings)
      bar.done()
      if (values.json) console.log(JSON.stringify(report, null, 2))
      else {
        console.log(summaryLine(report.summary))
        if (report.differences.length === 0) console.log('read models match the log')
        for (const d of report.differences.slice(0, 50)) {
          console.log(`${d.store} ${d.key}: ${d.kind}${d.kind === 'differs' ? `\n  live:    ${JSON.stringify(d.live)}\n  rebuilt: ${JSON.stringify(d.rebuilt)}` : ''}`)
        }
        if (report.differences.length > 50) console.log(`... and ${report.differences.length - 50} more`)
      }
      return report.differences.length === 0 ? 0 : 3
    }
    const summary = await rebuildLive(conn, { ...settings, clean: values.clean ?? false })
    bar.done()
    console.log(values.json ? JSON.stringify(summary, null, 2) : summaryLine(summary))
    return 0
  } finally {
    conn.redis.disconnect()
    await conn.db.destroy()
    await conn.nc.close()
  }
}

function summaryLine(s: ReplaySummary): string {
  const types = Object.entries(s.byType).map(([t, n]) => `${t} ${n}`).join(', ')
  return `replayed ${s.events} events up to seq ${s.lastSeq} in ${(s.durationMs / 1000).toFixed(2)} s (${s.eventsPerSecond}/s; ${s.subtasks} subtasks)${types ? `: ${types}` : ''}${s.poison ? `; ${s.poison} undecodable skipped` : ''}`
}

async function mcp(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { session: { type: 'string' } } })
  const sessionId = values.session ?? process.env.DECOMPOSER_SESSION_ID ?? `mcp-${nuid.next()}`
  if (!sessionTokenPattern.test(sessionId)) return fail(`--session "${sessionId}" must be 1-128 of A-Z a-z 0-9 _ : -`)
  const log = createLogger(config.logLevel, { role: 'mcp', sessionId })
  const nc = await connectNats(config, { name: `decomposer-mcp-${sessionId}`, inboxPrefix: config.natsInboxPrefix })
  const bridge = await startMcpBridge(
    {
      nc,
      rpcPrefix: config.rpcPrefix,
      samplingSubjectPrefix: config.samplingSubjectPrefix,
      sessionId,
      rpcTimeoutMs: config.replyTimeoutMs + 5000,
      version,
      log,
    },
    new StdioServerTransport(),
  )
  process.once('SIGTERM', () => void bridge.close())
  process.once('SIGINT', () => void bridge.close())
  process.stdin.once('end', () => void bridge.close()) // the MCP client went away
  await bridge.closed
  await nc.drain()
  return 0
}

function report(reply: RpcReply, json: boolean, pretty: (result: unknown) => string): number {
  if (json) {
    console.log(JSON.stringify(reply, null, 2))
    return reply.error ? 2 : 0
  }
  if (reply.error) {
    const data = reply.error.data as { field?: string; reason?: string; retryAfterMs?: number } | undefined
    const hint = data?.reason ? (reasonHints[data.reason]?.(data) ?? '') : ''
    return fail(`error ${reply.error.code}${data?.reason ? ` ${data.reason}` : ''}: ${reply.error.message}${data?.field ? ` (field: ${data.field})` : ''}${hint}`, 2)
  }
  console.log(pretty(reply.result))
  return 0
}

/** What to do about an error, by its stable reason (never by its text). */
const reasonHints: Record<string, (data: { retryAfterMs?: number }) => string> = {
  rate_limited: (d) => `; retry in ${Math.ceil((d.retryAfterMs ?? 1000) / 1000)} s`,
  storage: () => '; a store is unavailable: retry later',
  shutting_down: () => '; the instance is stopping: retry (an --idempotency-key retry joins the same decomposition)',
  timeout: () => '; retry with the same --idempotency-key to join the decomposition',
  circuit_open: () => '; sampling is paused after repeated failures: retry later',
}

function fail(message: string, code = 1): number {
  process.stderr.write(`decomposer: ${redactSecrets(message, secrets)}\n`)
  return code
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof StorageError) {
      const store = (err.data?.store as string | undefined) ?? ''
      const reason = err.data?.reason === 'authorization' ? '_authorization' : ''
      process.exit(fail(`${err.message}; ${startHint[store + reason] ?? startHint[store] ?? ''}`.trim()))
    }
    if (err instanceof DecomposerError || err instanceof ConfigError) process.exit(fail(err.message))
    // nats.js's own error classes, never their message text.
    if (err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders())) {
      process.exit(fail('no decomposer service is listening (start it with `npm start`)'))
    }
    if (err instanceof TimeoutError || (err instanceof RequestError && err.cause instanceof TimeoutError)) {
      process.exit(fail('no reply from the service (is `decomposer start` running?)'))
    }
    process.exit(fail(`unexpected error: ${(err as Error).stack ?? String(err)}`))
  },
)
