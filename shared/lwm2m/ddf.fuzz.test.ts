import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseDdf } from './ddf.ts'
import { fuzzPayloads, runFuzz } from './fuzz.test-helper.ts'

const FIXTURES = new URL('../../test/fixtures/ddf/', import.meta.url)
const seeds = [
  ...readdirSync(FIXTURES).filter((f) => f.endsWith('.xml')).map((f) => readFileSync(new URL(f, FIXTURES))),
  ...readdirSync(new URL('invalid/', FIXTURES)).map((f) => readFileSync(new URL(`invalid/${f}`, FIXTURES))),
]

// XML-ish fragments that reach the parser's corners: tags, entities, CDATA, DOCTYPE, odd characters.
const FRAGMENTS = [
  '<', '>', '/>', '</', '"', "'", '=', '&', ';', '&amp;', '&#x41;', '&#0;', '&#xD800;', '&lt;', '&unknown;',
  '<Item ID="1">', '</Item>', '<Item>', '<Object>', '</Object>', '<Resources>', '</Resources>', '<LWM2M>', '</LWM2M>',
  '<Name>x</Name>', '<ObjectID>65535</ObjectID>', '<Type>Double</Type>', '<Operations>X</Operations>',
  '<![CDATA[', ']]>', '<!--', '-->', '<?xml version="1.0"?>', '<!DOCTYPE x [<!ENTITY a "aa">]>', '&a;',
  '<__proto__>', '<constructor/>', '\u0000', '\uFFFF', '\uD800', '😀', ' ', '\n', 'ID="99999"', 'xmlns:x="y"',
]

// Payloads are bytes read as UTF-8, as a DDF file is (non-fatal: bad bytes become U+FFFD). Lone surrogates,
// which UTF-8 cannot carry, are covered in ddf.test.ts.
const utf8 = new TextDecoder()

describe('parseDdf fuzz', () => {
  it('returns models or throws CodecError for 10,000 mutated and random files', { timeout: 60_000 }, () => {
    const { decoded: parsed, rejected } = runFuzz(
      (bytes) => expect(Array.isArray(parseDdf(utf8.decode(bytes)))).toBe(true),
      fuzzPayloads(seeds, 10_000, { tokens: FRAGMENTS, seed: 0x0ddf }),
      (e) => expect(e.message.startsWith('DDF: ')).toBe(true),
    )
    // Both paths are exercised: some mutations keep a file valid, most break it.
    expect(parsed).toBeGreaterThan(100)
    expect(rejected).toBeGreaterThan(1000)
  })
})
