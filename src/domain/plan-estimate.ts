// Complexity (1-100) and minutes of a subtask. Each kind of step has a base complexity; a larger
// task scales every step up, and each guideline a step must follow adds to its own.

/** How much larger than usual the task is: its wording, its length, and its number of constraints. */
export function sizeFactor(task: string, constraints: number): number {
  const words = task.split(/\s+/).length
  let f = 1
  if (/\b(comprehensive|complete|full|entire|all|across|every)\b/i.test(task)) f += 0.2
  if (words > 25) f += 0.2
  // Capped: past a handful, more constraints mostly become subtasks of their own.
  return f + Math.min(constraints, 8) * 0.02
}

/** A step's complexity: its base scaled to the task, plus 3 per guideline it must follow, within 1-100. */
export function complexityOf(base: number, scale: number, guidelines: number): number {
  return Math.min(100, Math.max(1, Math.round(base * scale + guidelines * 3)))
}

/** Minutes for a complexity: 1.5 per point, in steps of 5, at least 10. */
export function minutesFor(complexity: number): number {
  return Math.max(10, Math.round((complexity * 1.5) / 5) * 5)
}
