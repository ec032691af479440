// Admission control for task.decompose: N decompositions per client per sliding minute, counted in
// Redis at admission (before anything is appended) and shared by every instance.
import { RateLimitedError } from '../errors.js'
import type { Keys } from '../store/keys.js'
import type { ProjectionCommands } from '../store/redis.js'
import { redisCall } from '../store/redis.js'

const windowMs = 60_000

export async function admit(
  deps: { redis: ProjectionCommands; keys: Keys },
  clientId: string,
  limit: number,
  nowMs: number,
  requestId: string,
): Promise<void> {
  if (limit <= 0) return
  const [admitted, retryAfterMs] = await redisCall(() =>
    deps.redis.slidingWindow(deps.keys.rateLimit(clientId), String(nowMs), String(windowMs), String(limit), requestId),
  )
  if (admitted !== 1) {
    throw new RateLimitedError(`Rate limit exceeded: at most ${limit} decompositions per minute per client`, {
      clientId,
      limit,
      windowMs,
      retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)),
    })
  }
}
