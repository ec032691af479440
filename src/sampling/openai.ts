// OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, llama.cpp server, LM Studio) through the
// official SDK, with structured output from the same schema the validator uses. The SDK retries
// transient failures (429, 5xx, connection errors) with backoff; everything else is the caller's.
import OpenAI from 'openai'
import type { Sampler } from './sampler.js'
import { answerSchema, parseAnswer, promptVersion, systemPrompt, userPrompt } from './prompt.js'

export interface OpenAiSamplerOptions {
  baseURL?: string | undefined
  apiKey: string
  model: string
  maxRetries?: number
}

export function createOpenAiSampler(opts: OpenAiSamplerOptions): Sampler {
  const client = new OpenAI({
    apiKey: opts.apiKey,
    ...(opts.baseURL ? { baseURL: opts.baseURL } : {}),
    maxRetries: opts.maxRetries ?? 3,
    timeout: 600_000, // the sampling timeout aborts earlier through the signal
  })
  return {
    name: 'openai',
    repairable: true,
    usesProfiles: true,
    async sample(request, signal) {
      const completion = await client.chat.completions.create(
        {
          model: opts.model,
          messages: [
            { role: 'system', content: systemPrompt() },
            { role: 'user', content: userPrompt(request) },
          ],
          response_format: { type: 'json_schema', json_schema: { name: 'decomposition', schema: answerSchema, strict: false } },
          temperature: 0.2,
        },
        { signal },
      )
      const text = completion.choices[0]?.message?.content ?? ''
      return {
        output: parseAnswer(text),
        model: completion.model || opts.model,
        promptVersion,
        ...(completion.usage
          ? { usage: { inputTokens: completion.usage.prompt_tokens, outputTokens: completion.usage.completion_tokens } }
          : {}),
      }
    },
  }
}
