// Decomposition timestamps against real Redis: unique across instances, and cheap under concurrency
// (one Redis call per decomposition when nothing else competes for the millisecond).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { defineProjectionCommands } from '../../src/store/redis.js'
import type { Keys } from '../../src/store/keys.js'
import { timestampClaimer } from '../../src/store/timestamp-claimer.js'
import { withRedis } from '../helpers/env.js'

/** A claimer on the real Redis whose calls are counted (the calls themselves go through). */
function countedClaimer(redis: ReturnType<typeof defineProjectionCommands>, keys: Keys, now: () => number) {
  const counted = { calls: 0, claim: (key: string, owner: string, ttl: string) => (counted.calls++, redis.claim(key, owner, ttl)) }
  return { counted, claimTimestamp: timestampClaimer({ redis: counted, keys, now }) }
}

test('64 concurrent claims on one instance take 64 distinct milliseconds in 64 Redis calls', async () => {
  await withRedis('tsclaim', async ({ redis, keys }) => {
    const frozen = 1_700_000_000_000
    const { counted, claimTimestamp } = countedClaimer(redis, keys, () => frozen)
    const got = await Promise.all(Array.from({ length: 64 }, (_, i) => claimTimestamp(`d-${i}`)))
    assert.is(new Set(got).size, 64)
    assert.equal([...got].sort((a, b) => a - b), Array.from({ length: 64 }, (_, i) => frozen + i))
    assert.is(counted.calls, 64)
  })
})

test('two instances with the same clock never share a millisecond', async () => {
  await withRedis('tsclaim2', async ({ redis, keys }) => {
    const frozen = 1_700_000_000_000
    const a = countedClaimer(redis, keys, () => frozen)
    const b = countedClaimer(redis, keys, () => frozen)
    const got = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).claimTimestamp(`d-${i}`)))
    assert.is(new Set(got).size, 100)
    // Collisions cost at most one extra round per claim, not a walk past every taken millisecond.
    assert.ok(a.counted.calls + b.counted.calls <= 200, `${a.counted.calls + b.counted.calls} calls`)
  })
})

test.run()
