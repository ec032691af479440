// Anthropic Messages API through the official SDK, with structured output (`output_config.format`)
// from the same schema the validator uses, made strict by the SDK's own schema transform. The SDK
// retries transient failures (429, 5xx, connection errors) with backoff; the rest is the caller's.
import Anthropic from '@anthropic-ai/sdk'
import { transformJSONSchema } from '@anthropic-ai/sdk/lib/transform-json-schema'
import type { Sampler } from './sampler.js'
import { answerSchema, parseAnswer, promptVersion, systemPrompt, userPrompt } from './prompt.js'

export interface AnthropicSamplerOptions {
  baseURL?: string | undefined
  apiKey: string
  model: string
  maxTokens?: number
  maxRetries?: number
}

const outputSchema = transformJSONSchema(answerSchema)

export function createAnthropicSampler(opts: AnthropicSamplerOptions): Sampler {
  const client = new Anthropic({
    apiKey: opts.apiKey,
    ...(opts.baseURL ? { baseURL: opts.baseURL } : {}),
    maxRetries: opts.maxRetries ?? 3,
    timeout: 600_000, // the sampling timeout aborts earlier through the signal
  })
  return {
    name: 'anthropic',
    repairable: true,
    usesProfiles: true,
    async sample(request, signal) {
      const message = await client.messages.create(
        {
          model: opts.model,
          max_tokens: opts.maxTokens ?? 8192,
          system: systemPrompt(),
          messages: [{ role: 'user', content: userPrompt(request) }],
          output_config: { format: { type: 'json_schema', schema: outputSchema } },
        },
        { signal },
      )
      // Text blocks carry the answer; anything else (thinking, tool use) is not part of it.
      const text = message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('')
      return {
        output: parseAnswer(text),
        model: message.model || opts.model,
        promptVersion,
        usage: { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens },
      }
    },
  }
}
