// Structured logs: one JSON object a line on stderr (stdout belongs to CLI output). Quiet by
// default: `info` and above; LOG_LEVEL=debug for more, LOG_LEVEL=silent for none.
// Every string that reaches a line has `scheme://user:password@` userinfo masked: callers redact
// what they know is secret, and this catches the URL someone forgot (a driver's error message).
import { scrubUserinfo } from './redact.js'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  child(fields: Record<string, unknown>): Logger
}

export function createLogger(
  level: LogLevel,
  base: Record<string, unknown> = {},
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Logger {
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (rank[lvl] < rank[level]) return
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg: scrubUserinfo(msg), ...serialize(base), ...serialize(fields) }))
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(level, { ...base, ...fields }, write),
  }
}

function serialize(fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!fields) return fields
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(fields)) out[k] = scrub(v)
  return out
}

/** Errors become {name, message, cause}; strings are scrubbed at any depth of plain objects and arrays. */
function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubUserinfo(value)
  if (value instanceof Error) {
    return { name: value.name, message: scrubUserinfo(value.message), ...(value.cause ? { cause: scrubUserinfo(String(value.cause)) } : {}) }
  }
  if (depth >= 8 || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1))
  const proto = Object.getPrototypeOf(value) as unknown
  if (proto !== Object.prototype && proto !== null) return value // class instances keep their own toJSON
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = scrub(v, depth + 1)
  return out
}

export const silentLogger: Logger = createLogger('silent')
