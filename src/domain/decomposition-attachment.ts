// The attachment a decomposition is stored as: the spec's "Attachment-Based Storage" value. Pure,
// shared by the Postgres projection (which writes it), task.get_decomposition (which reads it
// back) and the event-size bound (which must know how big it can get).
import type { DecompositionSampled } from './events.js'

export type DecompositionAttachment = ReturnType<typeof decompositionAttachment>

export function decompositionAttachment(e: DecompositionSampled) {
  const d = e.decomposition
  return {
    taskId: e.taskId,
    taskText: e.taskText,
    strategy: d.executionStrategy,
    totalComplexity: d.totalComplexity,
    reasoning: d.reasoning,
    subtaskCount: d.subtasks.length,
    subtasks: d.subtasks.map((s) => ({
      id: s.id,
      description: s.description,
      specialist: s.specialist,
      complexity: s.complexity,
      estimatedMinutes: s.estimatedMinutes,
      dependencies: s.dependencies,
      context: s.context,
      rationale: s.rationale,
      status: 'pending' as const,
    })),
    architecturalConsiderations: d.architecturalConsiderations,
    decomposedAt: new Date(e.timestamp).toISOString(),
    decomposedBy: e.decomposedBy,
    sessionId: e.sessionId,
    ...(e.metadata ? { metadata: e.metadata } : {}),
  }
}
