import { CodecError, type CodecName } from './errors.ts'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const URL_ALPHABET = `${ALPHABET.slice(0, 62)}-_`
const CODES = new Uint8Array(64)
const URL_CODES = new Uint8Array(64)
const VALUES = new Int8Array(128).fill(-1)
for (let i = 0; i < 64; i++) {
  CODES[i] = ALPHABET.charCodeAt(i)
  URL_CODES[i] = URL_ALPHABET.charCodeAt(i)
  VALUES[ALPHABET.charCodeAt(i)] = i
  // Also read the URL-safe alphabet: senders mix up the two, and the meaning is unambiguous.
  VALUES[URL_ALPHABET.charCodeAt(i)] = i
}

const ascii = new TextDecoder()

/**
 * Standard base64 (RFC 4648 §4) with padding; with `url`, base64url (§5) without padding, as SenML
 * JSON writes "vd" (RFC 8428 §5).
 */
export function bytesToBase64(bytes: Uint8Array, { url = false }: { url?: boolean } = {}): string {
  const codes = url ? URL_CODES : CODES
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4)
  let o = 0
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number)
    out[o++] = codes[n >> 18] as number
    out[o++] = codes[(n >> 12) & 63] as number
    out[o++] = codes[(n >> 6) & 63] as number
    out[o++] = codes[n & 63] as number
  }
  const rest = bytes.length - i
  if (rest > 0) {
    const n = ((bytes[i] as number) << 16) | (rest === 2 ? (bytes[i + 1] as number) << 8 : 0)
    out[o++] = codes[n >> 18] as number
    out[o++] = codes[(n >> 12) & 63] as number
    if (rest === 2) out[o++] = codes[(n >> 6) & 63] as number
    if (!url) {
      if (rest === 1) out[o++] = 0x3d
      out[o++] = 0x3d
    }
  }
  return ascii.decode(out.subarray(0, o))
}

/** Why a text is not base64, and the index in the text where that shows. */
export interface Base64Fault {
  readonly kind: 'character' | 'padding' | 'length'
  readonly index: number
}

/**
 * Decodes base64 with or without padding, in either alphabet. On the first fault (a character outside the
 * alphabet, padding that does not fill a quantum, or a lone trailing character) calls `fail`, so each format
 * words its own message.
 */
export function decodeBase64(text: string, fail: (fault: Base64Fault) => never): Uint8Array {
  let end = text.length
  if (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--
  if (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--
  const out = new Uint8Array(Math.floor((end * 3) / 4))
  let o = 0
  let acc = 0
  let bits = 0
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i)
    const v = c < 128 ? (VALUES[c] as number) : -1
    if (v < 0) fail({ kind: 'character', index: i })
    acc = ((acc << 6) | v) & 0xffffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 0xff
    }
  }
  if (end < text.length && text.length % 4 !== 0) fail({ kind: 'padding', index: end })
  if (end % 4 === 1) fail({ kind: 'length', index: end - 1 })
  return out
}

/**
 * `decodeBase64` that throws a `CodecError` naming `what` and the index of the fault; `offsetBase` turns
 * that index into a payload offset when the text is the payload.
 */
export function base64ToBytes(text: string, codec: CodecName, what = 'base64 value', offsetBase?: number): Uint8Array {
  return decodeBase64(text, ({ kind, index }) => {
    const reason =
      kind === 'character'
        ? `character ${JSON.stringify(text[index])} at index ${index}`
        : kind === 'padding'
          ? `padded length ${text.length} is not a multiple of 4`
          : `length ${index + 1} leaves a lone character`
    throw new CodecError(codec, `${what} is not valid base64: ${reason}`, offsetBase === undefined ? undefined : offsetBase + index)
  })
}
