import { CodecError, type CodecName } from './errors.ts'

// ignoreBOM keeps a leading U+FEFF: a string value must come back exactly as it was sent.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const encoder = new TextEncoder()

/** Strict UTF-8 decoding; invalid input throws a `CodecError` at the offset of the first bad sequence. */
export function decodeUtf8(bytes: Uint8Array, codec: CodecName, offsetBase = 0): string {
  try {
    return decoder.decode(bytes)
  } catch {
    throw new CodecError(codec, 'invalid UTF-8', offsetBase + firstInvalidUtf8(bytes))
  }
}

export function encodeUtf8(text: string): Uint8Array {
  return encoder.encode(text)
}

/** True when a string has a lone surrogate, which UTF-8 cannot carry (TextEncoder would write U+FFFD). */
export function hasLoneSurrogate(text: string): boolean {
  return /\p{Cs}/u.test(text)
}

/** The offset of the first ill-formed sequence (RFC 3629), or the length when the input is valid. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length
  let i = 0
  while (i < n) {
    const b = bytes[i] as number
    if (b < 0x80) {
      i++
      continue
    }
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0
    if (need === 0 || i + need >= n) return i
    // The second byte has tighter bounds for overlongs, surrogates and code points above U+10FFFF.
    const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80
    const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf
    const b1 = bytes[i + 1] as number
    if (b1 < lo || b1 > hi) return i
    for (let k = 2; k <= need; k++) {
      const c = bytes[i + k] as number
      if (c < 0x80 || c > 0xbf) return i
    }
    i += need + 1
  }
  return n
}
