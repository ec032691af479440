// Subtask ids are `st-<ms>-<n>` and attachment keys `decomposition_<ms>`, so two decompositions must
// never share a millisecond, across all instances. Each decomposition claims its millisecond in
// Redis; a millisecond taken by another instance moves it to the next one. Claims live a day: far
// longer than any clock skew between instances.
//
// Within one instance the next millisecond is reserved *before* the Redis call, so concurrent
// claims here never race each other for the same one (they used to: 64 concurrent decompositions
// all tried `last + 1`, and each made several round trips before finding a free millisecond).
// Past 1,000 decompositions a second across the cluster the claimed timestamps run ahead of the
// clock; they catch up as soon as the rate drops.
import type { Keys } from './keys.js'
import type { ProjectionCommands } from './redis.js'
import { redisCall } from './redis.js'

export const timestampClaimTtlMs = 86_400_000

export interface TimestampClaimerDeps {
  redis: Pick<ProjectionCommands, 'claim'>
  keys: Pick<Keys, 'timestampClaim'>
  now: () => number
}

export type ClaimTimestamp = (owner: string) => Promise<number>

export function timestampClaimer(deps: TimestampClaimerDeps): ClaimTimestamp {
  let next = 0 // the lowest millisecond this instance has not tried yet
  return async (owner) => {
    for (;;) {
      const ms = Math.max(deps.now(), next)
      next = ms + 1
      const got = await redisCall(() => deps.redis.claim(deps.keys.timestampClaim(ms), owner, String(timestampClaimTtlMs)))
      if (got === 1) return ms
    }
  }
}
