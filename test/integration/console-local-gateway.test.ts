/**
 * The console's local gateway (issue 6): a BleLwm2mGateway inside ConsoleService, on the virtual radio, registered
 * to the console's own server over loopback UDP. Sensors connect and disconnect with their twins, the virtual links
 * degrade on request, the settings persist in the console's database and restart the gateway, a gateway that
 * cannot start leaves the console working, and `objecttwin serve --demo` runs all of it as a process.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { sensorAddress } from '../../electron/ble/virtual/sensors/index.ts'
import { ConsoleService, type ConsoleOptions } from '../../electron/console/console-service.ts'
import type { GatewayOptions } from '../../electron/gateway/gateway.ts'
import { GatewayStatus } from '../../shared/api/gateway-schemas.ts'
import { ECG_SERVICE_UUID, ECG_VALUE_UUID } from '../../shared/ble/uuids.ts'
import { eventually } from '../support/gateway-harness.ts'
import { jsonRequest } from '../support/http-client.ts'
import { startObjecttwin, type RunningObjecttwin } from '../support/run-objecttwin.ts'
import { EventLog, waitFor } from '../support/server-harness.ts'
import { TestClient } from '../support/test-client.ts'

/** Short timeouts and a 1 s link window, so that a drop ratio shows within seconds. */
const FAST: Partial<GatewayOptions> = { gattTimeoutMs: 2000, connectTimeoutMs: 5000, rssiIntervalMs: 500, linkWindowMs: 1000, client: { lifetime: 60, retryInitialMs: 200 } }
const ECG = sensorAddress(0x01, 1)
const HR = sensorAddress(0x02, 1)
/** Each simulated sensor exposes three services (its own, Battery, Device Information). */
const TWINS_PER_SENSOR = 3

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'objecttwin-local-gw-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function create(options: ConsoleOptions): Promise<ConsoleService> {
  return ConsoleService.create({ coapPort: 0, requestTimeoutMs: 5000, gatewayOptions: FAST, ...options })
}

/** The status once the gateway is registered with `count` sensors, each with all its twins. */
function ready(service: ConsoleService, count: number): Promise<GatewayStatus> {
  return waitFor(() => {
    const s = service.gatewayStatus()
    return s.registered && s.sensors.length === count && s.sensors.every((x) => x.connected && x.twins.length === TWINS_PER_SENSOR) ? s : undefined
  }, `${count} connected sensors with their twins`, 30_000)
}

/** The object IDs the console's server lists for a client. */
function objectsOf(service: ConsoleService, endpoint: string): number[] {
  return service.listClients().find((c) => c.endpoint === endpoint)?.objects.map((o) => o.objectId) ?? []
}

function twinIds(status: GatewayStatus, address?: string): number[] {
  return status.sensors.filter((s) => address === undefined || s.address === address).flatMap((s) => s.twins.map((t) => t.objectId)).sort((a, b) => a - b)
}

