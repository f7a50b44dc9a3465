import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { desktopKeyProtector, SafeStorageKeyProtector, type SafeStorageLike } from '../../electron/main/safe-storage-protector.ts'

/**
 * The desktop app's key protection. Electron's safeStorage needs the Electron binary and an OS keychain, which this
 * machine has neither of: a stand-in with safeStorage's contract (strings in, opaque bytes out) takes its place.
 */
function standIn(backend: string, available = true): SafeStorageLike & { calls: number } {
  const key = randomBytes(32)
  const iv = randomBytes(16)
  return {
    calls: 0,
    isEncryptionAvailable: () => available,
    getSelectedStorageBackend: () => backend,
    encryptString(plain) {
      this.calls++
      const c = createCipheriv('aes-256-cbc', key, iv)
      return Buffer.concat([c.update(plain, 'utf8'), c.final()])
    },
    decryptString(encrypted) {
      const d = createDecipheriv('aes-256-cbc', key, iv)
      return Buffer.concat([d.update(encrypted), d.final()]).toString('utf8')
    },
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ot-safe-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const secret = Buffer.from('00112233445566778899aabbccddeeff', 'hex')

describe('desktop key protection', () => {
  it('uses safeStorage when the OS backs it, binding each key to its endpoint', () => {
    const storage = standIn('gnome_libsecret')
    const warnings: string[] = []
    const protector = desktopKeyProtector(storage, dir, { warn: (m) => warnings.push(m) })
    expect(protector).toBeInstanceOf(SafeStorageKeyProtector)
    expect(protector.description).toBe('Electron safeStorage (gnome_libsecret)')
    const blob = protector.protect(secret, 'ecg-1')
    expect(storage.calls).toBe(1)
    expect(Buffer.from(blob).includes(secret)).toBe(false)
    expect(Buffer.from(protector.unprotect(blob, 'ecg-1'))).toEqual(secret)
    expect(() => protector.unprotect(blob, 'ecg-2')).toThrow('the stored key was sealed for another endpoint')
    expect(() => protector.unprotect(Buffer.from('garbage'), 'ecg-1')).toThrow(/^safeStorage cannot decrypt the stored key/)
    expect(warnings).toEqual([])
  })

  it("falls back to an owner-only key file when safeStorage would use Linux's basic_text or is unavailable", () => {
    for (const storage of [standIn('basic_text'), standIn('unknown', false)]) {
      const warnings: string[] = []
      const protector = desktopKeyProtector(storage, dir, { warn: (m) => warnings.push(m) })
      expect(protector.description).toBe(`key file ${join(dir, 'objecttwin.key')}`)
      expect(Buffer.from(protector.unprotect(protector.protect(secret, 'ecg-1'), 'ecg-1'))).toEqual(secret)
      expect(storage.calls).toBe(0)
      expect(warnings).toHaveLength(1)
      expect(statSync(join(dir, 'objecttwin.key')).mode & 0o777).toBe(0o600)
    }
  })
})
