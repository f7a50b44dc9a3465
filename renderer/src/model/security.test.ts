import { describe, expect, it } from 'vitest'
import { emptySecurityForm, formToReplace, modeText, normalizeKeyHex, randomKeyHex, setSecurityInput, sortedEntries } from './security.ts'

describe('security form', () => {
  it('gives a PSK input with the key normalised to hex, and a NoSec input without identity or key', () => {
    const form = { ...emptySecurityForm(), endpoint: ' ecg-1 ', identity: 'ecg-1-id', key: '0x00:11:22:33 44-55-66-77' }
    expect(setSecurityInput(form)).toEqual({ ok: true, value: { endpoint: 'ecg-1', identity: 'ecg-1-id', key: '0011223344556677' } })
    expect(setSecurityInput({ ...form, mode: 'nosec' })).toEqual({ ok: true, value: { endpoint: 'ecg-1', mode: 'nosec' } })
  })

  it('says what is wrong, per field', () => {
    const result = setSecurityInput({ endpoint: '', mode: 'psk', identity: '', key: 'xyz' })
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.error.message).toContain('endpoint: endpoint is empty')
      expect(result.error.message).toContain('identity: identity is empty')
      expect(result.error.message).toContain('key: key must be hex digits, two per byte')
    }
    const short = setSecurityInput({ endpoint: 'e', mode: 'psk', identity: 'i', key: '0011' })
    expect(!short.ok && short.error.message).toBe('key: key must be at least 8 bytes (16 hex digits)')
  })

  it('replaces an entry with its endpoint and identity, never a key', () => {
    expect(formToReplace({ endpoint: 'ecg-1', mode: 'psk', identity: 'id-1', updatedAt: 1 })).toEqual({ endpoint: 'ecg-1', mode: 'psk', identity: 'id-1', key: '' })
    expect(formToReplace({ endpoint: 'legacy', mode: 'nosec', updatedAt: 1 })).toEqual({ endpoint: 'legacy', mode: 'nosec', identity: 'legacy', key: '' })
  })

  it('generates keys of 16 random bytes from the given source, never shorter than the minimum', () => {
    expect(randomKeyHex(16, (a) => void a.fill(0xab))).toBe('ab'.repeat(16))
    expect(randomKeyHex(2, (a) => void a.fill(1))).toBe('01'.repeat(8))
    const a = randomKeyHex()
    expect(a).toMatch(/^[0-9a-f]{32}$/)
    expect(randomKeyHex()).not.toBe(a)
  })

  it('normalises pasted keys and names the modes', () => {
    expect(normalizeKeyHex(' 0XAB CD ')).toBe('abcd')
    expect(modeText('psk')).toBe('DTLS-PSK')
    expect(modeText('nosec')).toBe('NoSec (plain CoAP allowed)')
    expect(sortedEntries([{ endpoint: 'b', mode: 'nosec', updatedAt: 0 }, { endpoint: 'a', mode: 'nosec', updatedAt: 0 }]).map((e) => e.endpoint)).toEqual(['a', 'b'])
  })
})
