import { createCipheriv, createDecipheriv } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { cipherSuiteNamed, keyBlockLength, splitKeyBlock, type CipherSuiteName } from './cipher-suites.ts'
import { ContentType, DTLS_1_2 } from './record.ts'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')

describe('AES-CCM with an 8-byte tag', () => {
  it('is what RFC 3610 packet vector #1 says (the primitive CCM_8 stands on)', () => {
    const packet = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e')
    const cipher = createCipheriv('aes-128-ccm', hex('c0c1c2c3c4c5c6c7c8c9cacbcccdcecf'), hex('00000003020100a0a1a2a3a4a5'), { authTagLength: 8 })
    cipher.setAAD(packet.subarray(0, 8), { plaintextLength: 23 })
    const out = Buffer.concat([cipher.update(packet.subarray(8)), cipher.final(), cipher.getAuthTag()])
    expect(out.toString('hex')).toBe('588c979a61c663d2f066d0c2c0f989806d5f6b61dac384' + '17e8d12cfdf926e0')
  })
})

const SUITES: CipherSuiteName[] = ['TLS_PSK_WITH_AES_128_CCM_8', 'TLS_PSK_WITH_AES_128_CBC_SHA256']

describe.each(SUITES)('%s record protection', (name) => {
  const suite = cipherSuiteNamed(name)
  const keys = splitKeyBlock(suite, Buffer.from(Array.from({ length: keyBlockLength(suite) }, (_, i) => i)))
  const protection = suite.protect(keys.client)

  it('opens what it sealed, for every plaintext length around a block', () => {
    for (let length = 0; length <= 40; length++) {
      const plaintext = Buffer.alloc(length, length)
      const sealed = protection.seal(ContentType.applicationData, DTLS_1_2, 1, 7, plaintext)
      expect(sealed.length).toBeLessThanOrEqual(length + protection.overhead)
      expect(protection.open(ContentType.applicationData, DTLS_1_2, 1, 7, sealed)).toEqual(plaintext)
    }
  })

  it('refuses a flipped bit anywhere, another sequence number, type or epoch, and the other direction\'s key', () => {
    const sealed = protection.seal(ContentType.applicationData, DTLS_1_2, 1, 7, Buffer.from('coap payload'))
    for (let i = 0; i < sealed.length; i++) {
      const tampered = Buffer.from(sealed)
      tampered[i] = (tampered[i] as number) ^ 0x01
      expect(protection.open(ContentType.applicationData, DTLS_1_2, 1, 7, tampered), `bit flipped in byte ${i}`).toBeUndefined()
    }
    expect(protection.open(ContentType.applicationData, DTLS_1_2, 1, 8, sealed)).toBeUndefined()
    expect(protection.open(ContentType.alert, DTLS_1_2, 1, 7, sealed)).toBeUndefined()
    expect(protection.open(ContentType.applicationData, DTLS_1_2, 2, 7, sealed)).toBeUndefined()
    expect(suite.protect(keys.server).open(ContentType.applicationData, DTLS_1_2, 1, 7, sealed)).toBeUndefined()
    expect(protection.open(ContentType.applicationData, DTLS_1_2, 1, 7, sealed.subarray(0, 10))).toBeUndefined()
  })
})

describe('key block split (RFC 5246 §6.3)', () => {
  it('takes MAC keys, then keys, then IVs, client before server', () => {
    const ccm = cipherSuiteNamed('TLS_PSK_WITH_AES_128_CCM_8')
    expect(keyBlockLength(ccm)).toBe(40)
    const block = Buffer.from(Array.from({ length: 40 }, (_, i) => i))
    const { client, server } = splitKeyBlock(ccm, block)
    expect([client.key[0], server.key[0], client.iv, server.iv]).toEqual([0, 16, block.subarray(32, 36), block.subarray(36, 40)])
    const cbc = cipherSuiteNamed('TLS_PSK_WITH_AES_128_CBC_SHA256')
    expect(keyBlockLength(cbc)).toBe(96)
    const split = splitKeyBlock(cbc, Buffer.from(Array.from({ length: 96 }, (_, i) => i)))
    expect([split.client.macKey[0], split.server.macKey[0], split.client.key[0], split.server.key[0], split.client.iv.length]).toEqual([0, 32, 64, 80, 0])
  })
})

describe('CBC padding', () => {
  it('refuses a record whose MAC is right but whose padding bytes disagree', () => {
    const suite = cipherSuiteNamed('TLS_PSK_WITH_AES_128_CBC_SHA256')
    const keys = splitKeyBlock(suite, Buffer.alloc(96, 3))
    const protection = suite.protect(keys.client)
    // 13 bytes + 32 MAC + 3 bytes of padding (each 2) = 48 bytes under a 16-byte IV.
    const sealed = protection.seal(ContentType.applicationData, DTLS_1_2, 1, 1, Buffer.alloc(13, 9))
    expect(sealed.length).toBe(16 + 48)
    const iv = sealed.subarray(0, 16)
    const padded = Buffer.concat([createDecipheriv('aes-128-cbc', keys.client.key, iv).setAutoPadding(false).update(sealed.subarray(16))])
    expect([...padded.subarray(45)]).toEqual([2, 2, 2])
    padded[45] = 7 // the MAC does not cover the padding: only the padding check can catch this
    const forged = Buffer.concat([iv, createCipheriv('aes-128-cbc', keys.client.key, iv).setAutoPadding(false).update(padded)])
    expect(protection.open(ContentType.applicationData, DTLS_1_2, 1, 1, forged)).toBeUndefined()
    padded[45] = 2
    const restored = Buffer.concat([iv, createCipheriv('aes-128-cbc', keys.client.key, iv).setAutoPadding(false).update(padded)])
    expect(protection.open(ContentType.applicationData, DTLS_1_2, 1, 1, restored)).toEqual(Buffer.alloc(13, 9))
  })
})
