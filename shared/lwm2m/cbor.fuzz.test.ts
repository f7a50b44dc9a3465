import { describe, expect, it } from 'vitest'
import { cborCodec } from './cbor.ts'
import { EVERY_TYPE_MODELS } from './fixtures.test-helper.ts'
import { CBOR_HEADS, fuzzPayloads, runFuzz } from './fuzz.test-helper.ts'
import { parsePath } from './path.ts'
import { hexToBytes, type Lwm2mRecord } from './values.ts'

const p = parsePath
const values: Lwm2mRecord[] = [
  { path: p('/3/0/0'), value: 'Open Mobile Alliance', type: 'string' },
  { path: p('/3/0/9'), value: -(2n ** 63n), type: 'integer' },
  { path: p('/3/0/9'), value: 2n ** 64n - 1n, type: 'unsigned' },
  { path: p('/3/0/18'), value: new Uint8Array([1, 2, 3]), type: 'opaque' },
  { path: p('/3/0/20'), value: { objectId: 3, instanceId: 0 }, type: 'objlnk' },
  { path: p('/3/0/21'), value: 22.4, type: 'float' },
  { path: p('/3/0/22'), value: true, type: 'boolean' },
  { path: p('/3/0/13'), value: 1367491215, type: 'time' },
]
const SEEDS = [...values.map((r) => cborCodec.encode([r])), hexToBytes('c074323031332d30352d30325431303a34303a31355a'), hexToBytes('c2420100')]
const PATHS = [p('/3/0/9'), p('/dev0/3/0/9/1'), p('/3/0')]

describe('CBOR (60) fuzz', () => {
  it('100,000 mutated and random payloads only ever return records or throw CodecError', { timeout: 60_000 }, () => {
    const { decoded, rejected } = runFuzz(
      (payload, i) => cborCodec.decode(payload, { basePath: PATHS[i % 3] as (typeof PATHS)[number], ...(i % 2 ? { models: EVERY_TYPE_MODELS } : {}) }),
      fuzzPayloads(SEEDS, 100_000, { tokens: CBOR_HEADS, seed: 0xc0b060 }),
    )
    expect(decoded).toBeGreaterThan(1000)
    expect(rejected).toBeGreaterThan(10_000)
  })
})
