import { describe, expect, it } from 'vitest'
import { additionalData, ContentType, DTLS_1_2, encodeRecord, parseRecords } from './record.ts'

describe('DTLS records', () => {
  const a = { type: ContentType.handshake, version: DTLS_1_2, epoch: 0, sequence: 5, fragment: Buffer.from('hello') }
  const b = { type: ContentType.applicationData, version: DTLS_1_2, epoch: 1, sequence: 2 ** 48 - 1, fragment: Buffer.from('data!') }

  it('parses every record of a datagram, 48-bit sequence numbers included', () => {
    expect(parseRecords(Buffer.concat([encodeRecord(a), encodeRecord(b)]))).toEqual([a, b])
  })

  it('stops at a record that cannot be framed and keeps those before it', () => {
    const truncated = Buffer.concat([encodeRecord(a), encodeRecord(b).subarray(0, 15)])
    expect(parseRecords(truncated)).toEqual([a])
    const badType = Buffer.concat([encodeRecord(a), Buffer.from([99]), encodeRecord(b).subarray(1)])
    expect(parseRecords(badType)).toEqual([a])
    const badVersion = encodeRecord(a)
    badVersion.writeUInt16BE(0x0303, 1) // TLS 1.2, not DTLS
    expect(parseRecords(badVersion)).toEqual([])
    expect(parseRecords(Buffer.alloc(0))).toEqual([])
  })

  it('lays out the MAC/AEAD input as epoch, sequence, type, version, length', () => {
    expect(additionalData(23, DTLS_1_2, 1, 0x0102030405, 300).toString('hex')).toBe('0001' + '000102030405' + '17' + 'fefd' + '012c')
  })
})
