import { describe, expect, it } from 'vitest'
import { isCodecError } from './errors.ts'
import type { ModelLookup } from './object-model.ts'
import { parsePath } from './path.ts'
import { senmlCborCodec } from './senml-cbor.ts'
import { hexToBytes, type Lwm2mRecord, type ResourceType } from './values.ts'

// Deterministic xorshift32, so a failure replays.
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s / 2 ** 32
  }
}

function mutate(seed: Uint8Array, random: () => number): Uint8Array {
  const int = (n: number): number => Math.floor(random() * n)
  const bytes = Array.from(seed)
  const edits = 1 + int(4)
  for (let e = 0; e < edits; e++) {
    const at = int(bytes.length + 1)
    switch (int(5)) {
      case 0:
        if (at < bytes.length) bytes[at] = (bytes[at] as number) ^ (1 << int(8))
        break
      case 1:
        bytes.length = int(bytes.length + 1)
        break
      case 2:
        bytes.splice(at, 0, ...Array.from({ length: 1 + int(4) }, () => int(256)))
        break
      case 3:
        bytes.splice(at, 1 + int(3))
        break
      default:
        // Interesting CBOR heads: huge lengths, indefinite, tags, breaks.
        bytes.splice(at, 0, [0x1b, 0x5b, 0x7b, 0x9b, 0xbb, 0x9f, 0xbf, 0xff, 0xc1, 0xd9, 0xf9, 0xfb][int(12)] as number)
    }
  }
  return new Uint8Array(bytes)
}

const TYPES: ResourceType[] = ['string', 'integer', 'unsigned', 'float', 'boolean', 'opaque', 'time', 'objlnk', 'corelnk', 'none']
const models: ModelLookup = { resource: (o, r) => ({ id: r, name: 'x', operations: 'RW', multiple: false, mandatory: false, type: TYPES[(o + r) % TYPES.length] as ResourceType }) }

const p = parsePath
const records: Lwm2mRecord[] = [
  { path: p('/3/0/0'), value: 'Open Mobile Alliance', type: 'string' },
  { path: p('/3/0/6/0'), value: 1, type: 'integer' },
  { path: p('/3/0/9'), value: 2n ** 63n, type: 'unsigned' },
  { path: p('/3/0/18'), value: new Uint8Array([1, 2, 3]), type: 'opaque' },
  { path: p('/3/0/20'), value: { objectId: 3, instanceId: 0 }, type: 'objlnk' },
  { path: p('/3/0/21'), value: 2.5, type: 'float' },
  { path: p('/3/0/22'), value: true, type: 'boolean' },
]
const samples = Array.from({ length: 25 }, (_, i): Lwm2mRecord => ({ path: p('/3303/0/5700'), value: i * 37 - 400, time: 1700000000 + i * 0.004 }))
const SEEDS = [
  senmlCborCodec.encode(records),
  senmlCborCodec.encode(samples),
  hexToBytes('9fbf00662f332f302f390207ffff'),
  hexToBytes('81a40066' + '2f332f302f39' + '02c249010000000000000000186301'),
]

describe('SenML CBOR fuzz', () => {
  it('100,000 mutated and random payloads only ever return records or throw CodecError', { timeout: 60_000 }, () => {
    const random = rng(0x5e1c0b0f)
    let decoded = 0
    let refused = 0
    for (let i = 0; i < 100_000; i++) {
      const payload =
        i % 10 === 0
          ? Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))
          : mutate(SEEDS[i % SEEDS.length] as Uint8Array, random)
      try {
        senmlCborCodec.decode(payload, i % 2 ? { models } : {})
        decoded++
      } catch (e) {
        if (!isCodecError(e)) throw new Error(`non-CodecError for ${Buffer.from(payload).toString('hex')}: ${String(e)}`, { cause: e })
        refused++
      }
    }
    expect(decoded).toBeGreaterThan(1000)
    expect(refused).toBeGreaterThan(10_000)
  })
})
