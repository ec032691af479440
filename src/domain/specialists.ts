// Specialist types. Subtasks may only name an active specialist; anything else maps to `general`.

export const defaultSpecialists: readonly string[] = ['frontend', 'backend', 'testing', 'docs', 'general']
export const fallbackSpecialist = 'general'

/** The active set: registered specialists plus `general`, or the default set when none registered. */
export function activeSpecialists(registered: readonly string[]): string[] {
  const set = new Set(registered.map(normalizeSpecialist).filter((s) => s !== ''))
  if (set.size === 0) return [...defaultSpecialists]
  set.add(fallbackSpecialist)
  return [...set].sort()
}

export function normalizeSpecialist(name: string): string {
  return name.trim().toLowerCase()
}

export function mapSpecialist(name: string, active: readonly string[]): string {
  const n = normalizeSpecialist(name)
  return active.includes(n) ? n : fallbackSpecialist
}
