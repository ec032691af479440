// The admission limits and the storable-text checker, as pure functions, and the dispatcher that
// applies them (transport-free), including the bounded batch.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { displayable, findUnstorableText, isStorableText } from '../../src/domain/storable-text.js'
import { admitParams, checkBatchLength, checkHeaders, checkRequestBytes, limits, tooDeepAt } from '../../src/rpc/limits.js'
import { CreateAttachmentParams, TaskCreateParams, TaskDecomposeParams, parseParams } from '../../src/rpc/params.js'
import { InvalidParamsError } from '../../src/errors.js'
import { createDispatcher, headerFailure } from '../../src/rpc/dispatcher.js'
import { mostCommonRoles } from '../../src/store/specialist-registry.js'
import { silentLogger } from '../../src/log.js'

const nested = (depth: number): unknown => {
  let v: unknown = 'leaf'
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v }
  return v
}

const refusal = (fn: () => unknown): { field: string; reason: string } => {
  try {
    fn()
  } catch (err) {
    assert.instance(err, InvalidParamsError)
    return (err as InvalidParamsError).data as { field: string; reason: string }
  }
  throw new Error('expected a refusal')
}

test('storable text: NUL and unpaired surrogates are refused, pairs and everything else pass', () => {
  for (const ok of ['', 'plain', 'émoji 😀', '\u{10FFFF}', 'tab\tnew\nline', '\uFFFD']) assert.ok(isStorableText(ok), JSON.stringify(ok))
  for (const bad of ['\u0000', 'a\u0000b', '\uD800', 'x\uDC00', '\uD83D', '\uDE00\uD83D']) assert.not.ok(isStorableText(bad), JSON.stringify(bad))
  assert.is(displayable('a\u0000\uD800'), 'a\uFFFD\uFFFD')
})

test('findUnstorableText names the first offending value or key, at any depth', () => {
  assert.is(findUnstorableText({ a: 'ok', b: ['x', { c: 1 }] }), undefined)
  assert.is(findUnstorableText({ title: 'a\u0000' }), '/title')
  assert.is(findUnstorableText({ constraints: ['ok', 'bad\uD800'] }), '/constraints/1')
  assert.is(findUnstorableText({ metadata: { deep: { list: [1, 'x\u0000'] } } }), '/metadata/deep/list/1')
  assert.is(findUnstorableText({ metadata: { 'k\u0000': 1 } }), '/metadata/k\uFFFD', 'the key is shown displayable')
  assert.is(findUnstorableText({ a: 'first\u0000', b: 'second\u0000' }), '/a')
  assert.is(findUnstorableText({ 'a/b': 'x\u0000' }), '/a~1b')
  assert.is(findUnstorableText(nested(100_000)), undefined, 'iterative: no stack overflow')
})

test('tooDeepAt: bounded, iterative, names where the limit is crossed', () => {
  assert.is(tooDeepAt({ a: 1 }, 1), undefined)
  assert.is(tooDeepAt({ a: { b: 1 } }, 1), '/a')
  assert.is(tooDeepAt(nested(limits.depth)), undefined)
  assert.ok(tooDeepAt(nested(limits.depth + 1)) !== undefined)
  assert.is(tooDeepAt(JSON.parse('['.repeat(200_000) + ']'.repeat(200_000))), '/0'.repeat(limits.depth))
})

test('admitParams: depth first, then storable text; every refusal has field and reason', () => {
  assert.equal(refusal(() => admitParams({ metadata: nested(200) })), refusal(() => admitParams({ metadata: nested(200) })))
  assert.is(refusal(() => admitParams({ metadata: nested(200) })).reason, 'too_deep')
  assert.is(refusal(() => admitParams({ task: 'x\u0000' })).field, 'task')
  assert.is(refusal(() => admitParams({ task: 'x\u0000' })).reason, 'unstorable_text')
  // a deep value that also holds NUL is refused for its depth: nothing walks it further
  assert.is(refusal(() => admitParams({ a: 'x\u0000', b: nested(100) })).reason, 'too_deep')
  admitParams({ taskId: 't-1', task: 'fine 😀', metadata: { a: [1, { b: null }] } })
})

