import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { blockCcm, nativeCcm } from './aes-ccm.ts'

const hex = (s: string): Buffer => Buffer.from(s, 'hex')
const KEY = hex('c0c1c2c3c4c5c6c7c8c9cacbcccdcecf')

// RFC 3610 §8, packet vectors #1 (13-byte nonce, M = 8) and #4 (12-byte AAD): header = AAD, the rest is the message.
const VECTORS = [
  { nonce: '00000003020100a0a1a2a3a4a5', packet: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e', aadLength: 8, out: '588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0' },
  { nonce: '00000006050403a0a1a2a3a4a5', packet: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e', aadLength: 12, out: 'a28c6865939a9a79faaa5c4c2a9d4a91cdac8c96c861b9c9e61ef1' },
]

describe.each([
  ['block construction (Electron)', blockCcm],
  ['native mode (Node)', nativeCcm],
])('AES-128-CCM, %s', (_, ccm) => {
  it.each(VECTORS)('seals and opens RFC 3610 vector with nonce $nonce', ({ nonce, packet, aadLength, out }) => {
    const p = hex(packet)
    const sealed = ccm.seal(KEY, hex(nonce), p.subarray(0, aadLength), p.subarray(aadLength), 8)
    expect(Buffer.concat([sealed.ciphertext, sealed.tag]).toString('hex')).toBe(out)
    expect(ccm.open(KEY, hex(nonce), p.subarray(0, aadLength), sealed.ciphertext, sealed.tag)).toEqual(p.subarray(aadLength))
  })

  it('refuses a changed tag, ciphertext or additional data', () => {
    const nonce = randomBytes(12)
    const aad = randomBytes(13)
    const { ciphertext, tag } = ccm.seal(KEY, nonce, aad, Buffer.from('a DTLS record of CoAP'), 8)
    const flip = (b: Buffer, i: number): Buffer => Buffer.from(b.map((x, j) => (j === i ? x ^ 1 : x)))
    expect(ccm.open(KEY, nonce, aad, ciphertext, flip(tag, 0))).toBeUndefined()
    expect(ccm.open(KEY, nonce, aad, flip(ciphertext, 3), tag)).toBeUndefined()
    expect(ccm.open(KEY, nonce, flip(aad, 12), ciphertext, tag)).toBeUndefined()
  })
})

describe('the block construction and the native mode', () => {
  it('agree on every DTLS-shaped input (12-byte nonce, 13-byte AAD, 8-byte tag)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.uint8Array({ minLength: 13, maxLength: 13 }), fc.uint8Array({ maxLength: 200 }), (k, n, a, m) => {
        const [key, nonce, aad, message] = [k, n, a, m].map((x) => Buffer.from(x)) as [Buffer, Buffer, Buffer, Buffer]
        const block = blockCcm.seal(key, nonce, aad, message, 8)
        const native = nativeCcm.seal(key, nonce, aad, message, 8)
        expect([block.ciphertext.toString('hex'), block.tag.toString('hex')]).toEqual([native.ciphertext.toString('hex'), native.tag.toString('hex')])
        expect(nativeCcm.open(key, nonce, aad, block.ciphertext, block.tag)).toEqual(message)
      }),
      { numRuns: 300 },
    )
  })
})
