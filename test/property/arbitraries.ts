// Generators of JSON-RPC requests for the fuzz test: valid-ish params for every method, and
// hostile ones that the service must refuse whatever else they hold.
import fc from 'fast-check'
import { limits } from '../../src/rpc/limits.js'
import type { Case } from './rpc-model.js'

export const methods = [
  'task.create',
  'task.decompose',
  'swarm.decompose',
  'task.get_decomposition',
  'task.create_attachment',
  'task.get_attachment',
  'task.list_attachments',
  'system.register',
  'system.heartbeat',
  'mcp.attach',
  'mcp.detach',
] as const
type Method = (typeof methods)[number]

const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined })
const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 30 }), fc.constantFrom('Add a login page', 'Fix the export bug'))
const nonBlank = text.filter((s) => s.trim() !== '')
const taskId = fc.oneof(
  { weight: 6, arbitrary: fc.constant('t-fz') },
  { weight: 1, arbitrary: fc.constantFrom('t-missing', 't.bad', '') },
  { weight: 2, arbitrary: fc.stringMatching(/^t-[a-z0-9]{1,10}$/) },
)
const key = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('k1', 'k2') }, { weight: 1, arbitrary: fc.constant('bad key') }, { weight: 2, arbitrary: fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/) })
const smallJson = fc.jsonValue({ maxDepth: 3 })
const metadata = fc.dictionary(fc.string({ maxLength: 6 }), smallJson, { maxKeys: 4 })
const priority = fc.oneof(fc.integer({ min: -5, max: 105 }), fc.double({ noNaN: true, min: 0, max: 100 }))

/** Params that are plausible for the method: many are accepted, some miss by a little. */
const validishParams: Record<Method, fc.Arbitrary<Record<string, unknown>>> = {
  'task.create': fc.record({ taskId: opt(taskId), title: nonBlank, description: opt(text), priority: opt(priority), metadata: opt(metadata) }),
  'task.decompose': fc.record({ taskId, task: nonBlank, priority: opt(priority), constraints: opt(fc.array(nonBlank, { maxLength: 3 })), metadata: opt(metadata) }),
  'swarm.decompose': fc.record({ taskId, task: nonBlank }),
  'task.get_decomposition': fc.record({ taskId }),
  'task.create_attachment': fc.record({ taskId, key, value: smallJson, type: opt(fc.constantFrom('json', 'text', 'Bad')), createdBy: opt(nonBlank) }),
  'task.get_attachment': fc.record({ taskId, key }),
  'task.list_attachments': fc.record({ taskId, limit: opt(fc.integer({ min: -1, max: 1001 })), offset: opt(fc.integer({ min: -1, max: 5 })) }),
  'system.register': fc.record({
    id: fc.stringMatching(/^i-[a-z0-9]{1,4}$/),
    roles: fc.array(fc.constantFrom('frontend', 'backend', 'qa', 'Bad Role'), { maxLength: 3 }),
    metadata: opt(metadata),
  }),
  'system.heartbeat': fc.record({ id: fc.stringMatching(/^i-[a-z0-9]{1,4}$/) }),
  'mcp.attach': fc.record({ sessionId: fc.stringMatching(/^[a-z0-9]{1,8}$/) }),
  'mcp.detach': fc.record({ sessionId: fc.stringMatching(/^[a-z0-9]{1,8}$/) }),
}

// What makes a request unacceptable wherever it appears in params.
const poison = fc.constantFrom('\u0000', '\uD800', '\uDBFF', '\uDC00', '\uDFFF')
const poisonText = fc.tuple(fc.string({ maxLength: 8 }), poison, fc.string({ maxLength: 8 })).map(([a, p, b]) => a + p + b)
const nest = (n: number, leaf: unknown): unknown => {
  let v = leaf
  for (let i = 0; i < n; i++) v = i % 3 === 0 ? [v] : { n: v }
  return v
}
const tooDeep = fc.integer({ min: limits.depth + 1, max: 400 }).map((n) => nest(n, 1))
const hostileValue = fc.oneof(
  poisonText,
  tooDeep,
  fc.array(poisonText, { minLength: 1, maxLength: 3 }),
  fc.dictionary(poisonText, fc.string({ maxLength: 4 }), { minKeys: 1, maxKeys: 2 }),
  fc.tuple(fc.integer({ min: 1, max: 5 }), poisonText).map(([n, s]) => nest(n, s)),
)
/** A body over the request limit (refused before parsing). */
const hugeText = fc.integer({ min: 1, max: 40_000 }).map((n) => 'h'.repeat(limits.requestBytes + n))
const wrongTyped = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.string({ maxLength: 5 }))

const methodArb = fc.constantFrom(...methods)
const idArb = fc.oneof(
  { weight: 5, arbitrary: fc.integer() },
  { weight: 5, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.constant(undefined) }, // a notification
  { weight: 1, arbitrary: fc.oneof(fc.boolean(), fc.constant({}), fc.constant([1])) }, // not a valid id
)
const headerArb = fc.record({
  'Client-Id': opt(
    fc.oneof(
      { weight: 10, arbitrary: fc.constantFrom('fz-a', 'fz-b') },
      { weight: 1, arbitrary: fc.constant('c'.repeat(limits.headerChars + 1)) },
      { weight: 1, arbitrary: poisonText.map((s) => s.replace(/[\r\n]/g, '')) }, // NATS headers cannot carry CR/LF
    ),
  ),
  'Session-Id': opt(fc.constantFrom('s-1', 's-2')),
  'Idempotency-Key': opt(fc.constantFrom('k-1', 'k-2')),
})

