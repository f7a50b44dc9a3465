import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FileKeyProtector, MemoryKeyProtector } from './key-protector.ts'

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ot-keys-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const secret = Buffer.from('00112233445566778899aabbccddeeff', 'hex')

describe('FileKeyProtector', () => {
  it('creates an owner-only key file on first use and round-trips a secret bound to its context', () => {
    const file = join(tempDir(), 'data', 'objecttwin.key')
    const protector = new FileKeyProtector(file)
    const blob = protector.protect(secret, 'ep-1')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readFileSync(file).length).toBe(32)
    expect(Buffer.from(blob).includes(secret)).toBe(false)
    expect(Buffer.from(protector.unprotect(blob, 'ep-1'))).toEqual(secret)
    // The same file in another process (a new protector) opens it too.
    expect(Buffer.from(new FileKeyProtector(file).unprotect(blob, 'ep-1'))).toEqual(secret)
  })

  it('refuses a blob moved to another endpoint, a tampered blob and a blob of another key file', () => {
    const protector = new FileKeyProtector(join(tempDir(), 'objecttwin.key'))
    const blob = Buffer.from(protector.protect(secret, 'ep-1'))
    expect(() => protector.unprotect(blob, 'ep-2')).toThrow(/does not decrypt/)
    const tampered = Buffer.from(blob)
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1
    expect(() => protector.unprotect(tampered, 'ep-1')).toThrow(/does not decrypt/)
    expect(() => new FileKeyProtector(join(tempDir(), 'objecttwin.key')).unprotect(blob, 'ep-1')).toThrow(/does not decrypt/)
    expect(() => protector.unprotect(Buffer.from([9, 1, 2]), 'ep-1')).toThrow(/not in a format/)
  })

  it('refuses a key file others can read, and a damaged one', () => {
    const dir = tempDir()
    const loose = join(dir, 'loose.key')
    writeFileSync(loose, Buffer.alloc(32, 7), { mode: 0o644 })
    chmodSync(loose, 0o644)
    expect(() => new FileKeyProtector(loose).protect(secret, 'ep')).toThrow(/can be read by others \(mode 644\).*chmod 600/)
    const short = join(dir, 'short.key')
    writeFileSync(short, Buffer.alloc(5), { mode: 0o600 })
    expect(() => new FileKeyProtector(short).protect(secret, 'ep')).toThrow(/holds 5 bytes, not 32/)
  })
})

describe('MemoryKeyProtector', () => {
  it('round-trips within the process; another instance cannot open its blobs', () => {
    const protector = new MemoryKeyProtector()
    const blob = protector.protect(secret, 'ep')
    expect(Buffer.from(protector.unprotect(blob, 'ep'))).toEqual(secret)
    expect(() => new MemoryKeyProtector().unprotect(blob, 'ep')).toThrow(/does not decrypt/)
  })
})
