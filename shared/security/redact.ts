import type { ConsoleEvent } from '../api/events.ts'

/**
 * Keeps keys, tokens and passwords out of logs (issue 9). Every logger passes its text through
 * {@link redactSecrets}: the values of fields named like secrets (`key=…`, `"password":"…"`, `Bearer …`,
 * `--psk-key …`, a URL's password) are replaced, and so is every secret this process was told about with
 * {@link rememberSecret}, wherever it appears.
 */

export const REDACTED = '[redacted]'

/** Shorter strings would redact ordinary words; secrets this short are refused where they are set anyway. */
const MIN_SECRET_LENGTH = 6

const known = new Set<string>()

/** Every later log line hides `secret` (a hex key in either case, too). */
export function rememberSecret(secret: string | undefined): void {
  if (secret === undefined || secret.length < MIN_SECRET_LENGTH) return
  known.add(secret)
  if (/^[0-9a-fA-F]+$/.test(secret)) {
    known.add(secret.toLowerCase())
    known.add(secret.toUpperCase())
  }
}

const SECRET_NAME = String.raw`(?:psk[-_]?key|pskKey|secret[-_]?key|secretKey|key|token|password|passwd|secret|authorization)`

const PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // Authorization: Bearer … (before the name pattern, which would take "Bearer" for the value).
  [/(\bBearer\s+)[^\s"',;]+/gi, `$1${REDACTED}`],
  // "key":"…" and 'token': '…' in JSON and object dumps.
  [new RegExp(String.raw`(["']${SECRET_NAME}["']\s*:\s*["'])[^"']*(["'])`, 'gi'), `$1${REDACTED}$2`],
  // key=…, token: …, password=… in query strings and messages.
  [new RegExp(String.raw`(\b${SECRET_NAME}\s*[=:]\s*)(?:"[^"]*"|'[^']*'|(?!\[redacted\])[^\s"'&,;)}\]]+)`, 'gi'), `$1${REDACTED}`],
  // --psk-key … and --token … on a command line.
  [new RegExp(String.raw`(--${SECRET_NAME}[=\s]+)[^\s"']+`, 'gi'), `$1${REDACTED}`],
  // scheme://user:password@host
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+(@)/gi, `$1${REDACTED}$2`],
]

export function redactSecrets(text: string): string {
  let out = text
  for (const secret of known) if (out.includes(secret)) out = out.split(secret).join(REDACTED)
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement)
  return out
}

/** A value about to be logged (electron-log's data items): strings redacted, errors and objects by their text. */
export function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactSecrets(value)
  if (value instanceof Error) {
    const copy = new Error(redactSecrets(value.message))
    copy.name = value.name
    if (value.stack) copy.stack = redactSecrets(value.stack)
    return copy
  }
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.parse(redactSecrets(JSON.stringify(value))) as unknown
    } catch {
      return REDACTED
    }
  }
  return value
}

/** A console event as every subscriber gets it: a `log` event's message and wire summary redacted, others as they are. */
export function redactEvent(event: ConsoleEvent): ConsoleEvent {
  if (event.kind !== 'log') return event
  const message = redactSecrets(event.message)
  const summary = event.wire?.summary
  const wire = summary === undefined ? event.wire : { ...event.wire, summary: redactSecrets(summary) }
  if (message === event.message && wire === event.wire) return event
  return { ...event, message, ...(wire ? { wire } : {}) } as ConsoleEvent
}
