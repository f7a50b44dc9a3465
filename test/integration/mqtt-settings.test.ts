/**
 * The MQTT bridge's settings over the API (issue 7) against a real Mosquitto that wants a user name and password
 * (made with `mosquitto_passwd`): a wrong password is an error the status names, the right one connects, the
 * password is accepted but never shown, invalid settings are refused with the reason, and the settings outlive a
 * restart of the console. The password is stored encrypted (a plain-text one is migrated), and one that does not
 * decrypt is a clear error that loses nothing.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { startHttpApi } from '../../electron/console/http-api.ts'
import { createHttpTransport } from '../../renderer/src/api/http-transport.ts'
import type { MqttConfigureInput, MqttStatus } from '../../shared/api/mqtt-schemas.ts'
import { waitFor } from '../support/server-harness.ts'
import { startBroker, subscribe, type Broker } from '../support/mosquitto.ts'
import { hostLacks } from '../support/host-tools.ts'

const WRONG = 'wrong-secret-1'
const RIGHT = 'right-secret-2'

let broker: Broker
let dir: string
let service: ConsoleService
let http: Awaited<ReturnType<typeof startHttpApi>>
let base: string

async function start(): Promise<void> {
  service = await ConsoleService.create({ coapPort: 0, dataDir: dir, onWarning: () => undefined })
  http = await startHttpApi(service, { host: '127.0.0.1', port: 0, rendererDir: null })
  base = `http://127.0.0.1:${http.port}`
}

async function stop(): Promise<void> {
  await http?.app.close()
  await service?.close()
}

async function putMqtt(body: unknown): Promise<{ status: number; text: string; json: Record<string, unknown> }> {
  const res = await fetch(`${base}/api/mqtt`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown> }
}

function stateIs(wanted: MqttStatus['state']): Promise<MqttStatus> {
  return waitFor(() => {
    const status = service.mqttStatus()
    return status.state === wanted ? status : undefined
  }, `the bridge ${wanted} (now ${service.mqttStatus().state}, last error ${service.mqttStatus().lastError ?? 'none'})`, 15_000)
}

/** The stored MQTT settings row, read with a connection of its own (the console stopped). */
function storedRow(): string {
  const db = new DatabaseSync(join(dir, 'objecttwin.db'))
  try {
    return (db.prepare("SELECT value FROM settings WHERE key = 'mqtt'").get() as { value: string }).value
  } finally {
    db.close()
  }
}

function writeRow(value: string): void {
  const db = new DatabaseSync(join(dir, 'objecttwin.db'))
  try {
    db.prepare("UPDATE settings SET value = ? WHERE key = 'mqtt'").run(value)
  } finally {
    db.close()
  }
}

/** Every byte of the database, its WAL and shared memory included. */
function databaseBytes(): Buffer {
  return Buffer.concat(readdirSync(dir).filter((f) => f.startsWith('objecttwin.db')).map((f) => readFileSync(join(dir, f))))
}

beforeAll(async () => {
  broker = await startBroker({ users: { bridge: RIGHT } })
  dir = mkdtempSync(join(tmpdir(), 'ot-mqtt-settings-'))
  await start()
})