/** A params object for `method` with one hostile value at a known or unknown field. */
const poisonedParams = (method: Method) =>
  fc.tuple(validishParams[method], fc.constantFrom(...Object.keys(fieldsOf(method)), 'metadata', 'unknownField'), hostileValue).map(([p, k, v]) => ({ ...p, [k]: v }))
function fieldsOf(method: Method): Record<string, true> {
  const names: Record<Method, string[]> = {
    'task.create': ['title', 'description', 'taskId'],
    'task.decompose': ['task', 'constraints', 'taskId'],
    'swarm.decompose': ['task', 'taskId'],
    'task.get_decomposition': ['taskId'],
    'task.create_attachment': ['value', 'key', 'createdBy'],
    'task.get_attachment': ['key', 'taskId'],
    'task.list_attachments': ['type', 'taskId'],
    'system.register': ['roles', 'id'],
    'system.heartbeat': ['id'],
    'mcp.attach': ['sessionId'],
    'mcp.detach': ['sessionId'],
  }
  return Object.fromEntries(names[method].map((n) => [n, true as const]))
}

/** One request that must be refused: poisoned params, or an envelope that is wrong. */
const hostileItem: fc.Arbitrary<Record<string, unknown> | unknown> = fc.oneof(
  { weight: 8, arbitrary: methodArb.chain((m) => fc.record({ jsonrpc: fc.constant('2.0'), method: fc.constant(m), params: poisonedParams(m), id: idArb })) },
  { weight: 1, arbitrary: fc.record({ jsonrpc: fc.constant('2.0'), method: fc.constantFrom('task.nope', 'toString', '__proto__', ''), params: validishParams['task.create'], id: idArb }) },
  { weight: 1, arbitrary: fc.record({ jsonrpc: fc.constantFrom('1.0', 2, undefined), method: methodArb, params: validishParams['task.create'], id: idArb }) },
  { weight: 1, arbitrary: fc.record({ jsonrpc: fc.constant('2.0'), method: methodArb, params: fc.oneof(fc.string(), fc.integer(), fc.constant(null)), id: idArb }) },
  { weight: 1, arbitrary: fc.record({ jsonrpc: fc.constant('2.0'), method: fc.constant('task.create'), params: validishParams['task.create'], id: fc.constantFrom(true, {}, [1]) }) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 })) },
)

const withHugeField = fc.tuple(hugeText, idArb).map(([s, id]) => ({ jsonrpc: '2.0', method: 'task.create', params: { title: s }, id }))

/** Wraps request bodies into a case: generic or method subject, batch or single, headers. */
function cases(item: fc.Arbitrary<unknown>, hostile: boolean): fc.Arbitrary<Case> {
  const single = fc.tuple(item, fc.boolean(), headerArb).map(([body, toBound, headers]): Case => {
    const method = (body as { method?: unknown })?.method
    const bound = toBound && typeof method === 'string' && (methods as readonly string[]).includes(method) ? method : undefined
    return { body, ...(bound ? { bound } : {}), headers, hostile }
  })
  const batch = fc.tuple(fc.array(item, { minLength: 1, maxLength: 6 }), headerArb).map(([body, headers]): Case => ({ body, headers, hostile }))
  const envelopeOnly = fc.oneof(
    fc.constant<Case>({ body: [], headers: {}, hostile }),
    fc.tuple(item, headerArb).map(([one, headers]): Case => ({ body: Array(limits.batchItems + 1).fill(one), headers, hostile })),
    fc.tuple(item, fc.nat()).map(([one, cut]): Case => {
      const text = JSON.stringify({ wrap: one })
      return { body: null, raw: text.slice(0, cut % text.length), headers: {}, hostile }
    }),
    withHugeField.map((body): Case => ({ body, headers: {}, hostile })),
    fc.tuple(item, fc.constantFrom(...methods)).map(([one, bound]): Case => ({ body: [one], bound, headers: {}, hostile })),
  )
  return fc.oneof({ weight: 12, arbitrary: single }, { weight: 4, arbitrary: batch }, { weight: 1, arbitrary: envelopeOnly })
}

const validishItem = methodArb.chain((m) =>
  fc.record({
    jsonrpc: fc.constant('2.0'),
    method: fc.constant(m),
    params: fc.oneof({ weight: 6, arbitrary: validishParams[m] }, { weight: 1, arbitrary: wrongTyped }, { weight: 1, arbitrary: validishParams[m].map((p) => ({ ...p, extra: 1 })) }),
    id: idArb,
  }),
)

/** Cases in which every request is refused. */
export const hostileCase = cases(hostileItem, true)
/** Anything: valid-ish and hostile requests side by side. */
export const anyCase = cases(fc.oneof({ weight: 3, arbitrary: validishItem }, { weight: 1, arbitrary: hostileItem }), false)
