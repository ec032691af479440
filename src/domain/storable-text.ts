// Text the read models can store. Everything a client sends ends up in Postgres `jsonb`/`text`
// (which refuse U+0000 and, in JSON, unpaired surrogate escapes) and in Redis through ioredis (which
// encodes to UTF-8 and silently turns an unpaired surrogate into U+FFFD, so a fingerprint computed
// before the write no longer matches what was written). The log would take such text, and then
// every projector would choke on it, so it is refused at the boundary instead. Pure.

/** True when `s` has no U+0000 and no unpaired surrogate. */
export function isStorableText(s: string): boolean {
  return !s.includes('\u0000') && s.isWellFormed()
}

/** `s` with U+0000 and unpaired surrogates replaced by U+FFFD: safe to echo in an error message. */
export function displayable(s: string): string {
  return s.toWellFormed().replaceAll('\u0000', '\uFFFD')
}

/**
 * The JSON pointer (RFC 6901) of the first string that is not storable, depth first (an object's
 * keys before its values); undefined when every string, object keys included, is storable. Iterative, so any depth is safe; the
 * depth limit is still checked first (see rpc/limits.ts) so this never walks a hostile tree far.
 * An offending key is shown made displayable: the pointer goes into error messages and headers.
 */
export function findUnstorableText(value: unknown): string | undefined {
  const stack: { value: unknown; path: string }[] = [{ value, path: '' }]
  while (stack.length > 0) {
    const { value: v, path } = stack.pop()!
    if (typeof v === 'string') {
      if (!isStorableText(v)) return path
    } else if (Array.isArray(v)) {
      // pushed in reverse so the first element is visited first
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: `${path}/${i}` })
    } else if (typeof v === 'object' && v !== null) {
      const entries = Object.entries(v)
      const badKey = entries.find(([key]) => !isStorableText(key))
      if (badKey) return `${path}/${pointerToken(displayable(badKey[0]))}`
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!
        stack.push({ value: child, path: `${path}/${pointerToken(key)}` })
      }
    }
  }
  return undefined
}

/** One JSON pointer token (RFC 6901: `~` and `/` escaped). */
export function pointerToken(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1')
}
