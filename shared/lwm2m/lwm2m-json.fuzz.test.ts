import { describe, expect, it } from 'vitest'
import { modelsBy } from './fixtures.test-helper.ts'
import { fuzzPayloads, runFuzz } from './fuzz.test-helper.ts'
import { lwm2mJsonCodec } from './lwm2m-json.ts'
import { parsePath } from './path.ts'
import { RESOURCE_TYPES } from './values.ts'

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
// Resources below 40 cycle through the types; the rest are unknown.
const models = modelsBy((_o, r) => (r < 40 ? RESOURCE_TYPES[r % RESOURCE_TYPES.length] : undefined))

const SEEDS = [
  '{"bn":"/3/0/","e":[{"n":"0","sv":"Open Mobile Alliance"},{"n":"6/0","v":1},{"n":"6/1","v":5},{"n":"13","v":1367491215},{"n":"14","sv":"+02:00"}]}',
  '{"bn":"/3303/0/5700","bt":1367491215,"e":[{"v":22.4,"t":-5},{"v":22.9,"t":-30},{"v":24.1,"t":-50}]}',
  '{"bn":"/","e":[{"n":"3/0/5","sv":"AQID/w=="},{"n":"3/0/7","ov":"3:0"},{"n":"3/0/4","bv":true},{"n":"3/0/2","v":18446744073709551615}]}',
  '{"e":[{"n":"/dev0/3/0/1","v":-9223372036854775808,"t":1}]}',
].map(utf8)

const TOKENS = ['{', '}', '[', ']', ',', ':', '"', '\\', '"n":', '"v":', '"sv":', '"bv":', '"ov":', '"t":', '"bt":', '"bn":', 'null', 'true', '1e999', '-', '/', '\u00e9', '"__proto__":']

describe('LwM2M JSON decoder fuzz', () => {
  it('answers 100,000 mutated and random payloads with records or a CodecError', { timeout: 60_000 }, () => {
    const { decoded, rejected } = runFuzz(
      (bytes) => lwm2mJsonCodec.decode(bytes, { basePath: parsePath('/3/0'), models }),
      fuzzPayloads(SEEDS, 100_000, { tokens: TOKENS, seed: 11543 }),
    )
    expect(decoded + rejected).toBe(100_000)
    // The mutations must leave some payloads valid, or the fuzz never gets past the JSON parser.
    expect(decoded).toBeGreaterThan(1000)
  })
})
