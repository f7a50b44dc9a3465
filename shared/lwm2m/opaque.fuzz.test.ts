import { describe, expect, it } from 'vitest'
import { fuzzPayloads, runFuzz } from './fuzz.test-helper.ts'
import { opaqueCodec } from './opaque.ts'
import { parsePath } from './path.ts'

describe('application/octet-stream decoder fuzz', () => {
  it('returns every one of 100,000 payloads as the same bytes', { timeout: 60_000 }, () => {
    const basePath = parsePath('/5/0/0')
    const { decoded, rejected } = runFuzz((bytes) => {
      const [record] = opaqueCodec.decode(bytes, { basePath })
      expect(record?.value).toEqual(bytes)
    }, fuzzPayloads([new Uint8Array([0xde, 0xad, 0xbe, 0xef]), new Uint8Array(300).fill(7)], 100_000, { seed: 42 }))
    expect(decoded).toBe(100_000)
    expect(rejected).toBe(0)
  })
})

describe('the fuzz harness', () => {
  it('fails on anything a decoder throws but a CodecError', () => {
    expect(() =>
      runFuzz((bytes) => {
        if (bytes.length > 3) throw new RangeError('offset is out of bounds')
      }, [new Uint8Array(2), new Uint8Array([1, 2, 3, 4])]),
    ).toThrow('decoder threw RangeError: offset is out of bounds for payload 01020304')
  })
})
