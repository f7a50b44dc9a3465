import { CodecError, type CodecName } from './errors.ts'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const CODES = new Uint8Array(64)
const VALUES = new Int8Array(128).fill(-1)
for (let i = 0; i < 64; i++) {
  CODES[i] = ALPHABET.charCodeAt(i)
  VALUES[ALPHABET.charCodeAt(i)] = i
}
// Also read the URL-safe alphabet: senders mix up the two, and the meaning is unambiguous.
VALUES[0x2d] = 62
VALUES[0x5f] = 63

const ascii = new TextDecoder()

/** Standard base64 (RFC 4648 §4) with padding. */
export function bytesToBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4)
  let o = 0
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number)
    out[o++] = CODES[n >> 18] as number
    out[o++] = CODES[(n >> 12) & 63] as number
    out[o++] = CODES[(n >> 6) & 63] as number
    out[o++] = CODES[n & 63] as number
  }
  const rest = bytes.length - i
  if (rest > 0) {
    const n = ((bytes[i] as number) << 16) | (rest === 2 ? (bytes[i + 1] as number) << 8 : 0)
    out[o++] = CODES[n >> 18] as number
    out[o++] = CODES[(n >> 12) & 63] as number
    out[o++] = rest === 2 ? (CODES[(n >> 6) & 63] as number) : 0x3d
    out[o] = 0x3d
  }
  return ascii.decode(out)
}

/**
 * Decodes base64 with or without padding (either alphabet). Throws a `CodecError` naming `what` and the
 * index of the bad character; `offsetBase` turns that index into a payload offset when the text is the payload.
 */
export function base64ToBytes(text: string, codec: CodecName, what = 'base64 value', offsetBase?: number): Uint8Array {
  const fail = (reason: string, index: number): never => {
    throw new CodecError(codec, `${what} is not valid base64: ${reason}`, offsetBase === undefined ? undefined : offsetBase + index)
  }
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
    if (v < 0) fail(`character ${JSON.stringify(text[i])} at index ${i}`, i)
    acc = ((acc << 6) | v) & 0xffffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 0xff
    }
  }
  if (end < text.length && text.length % 4 !== 0) fail(`padded length ${text.length} is not a multiple of 4`, end)
  if (end % 4 === 1) fail(`length ${end} leaves a lone character`, end - 1)
  return out
}
