// The offline sampler: the deterministic heuristic planner behind the Sampler interface. It plans
// within the request's limits; its answer is marked `offline`, so an invalid one is reported as
// our bug (PlannerBugError), never repaired and never counted as a provider outage.
import { planDecomposition } from '../domain/heuristic-planner.js'
import type { Sampler } from './sampler.js'

export const heuristicSampler: Sampler = {
  name: 'heuristic',
  repairable: false,
  async sample(request) {
    return {
      output: planDecomposition({
        task: request.task,
        constraints: request.constraints,
        priority: request.priority,
        specialists: request.specialists,
        ...(request.limits ? { maxSubtasks: request.limits.maxSubtasks, maxBytes: request.limits.maxBytes } : {}),
      }),
      model: 'heuristic-planner',
      promptVersion: 'heuristic-1',
      offline: true,
    }
  },
}
