// Identifier rules. Task ids and attachment keys become Redis key parts and NATS subject tokens,
// so they are restricted to characters that can never widen or split a subject (no `.`, `*`, `>`,
// whitespace) and never need escaping in a key.

export const safeIdPattern = '^[A-Za-z0-9][A-Za-z0-9_:-]{0,127}$'
const safeId = new RegExp(safeIdPattern)

export function isSafeId(value: string): boolean {
  return safeId.test(value)
}

/** Service-assigned subtask id: `st-<decomposition timestamp ms>-<n>`, n from 1. */
export function subtaskId(timestampMs: number, n: number): string {
  return `st-${timestampMs}-${n}`
}

export function attachmentKeyFor(timestampMs: number): string {
  return `decomposition_${timestampMs}`
}

/** Reserved for the service's own decomposition attachments. */
export const reservedAttachmentPrefix = 'decomposition_'

/** A decomposition id from wall time and randomness supplied by the caller (the domain reads neither). */
export function decompositionId(nowMs: number, random: string): string {
  return `d-${nowMs.toString(36)}-${random}`
}
