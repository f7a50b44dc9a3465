import { describe, expect, it } from 'vitest'
import { REDACTED, redactSecrets, redactValue, rememberSecret } from './redact.ts'

describe('redactSecrets', () => {
  it.each([
    ['PUT /api/security/ecg-1 {"identity":"ecg-1","key":"00112233445566778899aabbccddeeff"}', 'PUT /api/security/ecg-1 {"identity":"ecg-1","key":"[redacted]"}'],
    ["{ password: 'hunter22', user: 'x' }", `{ password: ${REDACTED}, user: 'x' }`],
    ['GET /api/events?kinds=log&token=abcdef123456', `GET /api/events?kinds=log&token=${REDACTED}`],
    ['authorization: Bearer abcdef123456', `authorization: ${REDACTED} ${REDACTED}`],
    ['Authorization header was Bearer abcdef123456.', `Authorization header was Bearer ${REDACTED}`],
    ['objecttwin gateway --psk-identity gw --psk-key 00112233 --server coaps://h', `objecttwin gateway --psk-identity gw --psk-key ${REDACTED} --server coaps://h`],
    ['mqtt://alice:s3cret-pw@broker:1883: connect ECONNREFUSED', `mqtt://alice:${REDACTED}@broker:1883: connect ECONNREFUSED`],
    ['psk_key=deadbeef, pskKey: deadbeef', `psk_key=${REDACTED}, pskKey: ${REDACTED}`],
  ])('hides the value in %s', (text, expected) => {
    expect(redactSecrets(text)).toBe(expected)
  })

  it('leaves ordinary log lines alone', () => {
    for (const line of [
      'in POST /rd 2.01',
      'security: the key of endpoint ecg-1 cannot be used: the stored key does not decrypt',
      'Register of ecg-b from 127.0.0.1:5000 refused (4.03): PSK identity "id-a" may not register as ecg-b',
      'monkey: 5, turkey=3',
    ]) expect(redactSecrets(line)).toBe(line)
  })

  it('hides a remembered secret anywhere, a hex key in either case', () => {
    rememberSecret('C0FFEE0123456789')
    expect(redactSecrets('handshake with c0ffee0123456789 and C0FFEE0123456789 failed')).toBe(`handshake with ${REDACTED} and ${REDACTED} failed`)
    rememberSecret('abc') // too short to hide safely: ignored
    expect(redactSecrets('abc')).toBe('abc')
  })

  it('redacts values handed to a logger: strings, errors and objects', () => {
    expect(redactValue('token=zzzzzzzz')).toBe(`token=${REDACTED}`)
    const error = redactValue(new Error('bad password=letmein1')) as Error
    expect(error.message).toBe(`bad password=${REDACTED}`)
    expect(error.stack).not.toContain('letmein1')
    expect(redactValue({ mqtt: { password: 'letmein1', url: 'mqtt://h' } })).toEqual({ mqtt: { password: REDACTED, url: 'mqtt://h' } })
    expect(redactValue(42)).toBe(42)
  })
})
