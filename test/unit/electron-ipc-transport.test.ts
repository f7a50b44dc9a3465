import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ECG_SERVICE_UUID } from '../../shared/ble/uuids.ts'
import { API_METHODS, type ConnectionState, type ConsoleApi } from '../../shared/api/console-api.ts'
import type { ObjectTwinBridge } from '../../shared/api/bridge.ts'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import type { Result } from '../../shared/api/result.ts'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { forwardEvents, registerApiHandlers } from '../../electron/main/ipc-bridge.ts'
import { isTrustedSender } from '../../electron/main/window-policy.ts'
import { createPreloadBridge } from '../../electron/preload/bridge.ts'
import { createIpcTransport, isConsoleBridge } from '../../renderer/src/api/ipc-transport.ts'
import { ipcPair } from '../support/ipc-pair.ts'

/**
 * The whole IPC path without Electron: the renderer's IPC transport → the real preload bridge →
 * an in-memory ipcRenderer/ipcMain pair (structured clone both ways) → the real main-process
 * handlers → a real ConsoleService whose local gateway runs on the virtual radio (the first-run demo).
 */

const ENDPOINT = 'objecttwin-local'

let service: ConsoleService
let api: ConsoleApi
let bridge: ObjectTwinBridge
let pair: ReturnType<typeof ipcPair>
/** Every message the main process sent on the event channel. */
const messages: unknown[] = []
let ecgObjectId = 0

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`)
  return result.value
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

beforeAll(async () => {
  service = await ConsoleService.create({ coapPort: 0, demo: true, localGateway: { virtualSensors: ['ecg', 'hr', 'thermometer'] }, onWarning: () => {} })
  pair = ipcPair()
  registerApiHandlers(pair.ipcMain, service, (url) => isTrustedSender(url, undefined))
  const send = pair.webContents.send
  forwardEvents(service, {
    send: (channel, events) => {
      messages.push(events)
      send(channel, events)
    },
    isDestroyed: () => false,
  })
  bridge = createPreloadBridge(pair.ipcRenderer)
  api = createIpcTransport(bridge)
  const status = await until('the demo gateway with its ECG twin', async () => {
    const s = value(await api.gatewayStatus())
    return s.registered && s.sensors.some((sensor) => sensor.twins.some((t) => t.service === ECG_SERVICE_UUID)) ? s : undefined
  })
  ecgObjectId = status.sensors.flatMap((s) => s.twins).find((t) => t.service === ECG_SERVICE_UUID)?.objectId ?? 0
}, 30_000)

afterAll(async () => {
  api?.close()
  await service?.close()
})

describe('IPC transport over the real bridge and engine', () => {
  it('recognises a complete bridge only', () => {
    expect(isConsoleBridge(bridge)).toBe(true)
    expect(isConsoleBridge({ appInfo: () => undefined })).toBe(false)
    const { listClients: _dropped, ...incomplete } = bridge
    expect(isConsoleBridge(incomplete)).toBe(false)
    expect(isConsoleBridge(undefined)).toBe(false)
  })

  it('shows the first-run demo: the local gateway on the virtual radio with ECG, heart-rate and thermometer sensors', async () => {
    const clients = value(await api.listClients())
    expect(clients.map((c) => c.endpoint)).toContain(ENDPOINT)
    const status = value(await api.gatewayStatus())
    expect(status).toMatchObject({ running: true, adapter: 'virtual', registered: true, endpoint: ENDPOINT })
    expect(status.virtualSensors?.map((s) => s.kind).sort()).toEqual(['ecg', 'hr', 'thermometer'])
    expect(value(await api.getSettings()).localGateway).toMatchObject({ enabled: true, adapter: 'virtual' })
    expect(value(await api.health())).toMatchObject({ status: 'ok', clients: 1 })
    // The server learns the twins' models from the gateway after it registers.
    const ecgModel = await until('the ECG twin model', async () => value(await api.clientModels({ endpoint: ENDPOINT })).find((m) => m.id === ecgObjectId))
    expect(ecgModel.resources.map((r) => r.id)).toEqual(expect.arrayContaining([1, 2]))
  })

  it('reads the ECG sampling rate, writes 120 and reads it back', async () => {
    const rate = `/${ecgObjectId}/0/2`
    const first = value(await api.read({ endpoint: ENDPOINT, path: rate }))
    expect(first).toMatchObject({ success: true, code: '2.05' })
    expect(first.records?.[0]?.value).toBe(150)
    expect(value(await api.write({ endpoint: ENDPOINT, path: rate, records: [{ path: rate, value: 120 }] }))).toMatchObject({ success: true, code: '2.04' })
    expect(value(await api.read({ endpoint: ENDPOINT, path: rate })).records?.[0]?.value).toBe(120)
    expect(value(await api.write({ endpoint: ENDPOINT, path: rate, records: [{ path: rate, value: 150 }] }))).toMatchObject({ success: true })
  })

  it('observes the ECG: notifications arrive batched, filtered by kind, until cancelled', async () => {
    const notifications: ConsoleEvent[] = []
    const everything: ConsoleEvent[] = []
    const stopNotifications = api.subscribe((e) => notifications.push(e), { kinds: ['notification'] })
    const stopAll = api.subscribe((e) => everything.push(e))
    const path = `/${ecgObjectId}/0/1`
    const observed = value(await api.observe({ endpoint: ENDPOINT, paths: [path] }))
    expect(observed.success).toBe(true)
    expect(observed.observationId).toEqual(expect.any(String))
    await until('three ECG notifications', async () => (notifications.length >= 3 ? true : undefined))
    expect(notifications.every((e) => e.kind === 'notification' && e.endpoint === ENDPOINT && e.paths.includes(path))).toBe(true)
    expect(everything.filter((e) => e.kind === 'notification').length).toBeGreaterThanOrEqual(notifications.length)
    expect(value(await api.listObservations({ endpoint: ENDPOINT })).some((o) => o.paths.includes(path))).toBe(true)
    expect(value(await api.cancelObservation({ endpoint: ENDPOINT, path, passive: true })).cancelled).toBe(1)
    stopNotifications()
    stopAll()
    // One IPC message carries an array of events; the renderer's listeners never see the IPC event object.
    expect(messages.length).toBeGreaterThan(0)
    for (const m of messages) expect(Array.isArray(m)).toBe(true)
    expect(messages.reduce((n: number, m) => n + (m as unknown[]).length, 0)).toBeGreaterThanOrEqual(messages.length)
    expect(everything.every((e) => !('sender' in e))).toBe(true)
  })

  it('exports the observed ECG samples as one CSV through the bridge', async () => {
    const path = `/${ecgObjectId}/0/1`
    const file = value(await api.exportHistoryCsv({ endpoint: ENDPOINT, path, from: 0, to: Date.now() + 60_000 }))
    expect(file.filename).toBe(`${ENDPOINT}_${ecgObjectId}_0_1.csv`)
    expect(file.samples).toBeGreaterThan(0)
    const lines = file.csv.trimEnd().split('\n')
    expect(lines).toHaveLength(1 + file.samples)
    expect(lines[0]).toBe('time,value')
    expect(lines[1]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z,-?\d/)
  })

  it('changes a simulated link and scans through the gateway methods', async () => {
    const degraded = value(await api.setVirtualLink({ sensor: 'hr', interference: 0.4, distanceM: 3 }))
    expect(degraded.virtualSensors?.find((s) => s.id === 'hr')).toMatchObject({ interference: 0.4, distanceM: 3 })
    value(await api.setVirtualLink({ sensor: 'hr', interference: 0, distanceM: 1 }))
    const plain = value(await api.setVirtualLink({ sensor: 'hr', linkLayerRetries: false }))
    expect(plain.virtualSensors?.find((s) => s.id === 'hr')?.linkLayerRetries).toBe(false)
    expect(value(await api.setVirtualLink({ sensor: 'hr', linkLayerRetries: true })).virtualSensors?.find((s) => s.id === 'hr')?.linkLayerRetries).toBe(true)
    // The main process checks the input itself, whatever the renderer sends.
    const bad = await bridge.setVirtualLink({ sensor: 'hr', linkLayerRetries: 'yes' } as never)
    expect(bad.ok ? 'ok' : bad.error).toEqual({ code: 'invalid_input', message: expect.stringMatching(/linkLayerRetries: Invalid input: expected boolean/) })
    expect(value(await api.gatewayScan({ seconds: 0 })).running).toBe(true)
    const unknown = await api.setVirtualLink({ sensor: 'toaster' })
    expect(unknown.ok ? 'ok' : unknown.error.code).toBe('not_found')
  })

  it('reports invalid input and device answers as Results, not exceptions', async () => {
    const bad = await api.read({ endpoint: ENDPOINT, path: 'not a path' })
    expect(bad.ok ? 'ok' : bad.error.code).toBe('invalid_input')
    if (!bad.ok) expect(bad.error.message).toMatch(/^read: path: /)
    const missing = await api.read({ endpoint: ENDPOINT, path: '/3/7' })
    expect(missing.ok && missing.value.code).toBe('4.04')
    const nobody = await api.getClient({ endpoint: 'nobody' })
    expect(nobody.ok ? 'ok' : nobody.error.code).toBe('not_found')
  })

  it('checks every answer against the result schema and survives a main process without handlers', async () => {
    const lying = createIpcTransport({ ...bridge, health: async () => ({ ok: true, value: { status: 'fine' } }), listClients: async () => 'surprise' as never })
    const health = await lying.health()
    expect(health.ok ? 'ok' : health.error.code).toBe('internal')
    if (!health.ok) expect(health.error.message).toContain('health: the main process answered an unexpected shape (status:')
    const clients = await lying.listClients()
    expect(clients.ok ? 'ok' : clients.error.message).toBe('listClients: the main process answered something that is not a Result')

    const empty = ipcPair()
    const orphan = createIpcTransport(createPreloadBridge(empty.ipcRenderer))
    for (const method of Object.keys(API_METHODS) as Array<keyof typeof API_METHODS>) {
      const answer = await (orphan[method] as (i?: unknown) => Promise<Result<unknown>>)({})
      expect(answer.ok ? 'ok' : answer.error.code, method).toBe('unreachable')
    }
  })

  it('reports the connection open at once, and closed after close()', () => {
    const transport = createIpcTransport(bridge)
    const states: ConnectionState[] = []
    transport.onConnection((s) => states.push(s))
    const received: ConsoleEvent[] = []
    transport.subscribe((e) => received.push(e))
    transport.close()
    pair.webContents.send('console:event', [{ kind: 'sleeping', time: 1, endpoint: 'x' }])
    expect(states).toEqual(['open', 'closed'])
    expect(received).toEqual([])
  })
})
