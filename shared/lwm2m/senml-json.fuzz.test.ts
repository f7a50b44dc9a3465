import { describe, expect, it } from 'vitest'
import { ECG_BATCH, EVERY_TYPE_MODELS } from './fixtures.test-helper.ts'
import { fuzzPayloads, runFuzz } from './fuzz.test-helper.ts'
import { parsePath } from './path.ts'
import { senmlJsonCodec } from './senml-json.ts'
import type { Lwm2mRecord } from './values.ts'

// JSON-ish fragments make mutations reach past the parser into the SenML rules.
const FRAGMENTS = ['{', '}', '[', ']', ',', ':', '"', '"bn"', '"n"', '"v"', '"vs"', '"vd"', '"vlo"', '"bt"', '"t"', '"x_"', '1e400', '-0', 'null', 'true', '"/3/0/"', '9007199254740993', '\\u0000']
const te = new TextEncoder()

const p = parsePath
const records: Lwm2mRecord[] = [
  { path: p('/3/0/0'), value: 'Open Mobile Alliance', type: 'string' },
  { path: p('/3/0/6/0'), value: 1, type: 'integer' },
  { path: p('/3/0/18'), value: new Uint8Array([1, 2, 3, 250]), type: 'opaque' },
  { path: p('/3/0/20'), value: { objectId: 3, instanceId: 0 }, type: 'objlnk' },
  { path: p('/3/0/21'), value: 2.5, type: 'float' },
  { path: p('/3/0/22'), value: true, type: 'boolean' },
]
const SEEDS = [
  senmlJsonCodec.encode(records),
  senmlJsonCodec.encode(ECG_BATCH),
  te.encode('[{"bn":"/3303/0/5700","bt":25462634,"v":22.4,"t":-5},{"v":22.9,"t":-30},{"v":24.1,"t":-50}]'),
  te.encode('[{"bn":"/dev0/3/0/0","vs":"x"},{"bn":"/dev0/3/0/9","v":18446744073709551615,"bver":10}]'),
]

describe('SenML JSON fuzz', () => {
  it('100,000 mutated and random payloads only ever return records or throw CodecError', { timeout: 60_000 }, () => {
    const { decoded, rejected } = runFuzz(
      (payload, i) => senmlJsonCodec.decode(payload, i % 2 ? { models: EVERY_TYPE_MODELS } : { basePath: p('/3/0') }),
      // JSON seldom survives more than two edits; this keeps over 1% of payloads valid, so they reach the SenML rules.
      fuzzPayloads(SEEDS, 100_000, { tokens: FRAGMENTS, seed: 0x5e1a150, maxEdits: 2 }),
    )
    expect(decoded).toBeGreaterThan(1000)
    expect(rejected).toBeGreaterThan(10_000)
  })
})
