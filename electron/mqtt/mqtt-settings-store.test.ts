import { describe, expect, it } from 'vitest'
import { openDatabase } from '../store/database.ts'
import { MemoryKeyProtector } from '../store/key-protector.ts'
import { SettingsStore } from '../store/settings-store.ts'
import { defaultMqttSettings } from './mqtt-settings.ts'
import { MqttSettingsStore } from './mqtt-settings-store.ts'

const PASSWORD = 'hub-password-7'

function setUp(): { db: ReturnType<typeof openDatabase>; settings: SettingsStore; row: () => Record<string, unknown>; rowText: () => string; warnings: string[] } {
  const db = openDatabase(':memory:')
  const warnings: string[] = []
  const settings = new SettingsStore(db, (m) => warnings.push(m))
  const rowText = (): string => (db.prepare("SELECT value FROM settings WHERE key = 'mqtt'").get() as { value: string }).value
  return { db, settings, row: () => JSON.parse(rowText()) as Record<string, unknown>, rowText, warnings }
}

describe('MqttSettingsStore', () => {
  it('stores the password sealed, not in the row, and reads it back', () => {
    const { settings, row, rowText } = setUp()
    const protector = new MemoryKeyProtector()
    const saved = new MqttSettingsStore(settings, protector, () => undefined)
    const stored = { ...defaultMqttSettings(), username: 'console', password: PASSWORD }
    expect(saved.save(stored).ok).toBe(true)
    expect(rowText()).not.toContain(PASSWORD)
    expect(row()).toMatchObject({ username: 'console', passwordSealed: expect.any(String) })
    expect(row()).not.toHaveProperty('password')
    expect(new MqttSettingsStore(settings, protector, () => undefined).load()).toEqual(stored)
  })

  it('stores first-run defaults without a password, and reads them back', () => {
    const { settings, row } = setUp()
    const defaults = new MqttSettingsStore(settings, new MemoryKeyProtector(), () => undefined).load()
    expect(row()).toEqual(defaults)
    expect(new MqttSettingsStore(settings, new MemoryKeyProtector(), () => undefined).load()).toEqual(defaults)
  })

  it('seals a plain-text password an older console stored', () => {
    const { settings, row, rowText } = setUp()
    const legacy = { ...defaultMqttSettings(), password: PASSWORD }
    settings.write('mqtt', legacy)
    const protector = new MemoryKeyProtector()
    expect(new MqttSettingsStore(settings, protector, () => undefined).load()).toEqual(legacy)
    expect(rowText()).not.toContain(PASSWORD)
    expect(row()).toHaveProperty('passwordSealed')
    expect(new MqttSettingsStore(settings, protector, () => undefined).load()).toEqual(legacy)
  })

  it('binds the password to its purpose: a blob sealed for an endpoint does not open as the password', () => {
    const { settings, row } = setUp()
    const protector = new MemoryKeyProtector()
    const deviceKey = Buffer.from(protector.protect(Buffer.from(PASSWORD), 'mqtt password')).toString('base64')
    settings.write('mqtt', { ...defaultMqttSettings(), passwordSealed: deviceKey })
    const store = new MqttSettingsStore(settings, protector, () => undefined)
    expect(store.load()).not.toHaveProperty('password')
    expect(store.passwordError).toMatch(/^the stored MQTT password cannot be decrypted/)
    expect(row()['passwordSealed']).toBe(deviceKey)
  })

  it('leaves a password that does not decrypt out, says why, and keeps it stored until a new one (or none) is given', () => {
    const { settings, rowText, warnings } = setUp()
    new MqttSettingsStore(settings, new MemoryKeyProtector(), () => undefined).save({ ...defaultMqttSettings(), password: PASSWORD })
    const before = rowText()
    const store = new MqttSettingsStore(settings, new MemoryKeyProtector(), (m) => warnings.push(m))
    const loaded = store.load()
    expect(loaded).not.toHaveProperty('password')
    expect(store.passwordError).toBe('the stored MQTT password cannot be decrypted (the stored key does not decrypt with this master key (another key file, or a row moved to another endpoint); keys protected by in memory (nothing is stored on disk)): enter the password again, or remove it')
    expect(warnings).toEqual([`mqtt: ${store.passwordError}`])
    expect(rowText()).toBe(before)

    // Another change keeps the sealed password as it was.
    store.save({ ...loaded, qos: 0 }, { keepUnreadable: true })
    expect(JSON.parse(rowText())).toEqual({ ...JSON.parse(before), qos: 0 })
    expect(store.passwordError).toBeDefined()
    // Removing it does remove it.
    store.save({ ...loaded, qos: 0 })
    expect(JSON.parse(rowText())).not.toHaveProperty('passwordSealed')
    expect(store.passwordError).toBeUndefined()
  })

  it('leaves a damaged row in place and serves the defaults', () => {
    const { db, settings, rowText, warnings } = setUp()
    db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('mqtt', '{\"enabled\":', 0)").run()
    expect(new MqttSettingsStore(settings, new MemoryKeyProtector(), () => undefined).load()).toMatchObject({ enabled: false })
    expect(rowText()).toBe('{"enabled":')
    expect(warnings[0]).toMatch(/^settings: the stored mqtt is not JSON/)
  })
})
