import { describe, expect, it } from 'vitest'
import { fuzzPayloads, runFuzz } from './fuzz.test-helper.ts'
import { parseDiscoverLinks, parseLinksBytes, parseRegistrationLinks } from './link-format.ts'

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

const SEEDS = [
  '</>;rt="oma.lwm2m";ct=110,</1>;ver=1.1,</1/0>,</3/0>,</4/0>,</5>',
  '</1>;ver=1.1,</1/1>,</3>;ver=1.2,</3/0>,</3303/0>',
  '</lwm2m>;rt="oma.lwm2m";ct="60 110",</lwm2m/1/0>,</lwm2m/3/0>',
  '</3/0>;pmin=10;pmax=60,</3/0/1>,</3/0/6>;dim=8,</3/0/7>;dim=8;gt=50;lt=42.2;st=0.5',
  '</1/0>;title="a, b;c \\"q\\"";obs;rt=a;rt=b,\n </3/0>',
].map(utf8)
const TOKENS = ['<', '>', ';', ',', '"', '\\', '=', '/', ' ', '\n', 'rt="oma.lwm2m"', 'ver=', 'ct=', 'pmin=', 'gt=', 'dim=', '65535', '\u00e9']

describe('link-format decoder fuzz', () => {
  it('answers 100,000 mutated and random payloads with links or a CodecError', { timeout: 60_000 }, () => {
    const { decoded, rejected } = runFuzz(parseLinksBytes, fuzzPayloads(SEEDS, 100_000, { tokens: TOKENS, seed: 40 }))
    expect(decoded + rejected).toBe(100_000)
    expect(decoded).toBeGreaterThan(5_000)
  })

  it('interprets 20,000 payloads as registration links and 20,000 as Discover links, or throws a CodecError', { timeout: 60_000 }, () => {
    const text = new TextDecoder()
    const registration = runFuzz((bytes) => parseRegistrationLinks(text.decode(bytes)), fuzzPayloads(SEEDS, 20_000, { tokens: TOKENS, seed: 41 }))
    const discover = runFuzz((bytes) => parseDiscoverLinks(text.decode(bytes)), fuzzPayloads(SEEDS, 20_000, { tokens: TOKENS, seed: 42 }))
    expect(registration.decoded).toBeGreaterThan(500)
    expect(discover.decoded).toBeGreaterThan(500)
  })
})
