// The configured samplers as one ordered fallback chain (SAMPLER=openai,heuristic): a provider
// that fails hands the request to the next one; the timeout covers the whole chain.
import type { NatsConnection } from '@nats-io/nats-core'
import type { Config } from '../config.js'
import { SamplerUnavailableError } from '../errors.js'
import type { Logger } from '../log.js'
import { createAnthropicSampler } from './anthropic.js'
import { heuristicSampler } from './heuristic.js'
import { createMcpSampler } from './mcp.js'
import { createOpenAiSampler } from './openai.js'
import type { Sampler } from './sampler.js'

export function chainSamplers(samplers: readonly Sampler[], log: Logger): Sampler {
  if (samplers.length === 1) return samplers[0]!
  return {
    name: samplers.map((s) => s.name).join(','),
    repairable: samplers.some((s) => s.repairable),
    usesProfiles: samplers.some((s) => s.usesProfiles),
    async sample(request, signal) {
      let lastError: unknown
      for (const s of samplers) {
        try {
          return { ...(await s.sample(request, signal)), provider: s.name }
        } catch (err) {
          if (signal.aborted) throw err
          lastError = err
          // A provider that cannot take the request (no bridge for the session) is routine; a
          // provider that tried and failed is worth an operator's attention.
          if (err instanceof SamplerUnavailableError) log.debug('sampler unavailable; trying the next one', { sampler: s.name, reason: err.message })
          else log.warn('sampler failed; trying the next one', { sampler: s.name, err: err as Error })
        }
      }
      throw lastError
    },
  }
}

/** `attached` tells the mcp sampler whether a session has a live bridge (see rpc/session-methods). */
export function samplersFromConfig(config: Config, log: Logger, nc: NatsConnection, attached: (owner: string, sessionId: string) => Promise<boolean>): Sampler {
  const build = (name: string): Sampler => {
    switch (name) {
      case 'heuristic':
        return heuristicSampler
      case 'mcp':
        return createMcpSampler({ nc, subjectPrefix: config.samplingSubjectPrefix, timeoutMs: config.samplingTimeoutMs, attached })
      case 'anthropic':
        return createAnthropicSampler({ baseURL: config.anthropicBaseUrl, apiKey: config.anthropicApiKey ?? '', model: config.anthropicModel })
      case 'openai':
        return createOpenAiSampler({ baseURL: config.openaiBaseUrl, apiKey: config.openaiApiKey ?? 'not-needed', model: config.openaiModel })
      default:
        throw new Error(`unknown sampler "${name}"`)
    }
  }
  return chainSamplers(config.samplers.map(build), log)
}