afterAll(async () => {
  await stop()
  await broker?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(hostLacks('mosquitto'))('MQTT bridge settings', () => {
  it('starts off, with defaults and a client id of its own', async () => {
    const status = (await (await fetch(`${base}/api/mqtt`)).json()) as MqttStatus
    expect(status).toMatchObject({ state: 'disconnected', published: 0, received: 0, settings: { enabled: false, qos: 1, topicPrefix: 'objecttwin', hasPassword: false } })
    expect(status.settings.clientId).toMatch(/^objecttwin-[0-9a-f]{8}$/)
  })

  it('names a refused password in its status and never shows the password', async () => {
    const put = await putMqtt({ enabled: true, url: broker.url, username: 'bridge', password: WRONG, topicPrefix: 'auth', reconnectPeriodMs: 200 })
    expect(put.status).toBe(200)
    expect(put.json['settings']).toMatchObject({ enabled: true, username: 'bridge', hasPassword: true })
    expect(put.json['settings']).not.toHaveProperty('password')
    expect(put.text).not.toContain(WRONG)

    const refused = await stateIs('error')
    expect(refused.lastError).toMatch(/not authori[sz]ed|bad user ?name or password/i)
    const text = await (await fetch(`${base}/api/mqtt`)).text()
    expect(text).not.toContain(WRONG)
  })

  it('connects with the right password: mosquitto_sub, logged in, sees it online', async () => {
    const put = await putMqtt({ password: RIGHT })
    expect(put.text).not.toContain(RIGHT)
    await stateIs('connected')
    const online = await subscribe(broker, 'auth/bridge/status', 1).messages
    expect(JSON.parse(online[0]?.payload ?? '{}')).toMatchObject({ online: true, clientId: service.mqttStatus().settings.clientId })
  })

  it('refuses invalid settings with the reason and keeps the old ones', async () => {
    const before = service.mqttStatus().settings
    const cases: Array<[unknown, RegExp]> = [
      [{ qos: 3 }, /qos/],
      [{ url: 'http://127.0.0.1:1883' }, /url/],
      [{ topicPrefix: 'a/+/b' }, /topic prefix/],
      [{ tls: { certFile: '/etc/hostname' } }, /key file/],
      [{ passwd: 'x' }, /passwd/],
    ]
    for (const [body, reason] of cases) {
      const put = await putMqtt(body)
      expect(put.status, JSON.stringify(body)).toBe(400)
      expect((put.json['error'] as { message: string }).message).toMatch(reason)
    }
    expect(service.mqttStatus().settings).toEqual(before)

    // The browser transport checks the input before sending and carries the answer.
    const api = createHttpTransport({ baseUrl: base })
    const bad = await api.configureMqtt({ qos: 7 } as unknown as MqttConfigureInput)
    expect(bad.ok || bad.error.code).toBe('invalid_input')
    const status = await api.mqttStatus()
    expect(status.ok && status.value.settings).toEqual(before)
    api.close()
  })

  it('keeps its settings, password included, across a restart of the console', async () => {
    const before = service.mqttStatus().settings
    await stop()
    await start()
    const after = await stateIs('connected')
    expect(after.settings).toEqual(before)
    expect(after.settings.hasPassword).toBe(true)

    // Removing the password (null) is a change like any other: the broker refuses the bridge again.
    const put = await putMqtt({ password: null })
    expect(put.json['settings']).toMatchObject({ hasPassword: false })
    expect((await stateIs('error')).lastError).toMatch(/not authori[sz]ed|bad user ?name or password/i)
  })

  it('stores the password encrypted: neither the row nor the database files hold it', async () => {
    await putMqtt({ password: RIGHT })
    await stateIs('connected')
    await stop()
    const row = JSON.parse(storedRow()) as Record<string, unknown>
    expect(row).not.toHaveProperty('password')
    expect(row).toMatchObject({ username: 'bridge', passwordSealed: expect.any(String) })
    expect(databaseBytes().includes(RIGHT)).toBe(false)
    await start()
    await stateIs('connected')
  })

  it('encrypts a password an older console stored in plain text, leaving no trace of it in the files', async () => {
    await stop()
    const { passwordSealed: _sealed, ...settings } = JSON.parse(storedRow()) as Record<string, unknown>
    writeRow(JSON.stringify({ ...settings, password: RIGHT }))
    expect(databaseBytes().includes(RIGHT)).toBe(true)
    await start()
    await stateIs('connected')
    await stop()
    expect(JSON.parse(storedRow())).toMatchObject({ passwordSealed: expect.any(String) })
    expect(databaseBytes().includes(RIGHT)).toBe(false)
    await start()
    await stateIs('connected')
  })

  it('starts with a clear error when the password does not decrypt, and keeps it stored for the right key file', async () => {
    await stop()
    const keyFile = join(dir, 'objecttwin.key')
    renameSync(keyFile, `${keyFile}.right`)
    writeFileSync(keyFile, randomBytes(32), { mode: 0o600 })
    const row = storedRow()
    await start()
    const status = await stateIs('error')
    expect(status.lastError).toMatch(/^the stored MQTT password cannot be decrypted \(the stored key does not decrypt with this master key .*\): enter the password again, or remove it$/)
    expect(status.settings).toMatchObject({ enabled: true, username: 'bridge', hasPassword: false })
    expect((await fetch(`${base}/api/health`)).status).toBe(200)
    // Another change leaves the stored password as it was; the bridge still says why it cannot connect.
    expect((await putMqtt({ keepaliveSeconds: 40 })).status).toBe(200)
    expect(service.mqttStatus()).toMatchObject({ state: 'error', lastError: status.lastError })
    await stop()
    expect(JSON.parse(storedRow())).toEqual({ ...(JSON.parse(row) as object), keepaliveSeconds: 40 })

    renameSync(`${keyFile}.right`, keyFile)
    await start()
    expect((await stateIs('connected')).settings).toMatchObject({ keepaliveSeconds: 40, hasPassword: true })
  })
})
