// The offline sampler: the deterministic heuristic planner behind the Sampler interface.
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
      }),
      model: 'heuristic-planner',
      promptVersion: 'heuristic-1',
    }
  },
}