test('request bytes, batch length and headers', () => {
  assert.is(checkRequestBytes('x'.repeat(limits.requestBytes)), undefined)
  assert.is(checkRequestBytes('x'.repeat(limits.requestBytes + 1))?.data?.['reason'], 'too_large')
  // counted in UTF-8 bytes, not characters
  assert.is(checkRequestBytes('é'.repeat(limits.requestBytes / 2 + 1))?.data?.['reason'], 'too_large')
  assert.is(checkBatchLength(limits.batchItems), undefined)
  assert.is(checkBatchLength(limits.batchItems + 1)?.data?.['reason'], 'too_many_items')
  assert.is(checkHeaders({ clientId: 'app', sessionId: 's', idempotencyKey: 'k' }), undefined)
  assert.equal(checkHeaders({ clientId: 'a\u0000' })?.data, { field: 'Client-Id', reason: 'unstorable_text' })
  assert.is(checkHeaders({ idempotencyKey: 'k'.repeat(limits.headerChars + 1) })?.data?.['field'], 'Idempotency-Key')
})

test('parseParams: byte limits on free-form JSON, stable reasons on schema failures', () => {
  const big = { blob: 'x'.repeat(limits.metadataBytes) }
  assert.equal(
    (({ field, reason }) => ({ field, reason }))(refusal(() => parseParams(TaskCreateParams, { title: 't', metadata: big }))),
    { field: 'metadata', reason: 'too_large' },
  )
  const value = 'v'.repeat(limits.attachmentValueBytes)
  assert.is(refusal(() => parseParams(CreateAttachmentParams, { taskId: 't', key: 'k', value })).reason, 'too_large')
  parseParams(CreateAttachmentParams, { taskId: 't', key: 'k', value: 'v'.repeat(limits.attachmentValueBytes - 2) })
  assert.is(refusal(() => parseParams(TaskDecomposeParams, { taskId: 't', task: 'x'.repeat(1001) })).reason, 'too_large')
  assert.is(refusal(() => parseParams(TaskDecomposeParams, { taskId: 't', task: 'x', constraints: Array(51).fill('c') })).reason, 'too_many_items')
  assert.is(refusal(() => parseParams(TaskDecomposeParams, { taskId: 't', task: 5 })).reason, 'invalid')
  assert.is(refusal(() => parseParams(TaskDecomposeParams, { taskId: 't', task: 'x', bogus: 1 })).reason, 'invalid')
  assert.is(refusal(() => parseParams(TaskDecomposeParams, { taskId: 't', task: 'x', metadata: { k: 'v\uDFFF' } })).field, 'metadata.k')
})

test('most common roles: a bounded, deterministic cut; general kept for activeSpecialists', () => {
  const inst = (...roles: string[]) => ({ roles, metadata: {} })
  const instances = [inst('b', 'a'), inst('b'), inst('c', 'general'), inst('d'), inst('d')]
  assert.equal(mostCommonRoles(instances, 2), ['b', 'd'])
  assert.equal(mostCommonRoles(instances, 10), ['b', 'd', 'a', 'c'])
  assert.equal(mostCommonRoles([inst('general')], 5), ['general'])
  assert.equal(mostCommonRoles([], 5), [])
  const many = Array.from({ length: 5000 }, (_, i) => inst(`r${i}`))
  assert.is(mostCommonRoles(many, limits.specialistsPerDecomposition - 1).length, limits.specialistsPerDecomposition - 1)
})

