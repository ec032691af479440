// Small text helpers of the offline planner: casing, slugs and names derived from the task's own
// words. Names are cut at word boundaries: a task of any valid length (up to 1,000 characters)
// must still give a short component name and file name, never one past the schema's bounds.

/** Longest component name (`components/<Name>.tsx`) and slug (`tests/<slug>.test.ts`) derived from a task. */
export const maxNameLength = 60
export const maxSlugLength = 40

const ellipsis = '…'

/**
 * `text` cut to at most `max` characters (UTF-16 units, never fewer than the schema's code points),
 * at the last word boundary when there is one in the second half, marked with an ellipsis. Never
 * splits a surrogate pair.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text
  if (max <= 0) return ''
  if (max === 1) return ellipsis
  let cut = text.slice(0, max - ellipsis.length)
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1)
  const lastSpace = cut.search(/\s\S*$/)
  if (lastSpace > cut.length / 2) cut = cut.slice(0, lastSpace)
  return `${cut.trimEnd()}${ellipsis}`
}

/** The leading words of `words` whose joined length stays within `max` (at least the first word, cut). */
function leadingWords(words: readonly string[], max: number, joiner: string): string {
  let out = ''
  for (const w of words) {
    const next = out === '' ? w : `${out}${joiner}${w}`
    if (next.length > max) break
    out = next
  }
  return out === '' ? (words[0] ?? '').slice(0, max) : out
}

export const unique = <T>(xs: readonly T[]) => [...new Set(xs)]
export const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)
export const lowerFirst = (s: string) => (/^[A-Z][a-z]/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s)
export const sentence = (s: string) => capitalize(s.trim().replace(/[.;]+$/, ''))

/** "Dark mode toggle!" → "dark-mode-toggle"; whole words only, at most maxSlugLength characters. */
export function slug(s: string): string {
  const words = s.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w !== '')
  return leadingWords(words, maxSlugLength, '-') || 'task'
}

/** "dark mode toggle" → "DarkModeToggle"; whole words only, at most maxNameLength characters. */
export function pascal(s: string): string {
  const words = s
    .replace(/[^A-Za-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .filter((w) => w !== '' && !/^(the|a|an|page|screen|view)$/i.test(w))
    .map(capitalize)
  return leadingWords(words, maxNameLength, '') || 'Feature'
}
