// Human-readable rendering of a decomposition: subtasks in dependency order as a tree.
import { topologicalOrder } from '../domain/dag.js'
import type { DecomposeResult } from '../rpc/task-methods.js'

export function formatDecomposition(r: DecomposeResult): string {
  const d = r.decomposition
  const lines: string[] = []
  lines.push(`Task ${r.taskId}: ${r.subtaskCount} subtasks, ${d.executionStrategy}, total complexity ${d.totalComplexity}`)
  lines.push(`Attachment: ${r.attachmentKey}`)
  lines.push('')
  // Each subtask is printed once, under the dependency that finishes last in topological order;
  // further dependencies are named beside it.
  const order = topologicalOrder(d.subtasks)
  const rank = new Map(order.map((id, i) => [id, i]))
  const byId = new Map(d.subtasks.map((s) => [s.id, s]))
  const children = new Map<string, string[]>()
  for (const id of order) {
    const s = byId.get(id)!
    if (s.dependencies.length === 0) continue
    const parent = [...s.dependencies].sort((a, b) => rank.get(b)! - rank.get(a)!)[0]!
    children.set(parent, [...(children.get(parent) ?? []), id])
  }
  const walk = (id: string, prefix: string, last: boolean, root: boolean, parent?: string) => {
    const s = byId.get(id)!
    const branch = root ? '' : last ? '└─ ' : '├─ '
    const others = s.dependencies.filter((x) => x !== parent)
    const after = others.length > 0 ? `  (also after ${others.join(', ')})` : ''
    lines.push(`${prefix}${branch}${s.id} [${s.specialist}] ${s.description}  · complexity ${s.complexity}, ~${s.estimatedMinutes} min${after}`)
    const kids = children.get(id) ?? []
    kids.forEach((k, i) => walk(k, prefix + (root ? '' : last ? '   ' : '│  '), i === kids.length - 1, false, id))
  }
  for (const id of order.filter((x) => byId.get(x)!.dependencies.length === 0)) walk(id, '', true, true)
  lines.push('')
  lines.push(`Reasoning: ${d.reasoning}`)
  if (d.architecturalConsiderations.length > 0) {
    lines.push('Architectural considerations:')
    for (const c of d.architecturalConsiderations) lines.push(`  - ${c}`)
  }
  return lines.join('\n')
}
