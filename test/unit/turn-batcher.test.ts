// Turn batching: what is asked for in one event-loop turn is done in one call; a failed batch
// fails only the items that fail on their own.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { turnBatcher } from '../../src/store/turn-batcher.js'
import { atEndOfTurn, endOfTurn } from '../../src/store/turn-batch.js'

test('items asked for in one turn are written in one call; the next turn starts a new batch', async () => {
  const calls: number[][] = []
  const write = turnBatcher<number>(async (items) => {
    calls.push(items)
  })
  await Promise.all([write(1), write(2), write(3)])
  await write(4)
  assert.equal(calls, [[1, 2, 3], [4]])
})

test('a failed batch is retried item by item: only the bad item fails', async () => {
  const calls: number[][] = []
  const write = turnBatcher<number>(async (items) => {
    calls.push(items)
    if (items.includes(2)) throw new Error('bad item 2')
  })
  const results = await Promise.allSettled([write(1), write(2), write(3)])
  assert.equal(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled'])
  assert.match(String((results[1] as PromiseRejectedResult).reason), /bad item 2/)
  assert.equal(calls, [[1, 2, 3], [1], [2], [3]])
})

test('deferred work runs after the current turn, all of it together and in order', async () => {
  const seen: string[] = []
  atEndOfTurn(() => seen.push('a'))
  const waited = endOfTurn().then(() => seen.push('awaited'))
  atEndOfTurn(() => seen.push('b'))
  seen.push('sync')
  await waited
  assert.equal(seen, ['sync', 'a', 'b', 'awaited'])
})

test('a deferred write that throws does not stop the others or strand the turn', async () => {
  const seen: string[] = []
  atEndOfTurn(() => seen.push('a'))
  atEndOfTurn(() => {
    throw new Error('connection closed')
  })
  atEndOfTurn(() => seen.push('c'))
  await endOfTurn()
  assert.equal(seen, ['a', 'c'])
})

test.run()
