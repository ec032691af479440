// Secrets never reach a log line, an error message or the terminal. Connection URLs are the usual
// carrier (`nats://user:pass@host`, `redis://:pass@host`, `postgres://user:pass@host/db`, and NATS's
// comma-separated server lists), so they are masked here, in one place, for every store.

export const mask = '***'

/** NATS-family schemes, where a userinfo without a colon is a token, not a user name. */
const tokenSchemes = new Set(['nats', 'tls', 'ws', 'wss'])

/** Query parameters that carry a secret (libpq accepts `?password=`). */
const secretParams = /^(password|sslpassword|pass|token|auth_token)$/i

export interface UserinfoParts {
  /** Lower-case scheme, or undefined for a bare `host:port` (NATS accepts those). */
  scheme: string | undefined
  /** The userinfo as written (still percent-encoded), or undefined when there is none. */
  userinfo: string | undefined
  /** The same URL without the userinfo and its `@`. */
  bare: string
}

/**
 * Splits the userinfo off one URL without a full URL parser: NATS server entries may lack a scheme,
 * and a password with an unencoded `@` must still be found (the last `@` of the authority ends it).
 */
export function splitUserinfo(url: string): UserinfoParts {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?(.*)$/s.exec(url)!
  const prefix = m[1] ?? ''
  const afterScheme = m[2] ?? ''
  const scheme = prefix ? prefix.slice(0, -3).toLowerCase() : undefined
  const authorityEnd = afterScheme.search(/[/?#]/)
  const authority = authorityEnd === -1 ? afterScheme : afterScheme.slice(0, authorityEnd)
  const at = authority.lastIndexOf('@')
  if (at === -1) return { scheme, userinfo: undefined, bare: url }
  return { scheme, userinfo: authority.slice(0, at), bare: prefix + afterScheme.slice(at + 1) }
}

/** True for a userinfo without a colon in a scheme where that means a token. */
export function isTokenUserinfo(parts: Pick<UserinfoParts, 'scheme' | 'userinfo'>): boolean {
  return parts.userinfo !== undefined && !parts.userinfo.includes(':') && (parts.scheme === undefined || tokenSchemes.has(parts.scheme))
}

function redactOne(url: string): string {
  const parts = splitUserinfo(url)
  let out = parts.bare
  if (parts.userinfo !== undefined) {
    const colon = parts.userinfo.indexOf(':')
    const kept = colon !== -1 ? `${parts.userinfo.slice(0, colon)}:${mask}` : isTokenUserinfo(parts) ? mask : parts.userinfo
    const schemeLength = parts.scheme === undefined ? 0 : parts.scheme.length + 3
    out = `${out.slice(0, schemeLength)}${kept}@${out.slice(schemeLength)}`
  }
  return out.replace(/([?&])([^=&#]+)=([^&#]*)/g, (all, sep: string, name: string) => (secretParams.test(name) ? `${sep}${name}=${mask}` : all))
}

/**
 * A connection URL (or a comma-separated list of them) fit for logs and messages: passwords and
 * NATS tokens become `***`, user names stay (they say which account was tried).
 */
export function redactUrl(url: string): string {
  return url
    .split(',')
    .map((part) => {
      const lead = /^\s*/.exec(part)![0]
      return lead + redactOne(part.slice(lead.length))
    })
    .join(',')
}

/**
 * `scheme://user:password@` (and NATS `scheme://token@`) anywhere in free text. The password runs
 * to the last `@` before a space or `/`, so an unencoded `@` in it is masked too.
 */
const userinfoInText = /\b([A-Za-z][A-Za-z0-9+.-]*):\/\/([^\s/@:"'<>]*)(:[^\s/"'<>]*)?@/g

/** Masks URL userinfo secrets anywhere in a text: the logger's last line of defence. */
export function scrubUserinfo(text: string): string {
  if (!text.includes('://')) return text // the common case costs one scan
  return text.replace(userinfoInText, (all, scheme: string, user: string, password: string | undefined) => {
    if (password !== undefined) return `${scheme}://${user}:${mask}@`
    return tokenSchemes.has(scheme.toLowerCase()) ? `${scheme}://${mask}@` : all
  })
}

/**
 * Masks every known secret (as written and percent-encoded, as it appears inside URLs) and any URL
 * userinfo in `text`. Longest first, so a secret containing another is masked whole.
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  const variants = new Set<string>()
  for (const s of secrets) {
    if (!s) continue
    variants.add(s)
    variants.add(encodeURIComponent(s))
  }
  let out = text
  for (const s of [...variants].sort((a, b) => b.length - a.length)) out = out.split(s).join(mask)
  return scrubUserinfo(out)
}

/** The secrets a URL (or list) carries in its userinfo, decoded and as written. */
export function urlSecrets(url: string): string[] {
  const out: string[] = []
  for (const part of url.split(',')) {
    const parts = splitUserinfo(part.trim())
    if (parts.userinfo === undefined) continue
    const colon = parts.userinfo.indexOf(':')
    const secret = colon !== -1 ? parts.userinfo.slice(colon + 1) : isTokenUserinfo(parts) ? parts.userinfo : ''
    if (secret) out.push(secret, safeDecode(secret))
  }
  return out
}

/** decodeURIComponent that keeps a malformed escape as written instead of throwing. */
export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
