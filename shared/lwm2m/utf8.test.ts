import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { codecError } from './fixtures.test-helper.ts'
import { decodeUtf8, firstInvalidUtf8, hasLoneSurrogate } from './utf8.ts'

describe('utf8', () => {
  it('decodes strictly, keeping a leading BOM', () => {
    expect(decodeUtf8(new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0xc3, 0xa9]), 'Text')).toBe('\uFEFFaé')
  })

  it('names the offset of the first ill-formed sequence', () => {
    const cases: [number[], number][] = [
      [[0x61, 0x80], 1], // lone continuation byte
      [[0x61, 0xc0, 0xaf], 1], // overlong "/"
      [[0xe0, 0x80, 0xaf], 0], // overlong 3-byte
      [[0x61, 0x62, 0xed, 0xa0, 0x80], 2], // UTF-16 surrogate
      [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
      [[0xf0, 0x9f, 0x98], 0], // truncated
      [[0xe2, 0x82, 0x61], 0], // bad third byte
      [[0xff], 0],
    ]
    for (const [bytes, offset] of cases) {
      expect(codecError(() => decodeUtf8(new Uint8Array(bytes), 'Link format', 10)).message).toBe(`Link format: invalid UTF-8 at offset ${10 + offset}`)
    }
  })

  it('agrees with TextDecoder on where valid UTF-8 ends', () => {
    const strict = new TextDecoder('utf-8', { fatal: true })
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        const at = firstInvalidUtf8(bytes)
        expect(() => strict.decode(bytes)).toSatisfy((run: () => unknown) => {
          try {
            run()
            return at === bytes.length
          } catch {
            return at < bytes.length
          }
        })
        if (at < bytes.length) expect(() => strict.decode(bytes.subarray(0, at))).not.toThrow()
      }),
      { numRuns: 5000 },
    )
  })

  it('finds lone surrogates only', () => {
    expect(hasLoneSurrogate('a\uD83D\uDE00b')).toBe(false)
    expect(hasLoneSurrogate('a\uD83Db')).toBe(true)
    expect(hasLoneSurrogate('\uDE00')).toBe(true)
  })
})