function value<T>(result: { ok: true; value: T } | { ok: false; error: { code: string; message: string } }): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`)
  return result.value
}

describe('the demo gateway in ConsoleService', () => {
  let service: ConsoleService
  let log: EventLog

  beforeAll(async () => {
    service = await create({ dataDir: tempDir(), demo: true })
    log = new EventLog(service)
  })
  afterAll(async () => {
    log.unsubscribe()
    await service.close()
  })

  it('registers with its own server and shows three connected sensors with their twins', async () => {
    const status = await ready(service, 3)
    expect(status).toMatchObject({ running: true, endpoint: 'objecttwin-local', adapter: 'virtual', adapterState: 'poweredOn', registered: true })
    expect(status.error).toBeUndefined()
    expect(status.sensors.map((s) => s.name)).toEqual(['ObjectTwin ECG 1', 'ObjectTwin HR 1', 'ObjectTwin Thermo 1'])
    expect(status.sensors.find((s) => s.address === ECG)?.twins.find((t) => t.service === ECG_SERVICE_UUID)?.name).toBe('ECG')
    const ids = twinIds(status)
    expect(new Set(ids).size).toBe(3 * TWINS_PER_SENSOR)
    await waitFor(() => ids.every((id) => objectsOf(service, 'objecttwin-local').includes(id)), 'every twin in the registration')
    // The demo's links retry notifications at the link layer, as real BLE links do.
    expect(status.virtualSensors?.map((v) => [v.id, v.kind, v.interference, v.distanceM, v.linkLayerRetries])).toEqual([['ecg', 'ecg', 0, 1, true], ['hr', 'hr', 0, 1, true], ['thermometer', 'thermometer', 0, 1, true]])
    expect(status.discovered.map((d) => d.address).sort()).toEqual([ECG, HR, sensorAddress(0x03, 1)])

    // The UI follows by events: each is a valid status, and one already showed the three sensors.
    await log.wait('gateway', (e) => e.status.sensors.length === 3)
    for (const e of log.of('gateway')) expect(GatewayStatus.safeParse(e.status).success).toBe(true)
  })

  it('disconnects a sensor (its twins leave the registration) and connects it again with the same object IDs', async () => {
    const before = twinIds(await ready(service, 3), HR)
    const since = log.events.length
    const after = value(await service.gatewayDisconnect(HR))
    expect(after.sensors.map((s) => s.address)).not.toContain(HR)
    expect(twinIds(after)).toHaveLength(2 * TWINS_PER_SENSOR)
    await waitFor(() => before.every((id) => !objectsOf(service, 'objecttwin-local').includes(id)), 'the HR twins gone from the registration')
    await waitFor(() => log.events.slice(since).some((e) => e.kind === 'gateway' && !e.status.sensors.some((s) => s.address === HR)), 'a gateway event without the HR sensor')

    const again = await service.gatewayDisconnect(HR)
    expect(again.ok || again.error.code).toBe('not_found')

    value(await service.gatewayConnect(HR))
    const back = await ready(service, 3)
    expect(twinIds(back, HR)).toEqual(before)
    await waitFor(() => before.every((id) => objectsOf(service, 'objecttwin-local').includes(id)), 'the HR twins back in the registration')
  })

  it('degrades a virtual link: the interference shows in the status and raises the drop ratio', async () => {
    await ready(service, 3)
    // Without link-layer retries a notification is lost with p ≈ interference whatever the rate (with them, 0.3 costs
    // capacity and the 150 Hz stream may still fit).
    const status = value(service.setVirtualLink({ sensor: 'ecg', interference: 0.3, linkLayerRetries: false }))
    expect(status.virtualSensors?.find((v) => v.id === 'ecg')).toMatchObject({ address: ECG, interference: 0.3, distanceM: 1, linkLayerRetries: false })
    expect(service.localGateway.current?.radio?.peripheral(ECG)?.link).toMatchObject({ interference: 0.3, retransmissions: 0 })

    // The ECG streams once observed; its sequence gaps give the drop ratio of each 1 s window.
    const ecg = status.sensors.find((s) => s.address === ECG)?.twins.find((t) => t.service === ECG_SERVICE_UUID)?.objectId
    const rid = service.localGateway.current?.twins.twin(ecg as number)?.resources.find((r) => r.uuid === ECG_VALUE_UUID)?.resourceId
    const observed = await service.observe('objecttwin-local', [`/${ecg}/0/${rid}`])
    expect(observed.ok && observed.value.code).toBe('2.05')
    try {
      const lossy = await waitFor(() => service.gatewayStatus().sensors.find((s) => s.address === ECG && s.dropRatio > 0.1), 'a drop ratio above 0.1', 20_000)
      expect(lossy.notificationsPerSecond).toBeGreaterThan(0)
    } finally {
      value(service.setVirtualLink({ sensor: 'ecg', interference: 0, linkLayerRetries: true }))
      await service.cancelObservation('objecttwin-local', undefined, { passive: true })
    }

    expect(service.localGateway.current?.radio?.peripheral(ECG)?.link.retransmissions).toBe(255)

    // By address, in any spelling; 0 m is taken as touching.
    expect(value(service.setVirtualLink({ sensor: 'C0-07-02-00-00-01', distanceM: 5 })).virtualSensors?.find((v) => v.id === 'hr')?.distanceM).toBe(5)
    expect(value(service.setVirtualLink({ sensor: 'hr', distanceM: 0 })).virtualSensors?.find((v) => v.id === 'hr')?.distanceM).toBe(0.01)
    const unknown = service.setVirtualLink({ sensor: 'ecg7', interference: 0.1 })
    expect(unknown.ok ? 'ok' : unknown.error).toEqual({ code: 'not_found', message: "no simulated sensor 'ecg7' on the virtual radio (there are ecg, hr, thermometer)" })
  })

  it('scans on request and stops when asked', async () => {
    await ready(service, 3)
    value(service.gatewayScan(30))
    await waitFor(() => service.gatewayStatus().scanning, 'scanning')
    value(service.gatewayScan(0))
    await waitFor(() => !service.gatewayStatus().scanning, 'scanning stopped')
    expect(service.gatewayStatus().discovered.every((d) => d.rssi < 0 && d.connectable)).toBe(true)
  })

  it('is switched off by the settings (it de-registers) and on again with the same object IDs', async () => {
    const before = twinIds(await ready(service, 3))
    const off = value(await service.updateSettings({ localGateway: { enabled: false } }))
    expect(off.localGateway).toEqual({ enabled: false, adapter: 'virtual', endpoint: 'objecttwin-local' })
    expect(service.listClients().map((c) => c.endpoint)).not.toContain('objecttwin-local')
    expect(service.gatewayStatus()).toMatchObject({ running: false, registered: false, adapterState: 'off', sensors: [] })
    expect(service.gatewayStatus().error).toBeUndefined()
    const link = service.setVirtualLink({ sensor: 'ecg', interference: 0.1 })
    expect(link.ok ? 'ok' : link.error.code).toBe('unavailable')
    const connect = await service.gatewayConnect(ECG)
    expect(connect.ok ? 'ok' : connect.error.message).toBe('cannot connect: the local gateway is not running (it is off in the settings)')

    value(await service.updateSettings({ localGateway: { enabled: true } }))
    expect(twinIds(await ready(service, 3))).toEqual(before)
  })
})

describe('the local gateway settings', () => {
  it('persist across a restart on the same data dir; a damaged row falls back to the defaults and loses nothing else', async () => {
    const dataDir = tempDir()
    const first = await create({ dataDir })
    const firstLog = new EventLog(first)
    expect(first.getSettings()).toEqual({ localGateway: { enabled: false, adapter: 'default', endpoint: 'objecttwin-local' } })
    expect(first.gatewayStatus()).toMatchObject({ running: false, adapterState: 'off' })
    // A client that never de-registers: its registration is data the damaged settings must not cost.
    const keeper = await TestClient.start({ endpoint: 'keeper', serverPort: first.coapPort })
    expect((await keeper.register()).code).toBe('2.01')
    await keeper.close()

    value(await first.updateSettings({ localGateway: { enabled: true, adapter: 'virtual', endpoint: 'ward-7-console' } }))
    const ids = twinIds(await ready(first, 3))
    await first.close()
    expect(firstLog.of('deregistered').map((e) => e.endpoint)).toContain('ward-7-console')

    const second = await create({ dataDir })
    try {
      expect(second.getSettings()).toEqual({ localGateway: { enabled: true, adapter: 'virtual', endpoint: 'ward-7-console' } })
      const status = await ready(second, 3)
      expect(status.endpoint).toBe('ward-7-console')
      expect(twinIds(status)).toEqual(ids)
    } finally {
      await second.close()
    }

    const db = new DatabaseSync(join(dataDir, 'objecttwin.db'))
    db.prepare("UPDATE settings SET value = '{\"enabled\": tru' WHERE key = 'localGateway'").run()
    db.close()
    const warnings: string[] = []
    const third = await create({ dataDir, onWarning: (m) => warnings.push(m), localGateway: { endpoint: 'fallback-gw' } })
    try {
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/^settings: the stored localGateway is not JSON \(.+\); using the defaults$/)
      expect(third.getSettings()).toEqual({ localGateway: { enabled: false, adapter: 'default', endpoint: 'fallback-gw' } })
      expect(third.gatewayStatus().running).toBe(false)
      expect(third.listClients().map((c) => c.endpoint)).toContain('keeper')
    } finally {
      await third.close()
    }
  })

  it('rejects an invalid patch without changing anything', async () => {
    const service = await create({})
    try {
      const bad = await service.updateSettings({ localGateway: { endpoint: 'has spaces' } })
      expect(bad.ok ? 'ok' : bad.error).toEqual({ code: 'invalid_input', message: 'localGateway.endpoint: endpoint: letters, digits and . _ : - only' })
      expect(service.getSettings().localGateway.endpoint).toBe('objecttwin-local')
    } finally {
      await service.close()
    }
  })
})

describe('a local gateway that cannot start', () => {
  it('reports running:false with the adapter error; the console goes on working and can switch to the virtual radio', async () => {
    const service = await create({ localGateway: { enabled: true, adapter: 'uart:/nonexistent', endpoint: 'no-radio' } })
    try {
      await service.localGateway.whenStarted()
      const status = service.gatewayStatus()
      expect(status).toMatchObject({ running: false, registered: false, adapter: 'uart:/nonexistent', sensors: [] })
      expect(status.error).toMatch(/^BLE adapter uart:\/nonexistent: unavailable: .*\/nonexistent/)
      expect(status.adapterState).toMatch(/^unavailable/)
      expect(service.listClients().map((c) => c.endpoint)).not.toContain('no-radio')
      const scan = service.gatewayScan(5)
      expect(scan.ok ? 'ok' : scan.error.code).toBe('unavailable')
      expect(service.health().status).toBe('ok')

      // The console itself is fine: a client registers and is read.
      const client = await TestClient.start({ endpoint: 'still-served', serverPort: service.coapPort })
      try {
        expect((await client.register()).code).toBe('2.01')
        const read = await service.read('still-served', '/3/0/9')
        expect(read.ok && read.value.code).toBe('2.05')
      } finally {
        await client.close()
      }

      value(await service.updateSettings({ localGateway: { adapter: 'virtual' } }))
      const fixed = await ready(service, 3)
      expect(fixed.error).toBeUndefined()
      expect(objectsOf(service, 'no-radio')).toContain(33000)
    } finally {
      await service.close()
    }
  })
})

describe('objecttwin serve --demo', () => {
  let running: RunningObjecttwin | undefined
  afterEach(async () => {
    await running?.stop('SIGKILL', 5000)
    running = undefined
  })

  it('runs the console with a demo gateway of distinct sensors, and exits 0 on SIGTERM', async () => {
    running = startObjecttwin(['serve', '--demo', '--memory', '--http-port', '0', '--coap-port', '0', '--demo-sensors', 'ecg,ecg,hr'])
    const [, httpPort] = await running.line(/^listening http=(\d+) coap=(\d+) coaps=(\d+)$/, 20_000)
    const base = `http://127.0.0.1:${httpPort}`

    const status = await eventually(async () => {
      const res = await jsonRequest('GET', `${base}/api/gateway`)
      const parsed = GatewayStatus.safeParse(res.json)
      return parsed.success && parsed.data.registered && parsed.data.sensors.filter((s) => s.twins.length === TWINS_PER_SENSOR).length === 3 ? parsed.data : undefined
    }, 'three sensors with their twins at GET /api/gateway', 30_000)
    expect(status.virtualSensors?.map((v) => [v.id, v.address, v.name])).toEqual([
      ['ecg', sensorAddress(0x01, 1), 'ObjectTwin ECG 1'],
      ['ecg2', sensorAddress(0x01, 2), 'ObjectTwin ECG 2'],
      ['hr', sensorAddress(0x02, 1), 'ObjectTwin HR 1'],
    ])
    // The registration follows the twins with an Update.
    const wanted = [33000, 33001, ...twinIds(status)]
    await eventually(async () => {
      const clients = await jsonRequest('GET', `${base}/api/clients`)
      const demo = (clients.json as { endpoint: string; objects: { objectId: number }[] }[]).find((c) => c.endpoint === 'objecttwin-local')
      return wanted.every((id) => demo?.objects.some((o) => o.objectId === id))
    }, 'the demo gateway with every twin at GET /api/clients', 10_000)

    const code = await running.stop('SIGTERM', 10_000)
    expect(code, `exit ${code} (${running.child.signalCode ?? 'no signal'}); output:\n${running.output()}`).toBe(0)
    expect(running.output().split('\n').filter((l) => l.startsWith('listening '))).toHaveLength(1)
  })
})
