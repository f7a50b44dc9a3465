import { describeIssues } from '../../../shared/api/console-api.ts'
import { PSK_KEY_MIN_BYTES, SetSecurityInput, type SecurityEntry, type SecurityMode } from '../../../shared/api/security-schemas.ts'
import { fail, ok, type Result } from '../../../shared/api/result.ts'

/** The add/replace form of a device identity. The key is typed (or generated) and sent once; it is never read back. */
export interface SecurityForm {
  endpoint: string
  mode: SecurityMode
  identity: string
  key: string
}

export function emptySecurityForm(): SecurityForm {
  return { endpoint: '', mode: 'psk', identity: '', key: '' }
}

/** The form to replace an entry: its endpoint and identity kept, the key to be given anew. */
export function formToReplace(entry: SecurityEntry): SecurityForm {
  return { endpoint: entry.endpoint, mode: entry.mode, identity: entry.identity ?? entry.endpoint, key: '' }
}

/** A key as people paste it ("0x…", "00:11:…", spaced in groups) to plain hex digits. */
export function normalizeKeyHex(text: string): string {
  return text.trim().replace(/^0x/i, '').replace(/[\s:-]/g, '').toLowerCase()
}

/** `bytes` random bytes in hex from the browser's CSPRNG (16 bytes = AES-128's key size, the usual PSK). */
export function randomKeyHex(bytes = 16, fill: (array: Uint8Array<ArrayBuffer>) => void = (array) => void crypto.getRandomValues(array)): string {
  const array = new Uint8Array(Math.max(bytes, PSK_KEY_MIN_BYTES))
  fill(array)
  return Array.from(array, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** The setSecurity input of the form, or what is wrong with it, field by field as the server would say it. */
export function setSecurityInput(form: SecurityForm): Result<SetSecurityInput> {
  const endpoint = form.endpoint.trim()
  const candidate = form.mode === 'nosec' ? { endpoint, mode: 'nosec' as const } : { endpoint, identity: form.identity.trim(), key: normalizeKeyHex(form.key) }
  const parsed = SetSecurityInput.safeParse(candidate)
  if (parsed.success) return ok(parsed.data)
  return fail('invalid_input', describeIssues(parsed.error))
}

export function modeText(mode: SecurityMode): string {
  return mode === 'psk' ? 'DTLS-PSK' : 'NoSec (plain CoAP allowed)'
}

/** Entries in endpoint order, for the table. */
export function sortedEntries(entries: readonly SecurityEntry[]): SecurityEntry[] {
  return [...entries].sort((a, b) => a.endpoint.localeCompare(b.endpoint))
}
