// What the offline planner reads from a request before it plans: the task's normalised words, the
// kind of work, the areas it touches, its constraints sorted, the patterns it names, its size, and
// the active specialists. Every step of the plan is built from this reading alone.
import type { Area } from './plan-vocabulary.js'
import { detectAreas } from './plan-vocabulary.js'
import type { WorkKind } from './plan-kind.js'
import { kindOfWork } from './plan-kind.js'
import type { SortedConstraints } from './plan-constraints.js'
import { sortConstraints } from './plan-constraints.js'
import type { PickSpecialist } from './plan-specialists.js'
import { specialistPicker } from './plan-specialists.js'
import { techPatterns } from './plan-patterns.js'
import { sizeFactor } from './plan-estimate.js'
import { subjectOf } from './plan-names.js'

export interface PlanInput {
  task: string
  constraints: readonly string[]
  priority: number
  specialists: readonly string[]
  /** MAX_SUBTASKS (default 50): surplus subtasks are merged. */
  maxSubtasks?: number
  /** The decomposition's byte budget (default: that of nats-server's default max_payload). */
  maxBytes?: number
}

export interface TaskReading {
  /** The task, trimmed, its runs of whitespace made single spaces. */
  task: string
  lowerTask: string
  /** The task and its constraints in lower case, one per line: what the request mentions anywhere. */
  allText: string
  kind: WorkKind
  /** The areas the task itself touches: they decide the plan's shape. */
  areas: Set<Area>
  /** The areas the task or a constraint touches: they decide the architectural considerations. */
  allAreas: Set<Area>
  /** What the task is about, without its verb: "dark mode toggle to settings page". */
  subject: string
  constraints: SortedConstraints
  patterns: string[]
  /** The task's size factor, which scales every step's complexity. */
  scale: number
  pick: PickSpecialist
}

export function readTask(input: PlanInput): TaskReading {
  const task = input.task.trim().replace(/\s+/g, ' ')
  const lowerTask = task.toLowerCase()
  const allText = [lowerTask, ...input.constraints.map((c) => c.toLowerCase())].join(' \n ')
  const constraints = sortConstraints(input.constraints)
  return {
    task,
    lowerTask,
    allText,
    kind: kindOfWork(lowerTask),
    areas: detectAreas(lowerTask),
    allAreas: detectAreas(allText),
    subject: subjectOf(task),
    constraints,
    patterns: techPatterns(allText, constraints.guidelines),
    scale: sizeFactor(task, input.constraints.length),
    pick: specialistPicker(input.specialists),
  }
}
