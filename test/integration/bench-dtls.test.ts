import { describe, expect, it } from 'vitest'
import { DTLS_SUMMARY_KEYS } from '../../bench/dtls-bench.ts'
import { runObjecttwin } from '../support/run-objecttwin.ts'

describe('objecttwin bench dtls', () => {
  it('measures handshakes and reads over DTLS and CoAP, and ends with a summary line holding every key', async () => {
    const r = await runObjecttwin(['bench', 'dtls', '--duration', '0.5', '--clients', '3', '--concurrency', '3', '--handshake-concurrency', '2', '--cipher', 'cbc'], 60_000)
    expect(r.stderr).not.toMatch(/Error|^objecttwin: /m)
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^measure\s+value\s+detail$/)
    expect(r.stdout).toMatch(/^DTLS handshakes\/s\s+[\d,]+\s+TLS_PSK_WITH_AES_128_CBC_SHA256/m)
    const last = lines.at(-1) ?? ''
    expect(last).toMatch(/^summary: /)
    const pairs = new Map(
      last
        .slice('summary: '.length)
        .split(' ')
        .map((pair) => pair.split('=') as [string, string]),
    )
    expect([...pairs.keys()]).toEqual(DTLS_SUMMARY_KEYS)
    for (const key of DTLS_SUMMARY_KEYS) expect(Number(pairs.get(key)), `${key} is a positive number`).toBeGreaterThan(0)
  }, 90_000)

  it('refuses an unknown cipher with a one-line reason', async () => {
    const r = await runObjecttwin(['bench', 'dtls', '--cipher', 'rc4'], 20_000)
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toBe('objecttwin: --cipher must be ccm8 or cbc, not "rc4"')
  })
})
