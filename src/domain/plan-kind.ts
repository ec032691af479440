// The kind of work a task asks for. Each kind has its own shape of plan: a bug fix is reproduced
// before it is fixed, documentation is outlined before it is written, tests are planned before
// they are written, and anything else is built as a feature.
import { bugWords, docWords } from './plan-vocabulary.js'

export type WorkKind = 'bugfix' | 'docs' | 'tests' | 'feature'

/**
 * The kind of work `lowerTask` (the task in lower case) asks for. A bug word wins over every other
 * ("fix the broken docs build" is a bug fix). A task that names docs is documentation only when it
 * does not also ask to build something ("implement and document X" is a feature with docs after it).
 */
export function kindOfWork(lowerTask: string): WorkKind {
  if (bugWords.test(lowerTask)) return 'bugfix'
  if (docWords.test(lowerTask) && !/\b(implement|build|add)\b/.test(lowerTask)) return 'docs'
  if (/^(write|add|increase|improve)\b.*\b(tests?|coverage)\b/.test(lowerTask)) return 'tests'
  return 'feature'
}
