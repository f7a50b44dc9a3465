// Test-only support for the `*.fuzz.test.ts` files: deterministic mutated payloads, and the check that a
// decoder answers every one of them with a value or a CodecError.
import { isCodecError, type CodecError } from './errors.ts'
import { bytesToHex } from './values.ts'

/** mulberry32: small, fast and seedable, so a failure can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function randomBytes(rand: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = (rand() * 256) | 0
  return out
}

function splice(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - remove + insert.length)
  out.set(bytes.subarray(0, at))
  out.set(insert, at)
  out.set(bytes.subarray(at + remove), at + insert.length)
  return out
}

/** One to `maxEdits` random edits: bit flips, byte changes, truncations, insertions, deletions, duplicated slices, tokens. */
export function mutate(seed: Uint8Array, rand: () => number, tokens: readonly Uint8Array[] = [], maxEdits = 4): Uint8Array {
  let bytes: Uint8Array = new Uint8Array(seed) // a copy, also of a Node Buffer (whose slice() is a view)
  const edits = 1 + ((rand() * maxEdits) | 0)
  for (let e = 0; e < edits; e++) {
    const at = (rand() * (bytes.length + 1)) | 0
    const kind = (rand() * 7) | 0
    if (kind === 0 && at < bytes.length) bytes[at] = (bytes[at] as number) ^ (1 << ((rand() * 8) | 0))
    else if (kind === 1 && at < bytes.length) bytes[at] = (rand() * 256) | 0
    else if (kind === 2) bytes = bytes.slice(0, at)
    else if (kind === 3) bytes = splice(bytes, at, 0, randomBytes(rand, 1 + ((rand() * 8) | 0)))
    else if (kind === 4) bytes = splice(bytes, at, Math.min(bytes.length - at, 1 + ((rand() * 8) | 0)), new Uint8Array(0))
    else if (kind === 5) {
      const from = (rand() * (bytes.length + 1)) | 0
      bytes = splice(bytes, at, 0, bytes.slice(from, from + 1 + ((rand() * 16) | 0)))
    } else if (tokens.length > 0) bytes = splice(bytes, at, 0, tokens[(rand() * tokens.length) | 0] as Uint8Array)
  }
  return bytes
}

/** Tokens for CBOR decoders: heads with huge lengths, indefinite lengths, tags, breaks, floats. */
export const CBOR_HEADS: readonly Uint8Array[] = [0x1b, 0x5b, 0x7b, 0x9b, 0xbb, 0x9f, 0xbf, 0xff, 0xc1, 0xd9, 0xf9, 0xfb].map((b) => Uint8Array.of(b))

export interface FuzzOptions {
  /** Inserted by mutations; text is inserted as UTF-8. */
  readonly tokens?: readonly (string | Uint8Array)[]
  /** Seeds the PRNG, so a failure replays. */
  readonly seed?: number
  /** Edits per mutated payload, at most; fewer keep more payloads valid for formats that rarely survive an edit. */
  readonly maxEdits?: number
}

/** `count` payloads: mostly mutated seeds, one in ten pure random bytes. */
export function* fuzzPayloads(seeds: readonly Uint8Array[], count: number, { tokens = [], seed = 1, maxEdits = 4 }: FuzzOptions = {}): Generator<Uint8Array> {
  const rand = prng(seed)
  const encodedTokens = tokens.map((t) => (typeof t === 'string' ? new TextEncoder().encode(t) : t))
  for (let i = 0; i < count; i++) {
    if (rand() < 0.1 || seeds.length === 0) yield randomBytes(rand, (rand() * 64) | 0)
    else yield mutate(seeds[(rand() * seeds.length) | 0] as Uint8Array, rand, encodedTokens, maxEdits)
  }
}

/**
 * Runs `decode` on every payload (with its index, to vary the options); anything thrown but a CodecError fails
 * with the payload in hex. `onRejected` may check each CodecError further.
 */
export function runFuzz(
  decode: (bytes: Uint8Array, index: number) => unknown,
  payloads: Iterable<Uint8Array>,
  onRejected?: (error: CodecError) => void,
): { decoded: number; rejected: number } {
  let decoded = 0
  let rejected = 0
  let index = 0
  for (const bytes of payloads) {
    try {
      decode(bytes, index++)
      decoded++
    } catch (e) {
      if (!isCodecError(e)) throw new Error(`decoder threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} for payload ${bytesToHex(bytes)}`, { cause: e })
      onRejected?.(e)
      rejected++
    }
  }
  return { decoded, rejected }
}
