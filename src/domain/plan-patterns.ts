// The technologies and patterns a plan names in its subtasks' contexts: those the request mentions
// by name, and those its guidelines ask for ("Use the repository pattern" → "Repository").
import { capitalize } from './plan-text.js'

const knownTech = [
  'React hooks', 'Context API', 'TypeScript', 'GraphQL', 'REST API', 'WebSocket', 'Redux', 'Tailwind', 'Next.js',
  'Vue', 'Angular', 'PostgreSQL', 'Redis', 'OAuth2', 'JWT', 'Playwright', 'Jest', 'Docker', 'Kubernetes',
]

/** `allText`: the task and constraints in lower case. Patterns in the order found, without repeats. */
export function techPatterns(allText: string, guidelines: readonly string[]): string[] {
  const found = knownTech.filter((t) => allText.includes(t.toLowerCase()))
  for (const g of guidelines) {
    const m = /^(?:use|follow|apply|prefer)\s+(?:the\s+)?(.+?)(?:\s+(?:pattern|patterns|approach|conventions?))?$/i.exec(g)
    if (m?.[1] && !found.some((f) => f.toLowerCase() === m[1]!.toLowerCase())) found.push(capitalize(m[1]))
  }
  // React state that spans the app (a theme, a mode, settings) is shared through a context.
  if (found.some((f) => /react/i.test(f)) && !found.includes('Context API') && /\b(theme|mode|state|settings)\b/.test(allText)) {
    found.push('Context API')
  }
  return found
}
