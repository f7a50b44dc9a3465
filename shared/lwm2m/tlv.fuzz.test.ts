import { describe, it, expect } from 'vitest'
import { CodecError } from './errors.ts'
import { modelsBy } from './fixtures.test-helper.ts'
import { prng } from './fuzz.test-helper.ts'
import { parsePath } from './path.ts'
import type { Lwm2mPath } from './path.ts'
import { bytesToHex, hexToBytes, RESOURCE_TYPES } from './values.ts'
import { decodeTlvEntries, tlvCodec } from './tlv.ts'

// Every resource id has some type, and one in 11 is unknown (index 10 is past the types), so every value decoder gets exercised.
const models = modelsBy((_o, r) => RESOURCE_TYPES[r % 11])

const SEEDS = [
  // Device /3/0 (TS 1.0 example), wrapped in its instance, the Access Control /2 example, and small pieces.
  'C8 00 14 4F 70 65 6E 20 4D 6F 62 69 6C 65 20 41 6C 6C 69 61 6E 63 65 C8 01 16 4C 69 67 68 74 77 65 69 67 68 74 20 4D 32 4D 20 43 6C 69 65 6E 74 C8 02 09 33 34 35 30 30 30 31 32 33 C3 03 31 2E 30 86 06 41 00 01 41 01 05 88 07 08 42 00 0E D8 42 01 13 88 87 08 41 00 7D 42 01 03 84 C1 09 64 C1 0A 0F 83 0B 41 00 00 C4 0D 51 82 42 8F C6 0E 2B 30 32 3A 30 30 C1 10 55',
  '08 00 0E C1 00 01 C1 01 00 83 02 41 7F 07 C1 03 7F 08 02 12 C1 00 03 C1 01 00 87 02 41 7F 07 61 01 36 01 C1 03 7F',
  '08 00 10 C1 03 01 C4 04 C3 A9 C3 A9 C4 07 00 03 FF FF',
  'C8 02 08 3F B9 99 99 99 99 99 9A C4 03 3F C0 00 00 C1 04 01 C2 05 E2 82',
  '86 06 41 00 01 41 01 05',
  '41 01 05',
  'E1 01 00 01 D0 08 00 0A 00 01 02 03 04 05 06 07 08 09',
  'A3 01 2C 41 01 09',
].map(hexToBytes)

const BASES: Lwm2mPath[] = ['/3', '/3/0', '/3/0/6', '/3/0/6/1', '/2', '/dev0/3/0', '/9000/0/9'].map(parsePath)

function mutate(rand: () => number, int: (n: number) => number): Uint8Array {
  const pick = int(10)
  if (pick === 0) {
    const out = new Uint8Array(int(40))
    for (let i = 0; i < out.length; i++) out[i] = int(256)
    return out
  }
  const seed = SEEDS[int(SEEDS.length)] as Uint8Array
  let bytes = seed.slice()
  const rounds = 1 + int(3)
  for (let k = 0; k < rounds && bytes.length > 0; k++) {
    const at = int(bytes.length)
    switch (int(5)) {
      case 0:
        bytes[at] = (bytes[at] as number) ^ (1 << int(8))
        break
      case 1:
        bytes = bytes.slice(0, at)
        break
      case 2: {
        const insert = Uint8Array.from({ length: 1 + int(4) }, () => int(256))
        const out = new Uint8Array(bytes.length + insert.length)
        out.set(bytes.subarray(0, at))
        out.set(insert, at)
        out.set(bytes.subarray(at), at + insert.length)
        bytes = out
        break
      }
      case 3:
        // Type bytes and lengths are where the interesting bugs live: try extreme values.
        bytes[at] = [0x00, 0xff, 0x7f, 0x80, 0x08, 0x18, 0x38, 0xd8, 0xf8][int(9)] as number
        break
      default:
        bytes = bytes.subarray(int(bytes.length))
    }
  }
  return rand() < 0.5 ? bytes : bytes.slice()
}

describe('TLV fuzz', () => {
  it('decodes 100,000 random and mutated payloads, throwing only CodecError', { timeout: 60_000 }, () => {
    const rand = prng(0x7115)
    const int = (n: number) => Math.floor(rand() * n)
    let decoded = 0
    let rejected = 0
    for (let n = 0; n < 100_000; n++) {
      const bytes = mutate(rand, int)
      const basePath = BASES[n % BASES.length] as Lwm2mPath
      try {
        const records = tlvCodec.decode(bytes, { basePath, models })
        if (!Array.isArray(records)) throw new Error(`decode returned ${typeof records} for ${bytesToHex(bytes)}`)
        decoded++
        if (n % 10 === 0) tlvCodec.encode(records, { basePath, models })
      } catch (e) {
        if (!(e instanceof CodecError)) throw new Error(`non-CodecError for ${bytesToHex(bytes)} at ${JSON.stringify(basePath)}: ${String(e)}`, { cause: e })
        rejected++
      }
      try {
        decodeTlvEntries(bytes)
      } catch (e) {
        if (!(e instanceof CodecError)) throw new Error(`non-CodecError from decodeTlvEntries for ${bytesToHex(bytes)}: ${String(e)}`, { cause: e })
      }
    }
    // Both paths must be exercised, or the fuzzer is not reaching the value decoders.
    expect(decoded).toBeGreaterThan(5_000)
    expect(rejected).toBeGreaterThan(5_000)
  })
})
