// The decomposition aggregate as a decider: decide(command, state) → events, evolve(state, event) →
// state. No I/O, no clock: times and the sampler's output arrive inside commands. A command that
// finds its work already done decides no events, which is what makes every step safe to repeat.
import type { Decomposition } from './decomposition-schema.js'
import type {
  DecompositionEvent,
  DecompositionFailed,
  DecompositionPersisted,
  DecompositionRequested,
  DecompositionSampled,
  SamplerInfo,
  SubtasksReleased,
} from './events.js'
import { attachmentKeyFor } from './ids.js'
import { roots } from './dag.js'

export type DecompositionStatus = 'none' | 'requested' | 'sampled' | 'failed' | 'persisted' | 'released'

export interface DecompositionState {
  status: DecompositionStatus
  request?: DecompositionRequested
  sample?: DecompositionSampled
  persisted?: DecompositionPersisted
  failure?: DecompositionFailed
}

export const initialState = (): DecompositionState => ({ status: 'none' })

export type DecompositionCommand =
  | { type: 'RequestDecomposition'; request: Omit<DecompositionRequested, 'type' | 'v'> }
  | {
      type: 'RecordSample'
      decomposition: Decomposition
      timestamp: number
      decomposedBy: string
      sampler: SamplerInfo
    }
  | { type: 'RecordFailure'; error: DecompositionFailed['error']; failedBy: string; at: number }
  | { type: 'MarkPersisted'; sampledSeq: number; at: number }
  | { type: 'ReleaseSubtasks'; at: number }

export class InvalidTransitionError extends Error {}

export function decide(command: DecompositionCommand, state: DecompositionState): DecompositionEvent[] {
  switch (command.type) {
    case 'RequestDecomposition':
      if (state.status !== 'none') return []
      return [{ type: 'DecompositionRequested', v: 1, ...command.request }]
    case 'RecordSample': {
      if (state.status !== 'requested') return alreadyPast(state, 'requested')
      const r = state.request!
      return [
        {
          type: 'DecompositionSampled',
          v: 1,
          decompositionId: r.decompositionId,
          taskId: r.taskId,
          taskText: r.task,
          priority: r.priority,
          sessionId: r.sessionId,
          ...(r.metadata ? { metadata: r.metadata } : {}),
          timestamp: command.timestamp,
          attachmentKey: attachmentKeyFor(command.timestamp),
          decomposedBy: command.decomposedBy,
          decomposition: command.decomposition,
          sampler: command.sampler,
        },
      ]
    }
    case 'RecordFailure': {
      if (state.status !== 'requested') return alreadyPast(state, 'requested')
      const r = state.request!
      return [
        {
          type: 'DecompositionFailed',
          v: 1,
          decompositionId: r.decompositionId,
          taskId: r.taskId,
          error: command.error,
          failedBy: command.failedBy,
          failedAt: command.at,
        },
      ]
    }
    case 'MarkPersisted': {
      if (state.status !== 'sampled') return alreadyPast(state, 'sampled')
      const s = state.sample!
      return [
        {
          type: 'DecompositionPersisted',
          v: 1,
          decompositionId: s.decompositionId,
          taskId: s.taskId,
          attachmentKey: s.attachmentKey,
          sampledSeq: command.sampledSeq,
          persistedAt: command.at,
        },
      ]
    }
    case 'ReleaseSubtasks': {
      if (state.status !== 'persisted') return alreadyPast(state, 'persisted')
      const s = state.sample!
      const d = s.decomposition
      const released: SubtasksReleased['released'] = roots(d.subtasks).map((t) => ({
        id: t.id,
        specialist: t.specialist,
        complexity: t.complexity,
        description: t.description,
        requiredCapabilities: t.context.patterns ?? [],
      }))
      return [
        {
          type: 'SubtasksReleased',
          v: 1,
          decompositionId: s.decompositionId,
          taskId: s.taskId,
          timestamp: s.timestamp,
          priority: s.priority,
          sessionId: s.sessionId,
          decomposedBy: s.decomposedBy,
          attachmentKey: s.attachmentKey,
          subtaskCount: d.subtasks.length,
          strategy: d.executionStrategy,
          totalComplexity: d.totalComplexity,
          released,
          releasedAt: command.at,
        },
      ]
    }
    default: {
      const never: never = command
      throw new Error(`unhandled command ${JSON.stringify(never)}`)
    }
  }
}

const order: DecompositionStatus[] = ['none', 'requested', 'sampled', 'persisted', 'released']

/** Work already done (state is past the step) decides nothing; a step that comes too early is a bug. */
function alreadyPast(state: DecompositionState, needed: DecompositionStatus): [] {
  if (state.status === 'failed' || order.indexOf(state.status) > order.indexOf(needed)) return []
  throw new InvalidTransitionError(`decomposition is ${state.status}; this step needs it ${needed}`)
}

export function evolve(state: DecompositionState, event: DecompositionEvent): DecompositionState {
  switch (event.type) {
    case 'DecompositionRequested':
      return { ...state, status: 'requested', request: event }
    case 'DecompositionSampled':
      return { ...state, status: 'sampled', sample: event }
    case 'DecompositionFailed':
      return { ...state, status: 'failed', failure: event }
    case 'DecompositionPersisted':
      return { ...state, status: 'persisted', persisted: event }
    case 'SubtasksReleased':
      return { ...state, status: 'released' }
    default: {
      const never: never = event
      throw new Error(`unhandled event ${JSON.stringify(never)}`)
    }
  }
}

export const fold = (events: readonly DecompositionEvent[]): DecompositionState => events.reduce(evolve, initialState())
