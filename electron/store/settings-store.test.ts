import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { openDatabase } from './database.ts'
import { SettingsStore } from './settings-store.ts'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('SettingsStore', () => {
  it('overwrite leaves no trace of the replaced value in the database file or its WAL, while the database is open', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ot-settings-'))
    dirs.push(dir)
    const db = openDatabase(join(dir, 'objecttwin.db'))
    const store = new SettingsStore(db)
    const secret = 'plain-text-secret-'.repeat(20)
    store.write('other', { note: 'a neighbour on the same page' })
    store.write('mqtt', { password: secret })
    // A shorter row: with a plain write SQLite keeps the old one in the page's free space, and the WAL keeps it too.
    store.overwrite('mqtt', { sealed: 'short' })
    const files = readdirSync(dir).filter((f) => f.startsWith('objecttwin.db'))
    expect(files.some((f) => readFileSync(join(dir, f)).includes(secret.slice(0, 18)))).toBe(false)
    expect(store.read('mqtt', z.object({ sealed: z.string() }))).toEqual({ sealed: 'short' })
    expect(store.read('other', z.object({ note: z.string() }))).toEqual({ note: 'a neighbour on the same page' })
    expect((db.prepare('PRAGMA secure_delete').get() as { secure_delete: number }).secure_delete).toBe(0)
    db.close()
  })

  it('tells a stored section, damaged or not, from one never stored', () => {
    const db = openDatabase(':memory:')
    const store = new SettingsStore(db)
    expect(store.has('mqtt')).toBe(false)
    db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('mqtt', 'not json', 0)").run()
    expect(store.has('mqtt')).toBe(true)
    expect(store.read('mqtt', z.object({}))).toBeUndefined()
  })
})
