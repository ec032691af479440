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

/** What the registry knows of one registered instance (from `system.register`). */
export interface RegisteredInstance {
  roles: readonly string[]
  metadata: Readonly<Record<string, unknown>>
}

/** What a sampler is told about one specialist type, so it can plan around who can do the work. */
export interface SpecialistProfile {
  name: string
  /** Healthy registered instances with this role (0 for the default set). */
  instances: number
  /** Union of the instances' `metadata.capabilities`. */
  capabilities: string[]
  /** Subtasks already waiting in this specialist's queue. */
  queued: number
  /**
   * Sum of the instances' `metadata.capacity` (default 1 each) minus what is queued, floored at 0;
   * absent when no instance is registered, because then nothing is known about capacity.
   */
  spareCapacity?: number
}

/**
 * Profiles for the given specialist names from the registered instances and queue lengths. Pure:
 * malformed metadata (capabilities that are not strings, a capacity that is not a positive integer)
 * is ignored rather than trusted, because any agent can register.
 */
export function specialistProfiles(
  names: readonly string[],
  instances: readonly RegisteredInstance[],
  queueLengths: Readonly<Record<string, number>>,
): SpecialistProfile[] {
  return names.map((name) => {
    const mine = instances.filter((i) => i.roles.some((r) => normalizeSpecialist(r) === name))
    const capabilities = new Set<string>()
    let capacity = 0
    for (const i of mine) {
      const caps = i.metadata['capabilities']
      if (Array.isArray(caps)) for (const c of caps) if (typeof c === 'string' && c.trim() !== '') capabilities.add(c.trim().slice(0, 80))
      const cap = i.metadata['capacity']
      capacity += typeof cap === 'number' && Number.isInteger(cap) && cap > 0 ? Math.min(cap, 1000) : 1
    }
    const queued = queueLengths[name] ?? 0
    return {
      name,
      instances: mine.length,
      capabilities: [...capabilities].sort().slice(0, 20),
      queued,
      ...(mine.length > 0 ? { spareCapacity: Math.max(0, capacity - queued) } : {}),
    }
  })
}
