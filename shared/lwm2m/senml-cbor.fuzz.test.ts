import { describe, expect, it } from 'vitest'
import { ECG_BATCH, EVERY_TYPE_MODELS } from './fixtures.test-helper.ts'
import { CBOR_HEADS, fuzzPayloads, runFuzz } from './fuzz.test-helper.ts'
import { parsePath } from './path.ts'
import { senmlCborCodec } from './senml-cbor.ts'
import { hexToBytes, type Lwm2mRecord } from './values.ts'

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
const SEEDS = [
  senmlCborCodec.encode(records),
  senmlCborCodec.encode(ECG_BATCH),
  hexToBytes('9fbf00662f332f302f390207ffff'),
  hexToBytes('81a40066' + '2f332f302f39' + '02c249010000000000000000186301'),
]

describe('SenML CBOR fuzz', () => {
  it('100,000 mutated and random payloads only ever return records or throw CodecError', { timeout: 60_000 }, () => {
    const { decoded, rejected } = runFuzz(
      (payload, i) => senmlCborCodec.decode(payload, i % 2 ? { models: EVERY_TYPE_MODELS } : {}),
      fuzzPayloads(SEEDS, 100_000, { tokens: CBOR_HEADS, seed: 0x5e1c0b0f }),
    )
    expect(decoded).toBeGreaterThan(1000)
    expect(rejected).toBeGreaterThan(10_000)
  })
})
