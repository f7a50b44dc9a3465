import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase } from './database.ts'
import { FileKeyProtector, MemoryKeyProtector } from './key-protector.ts'
import { SecurityStore } from './security-store.ts'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const KEY_A = Buffer.from('a1a2a3a4a5a6a7a8a9aaabacadaeafb0', 'hex')
const KEY_B = Buffer.from('b1b2b3b4b5b6b7b8', 'hex')

describe('SecurityStore', () => {
  it('binds identities and keys per endpoint, lists them without keys, and hands a key out only by its identity', () => {
    const store = new SecurityStore(openDatabase(':memory:'), new MemoryKeyProtector())
    expect(store.setPsk('ecg-1', 'ecg-1-id', KEY_A)).toMatchObject({ ok: true, value: { endpoint: 'ecg-1', mode: 'psk', identity: 'ecg-1-id' } })
    expect(store.setNoSec('legacy')).toMatchObject({ endpoint: 'legacy', mode: 'nosec' })
    const list = store.list()
    expect(list.map((e) => [e.endpoint, e.mode, e.identity])).toEqual([['ecg-1', 'psk', 'ecg-1-id'], ['legacy', 'nosec', undefined]])
    for (const entry of list) expect(Object.keys(entry).sort()).toEqual(entry.mode === 'psk' ? ['endpoint', 'identity', 'mode', 'updatedAt'] : ['endpoint', 'mode', 'updatedAt'])
    expect(Buffer.from(store.keyForIdentity('ecg-1-id')?.key ?? [])).toEqual(KEY_A)
    expect(store.keyForIdentity('ecg-1-id')?.endpoint).toBe('ecg-1')
    expect(store.keyForIdentity('nobody')).toBeUndefined()
    expect(store.endpointOfIdentity('ecg-1-id')).toBe('ecg-1')
  })

  it('replaces an entry, refuses an identity that belongs to another endpoint, and deletes', () => {
    const store = new SecurityStore(openDatabase(':memory:'), new MemoryKeyProtector())
    store.setPsk('a', 'id-a', KEY_A)
    expect(store.setPsk('b', 'id-a', KEY_B)).toEqual({ ok: false, error: { code: 'conflict', message: 'the PSK identity "id-a" is already bound to endpoint a; an identity belongs to one endpoint' } })
    expect(store.setPsk('a', 'id-a2', KEY_B).ok).toBe(true)
    expect(store.keyForIdentity('id-a')).toBeUndefined()
    expect(Buffer.from(store.keyForIdentity('id-a2')?.key ?? [])).toEqual(KEY_B)
    store.setNoSec('a')
    expect(store.get('a')).toMatchObject({ mode: 'nosec' })
    expect(store.keyForIdentity('id-a2')).toBeUndefined()
    expect(store.delete('a')).toBe(true)
    expect(store.delete('a')).toBe(false)
    expect(store.list()).toEqual([])
  })

  it('keeps keys encrypted at rest: the database file holds no key, and a restart with the key file reads them back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ot-security-'))
    dirs.push(dir)
    const dbFile = join(dir, 'objecttwin.db')
    let db = openDatabase(dbFile)
    new SecurityStore(db, new FileKeyProtector(join(dir, 'objecttwin.key'))).setPsk('ecg-1', 'ecg-1-id', KEY_A)
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    db.close()
    const bytes = readFileSync(dbFile)
    expect(bytes.includes(KEY_A)).toBe(false)
    expect(bytes.includes(Buffer.from(KEY_A.toString('hex')))).toBe(false)
    expect(bytes.includes(Buffer.from('ecg-1-id'))).toBe(true)

    db = openDatabase(dbFile)
    expect(Buffer.from(new SecurityStore(db, new FileKeyProtector(join(dir, 'objecttwin.key'))).keyForIdentity('ecg-1-id')?.key ?? [])).toEqual(KEY_A)
    // Without the right key file the key is unusable: warned, never a wrong key.
    const warnings: string[] = []
    expect(new SecurityStore(db, new MemoryKeyProtector(), (w) => warnings.push(w)).keyForIdentity('ecg-1-id')).toBeUndefined()
    expect(warnings).toEqual([expect.stringMatching(/^security: the key of endpoint ecg-1 cannot be used: the stored key does not decrypt/)])
    db.close()
  })

  it('stores the NoSec policy (allowed until turned off)', () => {
    const db = openDatabase(':memory:')
    const store = new SecurityStore(db, new MemoryKeyProtector())
    expect(store.policy()).toEqual({ refuseNoSec: false })
    store.setPolicy({ refuseNoSec: true })
    expect(new SecurityStore(db, new MemoryKeyProtector()).policy()).toEqual({ refuseNoSec: true })
  })
})
