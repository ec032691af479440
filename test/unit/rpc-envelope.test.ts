import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createDispatcher } from '../../src/rpc/dispatcher.js'
import { InvalidParamsError } from '../../src/errors.js'
import { parseParams, TaskDecomposeParams } from '../../src/rpc/params.js'
import { silentLogger } from '../../src/log.js'

// A method table of plain functions: the dispatcher is transport-free by design.
const calls: unknown[] = []
const dispatcher = createDispatcher(
  {
    echo: async (params) => {
      calls.push(params)
      return params
    },
    boom: async () => {
      throw new Error('secret internal detail')
    },
    strict: async (params) => parseParams(TaskDecomposeParams, params),
  },
  silentLogger,
)
const send = async (body: unknown, bound?: string) => {
  const out = await dispatcher.dispatch(typeof body === 'string' ? body : JSON.stringify(body), {}, bound)
  return out.body === undefined ? undefined : JSON.parse(out.body)
}

test('success echoes the id', async () => {
  assert.equal(await send({ jsonrpc: '2.0', method: 'echo', params: { a: 1 }, id: 7 }), { jsonrpc: '2.0', result: { a: 1 }, id: 7 })
})

test('malformed JSON → -32700 with id null', async () => {
  const r = await send('{"jsonrpc": "2.0", "method": ')
  assert.is(r.error.code, -32700)
  assert.is(r.id, null)
})

test('invalid envelopes → -32600, echoing the id when readable', async () => {
  assert.is((await send({ method: 'echo', id: 1 })).error.code, -32600)
  assert.is((await send({ jsonrpc: '2.0', method: 'echo', id: 1 })).result !== undefined, true)
  const r = await send({ jsonrpc: '1.0', method: 'echo', id: 'x' })
  assert.is(r.error.code, -32600)
  assert.is(r.id, 'x')
  assert.is((await send({ jsonrpc: '2.0', method: 42, id: 1 })).error.code, -32600)
  assert.is((await send({ jsonrpc: '2.0', method: 'echo', params: 'str', id: 1 })).error.code, -32600)
  assert.is((await send([])).error.code, -32600)
  assert.is((await send(5)).error.code, -32600)
})

test('unknown method → -32601, even for inherited object keys', async () => {
  assert.is((await send({ jsonrpc: '2.0', method: 'nope', id: 1 })).error.code, -32601)
  assert.is((await send({ jsonrpc: '2.0', method: 'toString', id: 1 })).error.code, -32601)
})

test('internal errors hide their details', async () => {
  const r = await send({ jsonrpc: '2.0', method: 'boom', id: 1 })
  assert.equal(r.error, { code: -32603, message: 'Internal error', data: { reason: 'internal' } })
})

test('notifications get no response but still run', async () => {
  calls.length = 0
  assert.is(await send({ jsonrpc: '2.0', method: 'echo', params: { n: 1 } }), undefined)
  assert.equal(calls, [{ n: 1 }])
})

test('batches answer each request and skip notifications', async () => {
  const r = await send([
    { jsonrpc: '2.0', method: 'echo', params: { a: 1 }, id: 1 },
    { jsonrpc: '2.0', method: 'echo', params: { a: 2 } },
    { jsonrpc: '2.0', method: 'nope', id: 3 },
    'garbage',
  ])
  assert.is(r.length, 3)
  assert.equal(r[0], { jsonrpc: '2.0', result: { a: 1 }, id: 1 })
  assert.is(r[1].error.code, -32601)
  assert.is(r[2].error.code, -32600)
})

test('a method subject takes only its own method, and no batches', async () => {
  assert.ok((await send({ jsonrpc: '2.0', params: { a: 1 }, id: 1 }, 'echo')).result)
  assert.is((await send({ jsonrpc: '2.0', method: 'boom', id: 1 }, 'echo')).error.code, -32600)
  assert.is((await send([{ jsonrpc: '2.0', method: 'echo', id: 1 }], 'echo')).error.code, -32600)
})

const invalid = async (params: unknown, field: string) => {
  const r = await send({ jsonrpc: '2.0', method: 'strict', params, id: 1 })
  assert.is(r.error?.code, -32602, JSON.stringify(r))
  assert.is(r.error.data.field, field, JSON.stringify(r.error))
}

test('bad params → -32602 naming the field', async () => {
  await invalid({ task: 'x' }, 'taskId')
  await invalid({ taskId: 't-1' }, 'task')
  await invalid({ taskId: 't-1', task: 'x'.repeat(1001) }, 'task')
  await invalid({ taskId: 't-1', task: '   ' }, 'task')
  await invalid({ taskId: 't-1', task: 'x', priority: 101 }, 'priority')
  await invalid({ taskId: 't-1', task: 'x', priority: -1 }, 'priority')
  await invalid({ taskId: 't-1', task: 'x', priority: 'high' }, 'priority')
  await invalid({ taskId: 't-1', task: 'x', constraints: ['ok', 3] }, 'constraints[1]')
  await invalid({ taskId: 't-1', task: 'x', metadata: [] }, 'metadata')
  await invalid({ taskId: 't-1', task: 'x', priorty: 5 }, 'priorty')
  await invalid(['t-1', 'x'], 'params')
  for (const bad of ['a.b', 'a*', 'a>', 'a b', '>', '', 'x'.repeat(129), 'a\nb']) await invalid({ taskId: bad, task: 'x' }, 'taskId')
})

test('InvalidParamsError lists every issue', () => {
  try {
    parseParams(TaskDecomposeParams, { taskId: 'a.b', task: '', priority: 500 })
    assert.unreachable()
  } catch (err) {
    assert.instance(err, InvalidParamsError)
    assert.ok(((err as InvalidParamsError).data!.issues as unknown[]).length >= 3)
  }
})

test.run()
