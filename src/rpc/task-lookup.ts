// "Does this task exist?" Fast path: the Redis projection. Then the log itself, which is never
// behind (a task created a millisecond ago is found). Then Postgres, where tasks created by other
// systems live as plain rows.
import { NotFoundError } from '../errors.js'
import { findTask, pgCall } from '../store/postgres.js'
import { redisCall } from '../store/redis.js'
import type { MethodDeps } from './method-deps.js'

export async function ensureTaskExists(deps: Pick<MethodDeps, 'redis' | 'keys' | 'store' | 'db'>, taskId: string): Promise<void> {
  if ((await redisCall(() => deps.redis.exists(deps.keys.task(taskId)))) === 1) return
  if (await deps.store.last(deps.store.taskSubject(taskId))) return
  if (await pgCall(() => findTask(deps.db, taskId))) return
  throw new NotFoundError(`Task ${taskId} not found`, { field: 'taskId', taskId })
}
