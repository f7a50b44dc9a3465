import { describe, expect, it } from 'vitest'
import { keyBlock, masterSecret, prf, pskPremasterSecret, verifyData } from './prf.ts'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')

describe('TLS 1.2 PRF (P_SHA256)', () => {
  it('matches the published test vector (IETF TLS list, msg03416)', () => {
    const out = prf(hex('9bbe436ba940f017b17652849a71db35'), 'test label', hex('a0ba9f936cda311827a6f796ffd5198c'), 100)
    expect(out.toString('hex')).toBe(
      'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66',
    )
  })

  it('gives any length as a prefix of the longer output', () => {
    const secret = hex('00112233')
    expect(prf(secret, 'x', hex('ff'), 7)).toEqual(prf(secret, 'x', hex('ff'), 64).subarray(0, 7))
  })
})

describe('PSK key schedule', () => {
  it('builds the premaster secret as RFC 4279 §2 lays it out', () => {
    expect(pskPremasterSecret(hex('0a0b0c')).toString('hex')).toBe('0003' + '000000' + '0003' + '0a0b0c')
  })

  it('derives master secret, key block and verify_data with the labels of RFC 5246', () => {
    const premaster = pskPremasterSecret(Buffer.from('secretkey'))
    const client = Buffer.alloc(32, 1)
    const server = Buffer.alloc(32, 2)
    const master = masterSecret(premaster, client, server)
    expect(master).toEqual(prf(premaster, 'master secret', Buffer.concat([client, server]), 48))
    // The key block's seed puts the server random first, unlike the master secret's.
    expect(keyBlock(master, client, server, 40)).toEqual(prf(master, 'key expansion', Buffer.concat([server, client]), 40))
    expect(verifyData(master, 'client', Buffer.alloc(32))).toHaveLength(12)
    expect(verifyData(master, 'client', Buffer.alloc(32))).not.toEqual(verifyData(master, 'server', Buffer.alloc(32)))
  })
})
