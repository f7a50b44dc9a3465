import { BleCodecError } from './errors.ts'

/** The Bluetooth base UUID after its first 32 bits: xxxxxxxx-0000-1000-8000-00805f9b34fb. */
const BASE_SUFFIX = '00001000800000805f9b34fb'
const HEX_RE = /^[0-9a-f]+$/

/**
 * A UUID spelled the way noble spells it: lowercase, no dashes; 16-bit SIG UUIDs as 4 hex digits (noble drops
 * leading zeros, "f01", so shorter strings are padded), 128-bit ones on the base UUID with a 16-bit value shortened
 * to 4 digits, every other 128-bit UUID as 32 digits. Same rules as the virtual radio's GATT table.
 */
export function normalizeUuid(uuid: string): string {
  const u = uuid.trim().toLowerCase().replace(/-/g, '').replace(/^0x/, '')
  if (u.length === 0 || !HEX_RE.test(u)) throw new BleCodecError('UUID', `'${uuid}' is not hexadecimal`)
  if (u.length <= 4) return u.padStart(4, '0')
  if (u.length === 8) return u.startsWith('0000') ? u.slice(4) : u
  if (u.length === 32) return u.startsWith('0000') && u.endsWith(BASE_SUFFIX) ? u.slice(4, 8) : u
  throw new BleCodecError('UUID', `'${uuid}' has ${u.length} hex digits (need 4, 8 or 32)`)
}

/** The canonical 128-bit form with dashes: "180d" → "0000180d-0000-1000-8000-00805f9b34fb". */
export function expandUuid(uuid: string): string {
  const n = normalizeUuid(uuid)
  const full = n.length === 4 ? `0000${n}${BASE_SUFFIX}` : n.length === 8 ? `${n}${BASE_SUFFIX}` : n
  return `${full.slice(0, 8)}-${full.slice(8, 12)}-${full.slice(12, 16)}-${full.slice(16, 20)}-${full.slice(20)}`
}

/** True when both spell the same UUID. */
export function sameUuid(a: string, b: string): boolean {
  return normalizeUuid(a) === normalizeUuid(b)
}