// The dispatcher applies all of it before any handler runs.
let runs = 0
const dispatcher = createDispatcher(
  {
    big: async (params) => {
      runs++
      return 'x'.repeat((params as { bytes: number }).bytes)
    },
    echo: async (params) => {
      runs++
      return params
    },
  },
  silentLogger,
  {},
  { replyBytes: 10_000 },
)
const send = async (body: unknown, ctx = {}) => {
  const out = await dispatcher.dispatch(typeof body === 'string' ? body : JSON.stringify(body), ctx)
  return out.body === undefined ? undefined : JSON.parse(out.body)
}
const req = (method: string, params: unknown, id: unknown = 1) => ({ jsonrpc: '2.0', method, params, id })

test('dispatcher: refusals happen before the handler, echo the id, and carry a reason', async () => {
  runs = 0
  const deep = await send(req('echo', { a: nested(100) }, 'd'))
  assert.equal([deep.id, deep.error.code, deep.error.data.reason], ['d', -32602, 'too_deep'])
  const deepBody = `{"jsonrpc":"2.0","method":"echo","id":7,"params":${'['.repeat(5000)}${']'.repeat(5000)}}`
  const r5000 = await send(deepBody)
  assert.equal([r5000.id, r5000.error.code, r5000.error.data.reason], [7, -32602, 'too_deep'])
  const nul = await send(req('echo', { title: 'a\u0000' }, 2))
  assert.equal([nul.id, nul.error.code, nul.error.data.field, nul.error.data.reason], [2, -32602, 'title', 'unstorable_text'])
  const header = await send(req('echo', {}, 3), { clientId: 'c\u0000' })
  assert.equal([header.id, header.error.data.field], [3, 'Client-Id'])
  const huge = await send(req('echo', { s: 'x'.repeat(limits.requestBytes) }, 4))
  assert.equal([huge.id, huge.error.code, huge.error.data.reason], [null, -32600, 'too_large'])
  const batch = await send(Array.from({ length: limits.batchItems + 1 }, (_, i) => req('echo', {}, i)))
  assert.equal([batch.error.code, batch.error.data.reason], [-32600, 'too_many_items'])
  assert.is(runs, 0, 'no handler ran')
  assert.is(await send({ jsonrpc: '2.0', method: 'echo', params: { a: 'x\u0000' } }), undefined, 'a refused notification still gets no reply')
})

test('dispatcher: one reply budget per batch; what does not fit is an error, what is left is not run', async () => {
  runs = 0
  const r = await send(Array.from({ length: 10 }, (_, i) => req('big', { bytes: 3000 }, i)))
  assert.is(r.length, 10)
  assert.equal(
    r.map((x: { id: number }) => x.id),
    Array.from({ length: 10 }, (_, i) => i),
  )
  const ok = r.filter((x: { result?: string }) => x.result !== undefined).length
  assert.ok(ok >= 1 && ok <= 3, `${ok} results fit in 10,000 bytes`)
  const reasons = new Set(r.filter((x: { error?: unknown }) => x.error).map((x: { error: { data: { reason: string } } }) => x.error.data.reason))
  assert.ok([...reasons].every((x) => x === 'reply_too_large' || x === 'batch_budget_exhausted'), [...reasons].join())
  assert.ok(runs < 10, `${runs} items ran: the rest were not started`)
  assert.ok(JSON.stringify(r).length < 12_000)
  const single = await send(req('big', { bytes: 20_000 }, 'one'))
  assert.equal([single.id, single.error.code, single.error.data.reason, single.error.data.executed], ['one', -32602, 'reply_too_large', true])
})

test('headerFailure: -32600 with the id when the body is readable, nothing for a notification', () => {
  const single = JSON.parse(headerFailure(JSON.stringify(req('echo', {}, 9))).body!)
  assert.equal([single.id, single.error.code, single.error.data.reason], [9, -32600, 'invalid_headers'])
  assert.is(headerFailure(JSON.stringify({ jsonrpc: '2.0', method: 'echo' })).body, undefined)
  assert.is(JSON.parse(headerFailure('not json').body!).id, null)
})

test.run()
