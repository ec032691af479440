// Every Redis key the service touches, computed from one prefix. With the default prefix `cb:` these
// are the contract keys of the spec; tests use their own prefix so suites never collide.

export interface Keys {
  prefix: string
  task(taskId: string): string
  decomposition(taskId: string): string
  subtask(subtaskId: string): string
  queue(specialist: string): string
  instance(instanceId: string): string
  /** Registered specialist instances, scored by expiry (ms), for lookups without SCAN. */
  instances: string
  /** An MCP bridge's attached session: present while the bridge heartbeats. */
  mcpSession(owner: string, sessionId: string): string
  /** Sliding-window rate limit of one client. */
  rateLimit(clientId: string): string
  /** Cluster-wide claim of a decomposition timestamp, so `st-<ms>-<n>` ids never repeat. */
  timestampClaim(ms: number): string
  /** Events a consumer could not apply (hash: `<consumer>:<seq>` → entry JSON); see store/parked.ts. */
  parked: string
}

export function keys(prefix: string): Keys {
  return {
    prefix,
    task: (id) => `${prefix}task:${id}`,
    decomposition: (taskId) => `${prefix}decomposition:${taskId}`,
    subtask: (id) => `${prefix}subtask:${id}`,
    queue: (specialist) => `${prefix}queue:specialist:${specialist}`,
    instance: (id) => `${prefix}instance:${id}`,
    instances: `${prefix}instances`,
    mcpSession: (owner, sessionId) => `${prefix}mcp:session:${owner}:${sessionId}`,
    rateLimit: (clientId) => `${prefix}ratelimit:decompose:${clientId}`,
    timestampClaim: (ms) => `${prefix}ids:ts:${ms}`,
    parked: `${prefix}parked`,
  }
}
