import { describe, expect, it } from 'vitest'
import { fuzzPayloads, runFuzz } from './fuzz.test-helper.ts'
import { TYPE_BY_RESOURCE_ID as models } from './fixtures.test-helper.ts'
import { makePath } from './path.ts'
import { textCodec } from './text.ts'
import { RESOURCE_TYPES } from './values.ts'

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

const SEEDS = ['Open Mobile Alliance', '-9223372036854775808', '18446744073709551615', '-1.5E-3', '1', 'AQID/w==', '1367491215', '3:0', '</3/0>'].map(utf8)
const TOKENS = ['-', '.', 'e', 'E+', '0', '9', '=', ':', '/', '+', '\u00e9', '\uD83D\uDE00']

describe('text/plain decoder fuzz', () => {
  it('answers 100,000 mutated and random payloads, under every resource type, with a record or a CodecError', { timeout: 60_000 }, () => {
    const { decoded, rejected } = runFuzz(
      // Cycle the request path through the model's types, so each payload meets a different parser.
      (bytes, i) => textCodec.decode(bytes, { basePath: makePath([9, 0, i % RESOURCE_TYPES.length]), models }),
      fuzzPayloads(SEEDS, 100_000, { tokens: TOKENS, seed: 0 }),
    )
    expect(decoded + rejected).toBe(100_000)
    expect(decoded).toBeGreaterThan(10_000)
    expect(rejected).toBeGreaterThan(10_000)
  })
})
