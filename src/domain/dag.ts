// Graph rules for a decomposition: every dependency names a sibling, no self-dependency, no cycle;
// the execution strategy follows from the shape of the graph.

export type ExecutionStrategy = 'parallel' | 'sequential' | 'mixed'

export interface Node {
  id: string
  dependencies: readonly string[]
}

export type GraphIssue =
  | { kind: 'duplicate-id'; id: string; index: number }
  | { kind: 'unknown-dependency'; id: string; dependency: string; index: number }
  | { kind: 'self-dependency'; id: string; index: number }
  | { kind: 'cycle'; cycle: string[] }

/** All structural problems of the graph; empty when it is a valid DAG. */
export function graphIssues(nodes: readonly Node[]): GraphIssue[] {
  const issues: GraphIssue[] = []
  const ids = new Set<string>()
  nodes.forEach((n, index) => {
    if (ids.has(n.id)) issues.push({ kind: 'duplicate-id', id: n.id, index })
    ids.add(n.id)
  })
  nodes.forEach((n, index) => {
    for (const d of n.dependencies) {
      if (d === n.id) issues.push({ kind: 'self-dependency', id: n.id, index })
      else if (!ids.has(d)) issues.push({ kind: 'unknown-dependency', id: n.id, dependency: d, index })
    }
  })
  if (issues.length > 0) return issues
  const cycle = findCycle(nodes)
  if (cycle) issues.push({ kind: 'cycle', cycle })
  return issues
}

/** A cycle as a closed path (first id repeated last), or undefined. Iterative DFS: no recursion limit. */
export function findCycle(nodes: readonly Node[]): string[] | undefined {
  const deps = new Map(nodes.map((n) => [n.id, n.dependencies]))
  const state = new Map<string, 1 | 2>() // 1 = on the current path, 2 = finished
  for (const start of nodes) {
    if (state.has(start.id)) continue
    const path: string[] = []
    const stack: { id: string; next: number }[] = [{ id: start.id, next: 0 }]
    state.set(start.id, 1)
    path.push(start.id)
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!
      const ds = deps.get(top.id) ?? []
      if (top.next < ds.length) {
        const d = ds[top.next++]!
        const s = state.get(d)
        if (s === 1) return [...path.slice(path.indexOf(d)), d]
        if (s === undefined && deps.has(d)) {
          state.set(d, 1)
          path.push(d)
          stack.push({ id: d, next: 0 })
        }
      } else {
        state.set(top.id, 2)
        path.pop()
        stack.pop()
      }
    }
  }
  return undefined
}

/** Kahn's algorithm in rounds, O(V+E): each round takes every ready node, in input order. Assumes a valid DAG. */
export function topologicalOrder(nodes: readonly Node[]): string[] {
  const index = new Map(nodes.map((n, i) => [n.id, i]))
  const indegree = nodes.map((n) => new Set(n.dependencies).size)
  const dependents: number[][] = nodes.map(() => [])
  nodes.forEach((n, i) => {
    for (const d of new Set(n.dependencies)) dependents[index.get(d)!]!.push(i)
  })
  const order: string[] = []
  let ready = nodes.map((_, i) => i).filter((i) => indegree[i] === 0)
  while (ready.length > 0) {
    const next: number[] = []
    for (const i of ready) {
      order.push(nodes[i]!.id)
      for (const j of dependents[i]!) if (--indegree[j]! === 0) next.push(j)
    }
    ready = next.sort((a, b) => a - b)
  }
  if (order.length !== nodes.length) throw new Error('topologicalOrder: graph has a cycle')
  return order
}

/**
 * No edges → parallel. A total order (each step depends on the one before it, so there is exactly
 * one way to run it) → sequential. Anything else → mixed. A single subtask has no edges: parallel.
 */
export function deriveStrategy(nodes: readonly Node[]): ExecutionStrategy {
  if (nodes.every((n) => n.dependencies.length === 0)) return 'parallel'
  const order = topologicalOrder(nodes)
  const deps = new Map(nodes.map((n) => [n.id, new Set(n.dependencies)]))
  for (let i = 1; i < order.length; i++) {
    if (!deps.get(order[i]!)!.has(order[i - 1]!)) return 'mixed'
  }
  return 'sequential'
}

/** Subtasks that can start at once. */
export function roots<T extends Node>(nodes: readonly T[]): T[] {
  return nodes.filter((n) => n.dependencies.length === 0)
}

export function describeGraphIssue(issue: GraphIssue): { path: string; message: string } {
  switch (issue.kind) {
    case 'duplicate-id':
      return { path: `/subtasks/${issue.index}/id`, message: `duplicate subtask id "${issue.id}"` }
    case 'unknown-dependency':
      return {
        path: `/subtasks/${issue.index}/dependencies`,
        message: `subtask "${issue.id}" depends on "${issue.dependency}", which is not a subtask of this decomposition`,
      }
    case 'self-dependency':
      return { path: `/subtasks/${issue.index}/dependencies`, message: `subtask "${issue.id}" depends on itself` }
    case 'cycle':
      return { path: '/subtasks', message: `dependency cycle: ${issue.cycle.join(' → ')}` }
    default: {
      const never: never = issue
      throw new Error(`unhandled graph issue ${JSON.stringify(never)}`)
    }
  }
}
