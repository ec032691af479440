// A local HTTP peer for LLM provider tests: it records every request and answers from a script of
// replies (the last one repeats), so a test speaks a provider's real wire format over real HTTP.
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface SeenRequest {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: any
}
export type Reply = (req: SeenRequest, res: ServerResponse) => void

export async function withHttpPeer(replies: Reply[], fn: (origin: string, seen: SeenRequest[]) => Promise<void>): Promise<void> {
  const seen: SeenRequest[] = []
  const server = createServer((req, res) => {
    let data = ''
    req.on('data', (c) => (data += c))
    req.on('end', () => {
      const r: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: JSON.parse(data || '{}') }
      seen.push(r)
      replies[Math.min(seen.length - 1, replies.length - 1)]!(r, res)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen)
  } finally {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  }
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

/** Never answers: the client must give up on its own. */
export const hang: Reply = () => undefined

/** A sample answer both provider tests use: valid, two subtasks, one dependency. */
export const validAnswer = {
  subtasks: [
    { id: 'a', description: 'Build the API', specialist: 'backend', dependencies: [], complexity: 30, estimatedMinutes: 45, context: { files: ['api/x.ts'] }, rationale: 'core' },
    { id: 'b', description: 'Test the API', specialist: 'testing', dependencies: ['a'], complexity: 10, estimatedMinutes: 20, context: {}, rationale: 'proof' },
  ],
  reasoning: 'API first, then tests',
}
export const samplingRequest = { sessionId: 's', task: 'Build an invoices API', priority: 60, constraints: ['Use REST'], specialists: ['backend', 'testing', 'general'] }
