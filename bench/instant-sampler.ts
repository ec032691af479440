// A sampler that answers at once with a valid decomposition of `size` subtasks, so the bench
// measures the service and not an LLM. Half the subtasks are independent, half depend on one of
// them: the release step and the queues see real work.
import type { Sampler } from '../src/sampling/sampler.js'

export function instantSampler(): Sampler & { size: number } {
  const specialists = ['frontend', 'backend', 'testing', 'docs']
  const s = {
    name: 'instant',
    repairable: false,
    size: 4,
    async sample() {
      const n = s.size
      const half = Math.max(1, Math.floor(n / 2))
      return {
        output: {
          subtasks: Array.from({ length: n }, (_, i) => ({
            id: `s${i}`,
            description: `Bench subtask ${i}`,
            specialist: specialists[i % specialists.length]!,
            dependencies: i < half ? [] : [`s${i - half}`],
            complexity: 10 + (i % 50),
            estimatedMinutes: 30,
            context: { files: [`src/file${i}.ts`] },
            rationale: 'bench',
          })),
          reasoning: 'instant bench decomposition',
        },
      }
    },
  }
  return s
}
