// Names a plan derives from the task's own words: what the task is about, the feature it builds,
// the files and themes it names. They go into descriptions and file names, so each drops the words
// that would read badly there ("Add a …", "… toggle").
import { leadingVerb } from './plan-vocabulary.js'
import { lowerFirst, pascal } from './plan-text.js'

/** "Add dark mode toggle to settings page." → "dark mode toggle to settings page" */
export function subjectOf(task: string): string {
  const s = task.replace(/[.!?]+$/, '').replace(leadingVerb, '').trim()
  return s === '' ? task : lowerFirst(s)
}

/** "dark mode toggle to settings page" → "dark mode toggle" */
export function featureName(subject: string): string {
  const core = subject.split(/\s+(?:to|in|into|for|on|across|within|from)\s+/i)[0] ?? subject
  return core.replace(/^(a|an|the)\s+/i, '').trim() || subject
}

/** "dark mode toggle to settings page" → ["components/Settings.tsx"]: the component the feature goes into. */
export function locationFiles(subject: string): string[] {
  const m = /\s(?:to|in|into|on)\s+(?:the\s+)?(.+?)(?:\s+page|\s+screen|\s+view)?$/i.exec(subject)
  return m?.[1] ? [`components/${pascal(m[1])}.tsx`] : []
}

/** "add dark mode toggle" → "dark theme"; a task naming no theme gets the feature's name. */
export function themeName(lowerTask: string, feature: string): string {
  const m = /\b(dark|light|high[- ]contrast)\s+(mode|theme)\b/.exec(lowerTask)
  return m ? `${m[1]} theme` : stripUi(feature)
}

/** "dark mode toggle" → "dark mode": the thing itself, not the control that switches it. */
export function stripUi(feature: string): string {
  return feature.replace(/\s+(toggle|button|component|page|screen|switch|widget|form)$/i, '').trim() || feature
}

/** "comprehensive API documentation" → "the API" */
export function docTopic(subject: string): string {
  const t = subject.replace(/\b(comprehensive|complete|full|detailed|new)\s+/gi, '').replace(/\s*\b(documentation|docs|guide|reference)\b\s*/gi, ' ').trim()
  return t === '' ? subject : `the ${t}`
}

/** "Create a migration guide" → "migration guide" */
export function stripVerb(c: string): string {
  return c.replace(leadingVerb, '').replace(/^(a|an|the)\s+/i, '')
}
