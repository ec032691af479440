// The configured samplers as one ordered fallback chain (SAMPLER=openai,heuristic): a provider
// that fails hands the request to the next one; the timeout covers the whole chain.
import type { Config } from '../config.js'
import type { Logger } from '../log.js'
import { heuristicSampler } from './heuristic.js'
import { createOpenAiSampler } from './openai.js'
import type { Sampler } from './sampler.js'

export function chainSamplers(samplers: readonly Sampler[], log: Logger): Sampler {
  if (samplers.length === 1) return samplers[0]!
  return {
    name: samplers.map((s) => s.name).join(','),
    repairable: samplers.some((s) => s.repairable),
    async sample(request, signal) {
      let lastError: unknown
      for (const s of samplers) {
        try {
          return { ...(await s.sample(request, signal)), provider: s.name }
        } catch (err) {
          if (signal.aborted) throw err
          lastError = err
          log.warn('sampler failed; trying the next one', { sampler: s.name, err: err as Error })
        }
      }
      throw lastError
    },
  }
}

export function samplersFromConfig(config: Config, log: Logger): Sampler {
  const build = (name: string): Sampler => {
    switch (name) {
      case 'heuristic':
        return heuristicSampler
      case 'openai':
        return createOpenAiSampler({ baseURL: config.openaiBaseUrl, apiKey: config.openaiApiKey ?? 'not-needed', model: config.openaiModel })
      default:
        throw new Error(`unknown sampler "${name}"`)
    }
  }
  return chainSamplers(config.samplers.map(build), log)
}
