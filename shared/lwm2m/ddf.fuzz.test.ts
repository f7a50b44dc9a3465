import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseDdf } from './ddf.ts'
import { CodecError } from './errors.ts'

const FIXTURES = new URL('../../test/fixtures/ddf/', import.meta.url)
const seeds = [
  ...readdirSync(FIXTURES).filter((f) => f.endsWith('.xml')).map((f) => readFileSync(new URL(f, FIXTURES), 'utf8')),
  ...readdirSync(new URL('invalid/', FIXTURES)).map((f) => readFileSync(new URL(`invalid/${f}`, FIXTURES), 'utf8')),
]

// XML-ish fragments that reach the parser's corners: tags, entities, CDATA, DOCTYPE, odd characters.
const FRAGMENTS = [
  '<', '>', '/>', '</', '"', "'", '=', '&', ';', '&amp;', '&#x41;', '&#0;', '&#xD800;', '&lt;', '&unknown;',
  '<Item ID="1">', '</Item>', '<Item>', '<Object>', '</Object>', '<Resources>', '</Resources>', '<LWM2M>', '</LWM2M>',
  '<Name>x</Name>', '<ObjectID>65535</ObjectID>', '<Type>Double</Type>', '<Operations>X</Operations>',
  '<![CDATA[', ']]>', '<!--', '-->', '<?xml version="1.0"?>', '<!DOCTYPE x [<!ENTITY a "aa">]>', '&a;',
  '<__proto__>', '<constructor/>', '\u0000', '\uFFFF', '\uD800', '😀', ' ', '\n', 'ID="99999"', 'xmlns:x="y"',
]

// Deterministic, so a failure can be replayed.
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function mutate(source: string, random: () => number): string {
  const pick = (n: number): number => Math.floor(random() * n)
  let s = source
  const rounds = 1 + pick(4)
  for (let r = 0; r < rounds; r++) {
    const at = pick(s.length + 1)
    switch (pick(6)) {
      case 0: // flip one bit of one character
        if (s.length > 0) {
          const i = Math.min(at, s.length - 1)
          s = s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ (1 << pick(8))) + s.slice(i + 1)
        }
        break
      case 1: // truncate
        s = s.slice(0, at)
        break
      case 2: // delete a span
        s = s.slice(0, at) + s.slice(at + 1 + pick(40))
        break
      case 3: // insert a fragment
        s = s.slice(0, at) + FRAGMENTS[pick(FRAGMENTS.length)] + s.slice(at)
        break
      case 4: // duplicate a span
        s = s.slice(0, at) + s.slice(at, at + pick(200)) + s.slice(at)
        break
      default: // insert random characters
        s = s.slice(0, at) + Array.from({ length: 1 + pick(8) }, () => String.fromCharCode(pick(0x80))).join('') + s.slice(at)
    }
  }
  return s
}

function randomText(random: () => number): string {
  const length = Math.floor(random() * 300)
  let s = ''
  for (let i = 0; i < length; i++) s += random() < 0.3 ? FRAGMENTS[Math.floor(random() * FRAGMENTS.length)] : String.fromCharCode(Math.floor(random() * 0x3000))
  return s
}

describe('parseDdf fuzz', () => {
  it('returns models or throws CodecError for 10,000 mutated and random files', { timeout: 60_000 }, () => {
    const random = prng(0x0ddf)
    let parsed = 0
    let rejected = 0
    for (let n = 0; n < 10_000; n++) {
      const input = n % 10 === 9 ? randomText(random) : mutate(seeds[n % seeds.length] as string, random)
      try {
        const models = parseDdf(input)
        expect(Array.isArray(models)).toBe(true)
        parsed++
      } catch (e) {
        if (!(e instanceof CodecError)) throw new Error(`case ${n} threw ${String(e)} for input ${JSON.stringify(input.slice(0, 300))}`, { cause: e })
        expect(e.message.startsWith('DDF: ')).toBe(true)
        rejected++
      }
    }
    // Both paths are exercised: some mutations keep a file valid, most break it.
    expect(parsed).toBeGreaterThan(100)
    expect(rejected).toBeGreaterThan(1000)
  })
})
