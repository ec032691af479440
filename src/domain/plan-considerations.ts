// The plan's architectural considerations: advice for the areas the request touches (anywhere, in
// the task or a constraint), then the client's guidelines, each once.
import type { TaskReading } from './plan-reading.js'
import type { Area } from './plan-vocabulary.js'
import { sentence, unique } from './plan-text.js'

export function architecturalConsiderations(r: TaskReading): string[] {
  const { guidelines } = r.constraints
  if (r.kind === 'docs') {
    return unique(['Keep code examples runnable and checked in CI', 'Version the documentation with what it documents', ...guidelines.map(sentence)])
  }
  return unique([...areaAdvice(r.allAreas, r.lowerTask), ...guidelines.map(sentence)])
}

/** `lowerTask` picks the advice of a theme or a leak, which no area names. */
function areaAdvice(areas: ReadonlySet<Area>, lowerTask: string): string[] {
  const out: string[] = []
  if (/\b(dark mode|theme|theming|light mode)\b/.test(lowerTask)) {
    out.push('Theme context should be at app root level', 'Use CSS variables for dynamic theming')
    out.push('Consider system preference detection', 'Ensure smooth transitions between themes')
  } else if (areas.has('style')) out.push('Keep styling in shared tokens rather than per-component overrides')
  if (areas.has('auth')) out.push('Store secrets and tokens server-side only; rotate refresh tokens', 'Validate redirect URIs strictly')
  if (areas.has('server')) out.push('Validate all input at the API boundary and version the API contract')
  if (areas.has('persistence') && !areas.has('auth')) out.push('Make writes idempotent so retries are safe')
  if (areas.has('security')) out.push('Record what personal data is stored, why, and for how long')
  if (areas.has('ops')) out.push('Expose metrics before tuning, so changes can be measured')
  if (/\b(leak|memory)\b/.test(lowerTask)) out.push('Release subscriptions and timers on unmount; measure heap before and after')
  return out
}
