import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { base64ToBytes, bytesToBase64 } from './base64.ts'
import { codecError } from './fixtures.test-helper.ts'

describe('base64', () => {
  it('encodes the RFC 4648 test vectors', () => {
    const vectors = ['', 'Zg==', 'Zm8=', 'Zm9v', 'Zm9vYg==', 'Zm9vYmE=', 'Zm9vYmFy']
    vectors.forEach((b64, n) => {
      const bytes = new TextEncoder().encode('foobar'.slice(0, n))
      expect(bytesToBase64(bytes)).toBe(b64)
      expect(base64ToBytes(b64, 'Text')).toEqual(bytes)
    })
  })

  it('reads unpadded and URL-safe base64', () => {
    expect(base64ToBytes('Zm9vYg', 'Text')).toEqual(new TextEncoder().encode('foob'))
    expect(base64ToBytes('-_8', 'Text')).toEqual(new Uint8Array([0xfb, 0xff]))
  })

  it('rejects bad characters and lengths', () => {
    const message = (text: string): string => codecError(() => base64ToBytes(text, 'LwM2M JSON', 'entry 0 "sv"')).message
    expect(message('Zm 9v')).toBe('LwM2M JSON: entry 0 "sv" is not valid base64: character " " at index 2')
    expect(message('Zm9vé')).toBe('LwM2M JSON: entry 0 "sv" is not valid base64: character "é" at index 4')
    expect(message('Zm9=v')).toBe('LwM2M JSON: entry 0 "sv" is not valid base64: character "=" at index 3')
    expect(message('Z')).toBe('LwM2M JSON: entry 0 "sv" is not valid base64: length 1 leaves a lone character')
    expect(message('Zm9vY===')).toBe('LwM2M JSON: entry 0 "sv" is not valid base64: character "=" at index 5')
    expect(message('Zg=')).toBe('LwM2M JSON: entry 0 "sv" is not valid base64: padded length 3 is not a multiple of 4')
  })

  it('round trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(base64ToBytes(bytesToBase64(bytes), 'Text')).toEqual(bytes)
        expect(base64ToBytes(bytesToBase64(bytes, { url: true }), 'Text')).toEqual(bytes)
      }),
    )
  })
})
