/**
 * ObjectTwins end to end (issue 5): the gateway (noble on the virtual radio, the real LwM2M client) registered with
 * the embedded server over loopback. Twins appear when a sensor connects and go when it disconnects, as the server
 * sees them in registration Updates; object IDs stay the same across reconnects and gateway restarts; a tiny pool
 * runs out with an event and a log line; the server manages sensors through the BLE Gateway object.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { AttError } from '../../electron/ble/virtual/gatt-table.ts'
import { OBJECT_ID_FILE } from '../../electron/gateway/gateway.ts'
import type { GatewayEvent } from '../../electron/gateway/gateway.ts'
import { BLE_GATEWAY_OBJECT_ID, BLE_LINK_OBJECT_ID, GatewayResource, LinkResource } from '../../electron/gateway/gateway-objects.ts'
import type { EventOf } from '../support/server-harness.ts'
import {
  BATTERY_SERVICE_UUID, DEVICE_INFORMATION_SERVICE_UUID, ECG_SAMPLING_RATE_UUID, ECG_SERVICE_UUID, ECG_TIMESTAMPING_UUID, ECG_VALUE_UUID,
  HEART_RATE_SERVICE_UUID,
} from '../../shared/ble/uuids.ts'
import { ENDPOINT, clientInfo, eventually, registeredObjects, sensor, startGatewayRig, twinOf, twinsOf, waitFor, waitForObjects } from '../support/gateway-harness.ts'
import type { GatewayRig } from '../support/gateway-harness.ts'

let rig: GatewayRig | undefined

afterEach(async () => {
  await rig?.close()
  rig = undefined
})

const ECG_ADDRESS = 'c0:07:01:00:00:01'
const HR_ADDRESS = 'c0:07:02:00:00:01'

function updatesAfter(r: GatewayRig, index: number): EventOf<'updated'>[] {
  return r.server.log.events.slice(index).filter((e): e is EventOf<'updated'> => e.kind === 'updated' && e.client.endpoint === ENDPOINT)
}

function eventsOf<K extends GatewayEvent['kind']>(r: GatewayRig, kind: K): Extract<GatewayEvent, { kind: K }>[] {
  return r.events.filter((e): e is Extract<GatewayEvent, { kind: K }> => e.kind === kind)
}

describe('ObjectTwins appear and disappear with the sensor', () => {
  it('creates one twin per GATT service on connect, with a generated model, and the server sees them in an Update', async () => {
    rig = await startGatewayRig({ kinds: ['ecg'] })
    const r = rig
    const ids = await twinsOf(r, ECG_ADDRESS, 3)
    // Generic Access / Generic Attribute are not exposed: ECG, Battery and Device Information are.
    expect(r.gateway.twins.twinsOf(ECG_ADDRESS).map((t) => t.serviceUuid).sort()).toEqual([BATTERY_SERVICE_UUID, DEVICE_INFORMATION_SERVICE_UUID, ECG_SERVICE_UUID].sort())
    for (const id of ids) expect(id).toBeGreaterThanOrEqual(1031)
    const update = await r.server.log.wait('updated', (e) => e.objectsChanged && ids.every((id) => e.client.objects.some((o) => o.objectId === id)), 10_000)
    for (const id of ids) expect(update.client.objectLinks).toContain(`</${id}/0>`)

    const ecg = r.gateway.twins.twinsOf(ECG_ADDRESS).find((t) => t.serviceUuid === ECG_SERVICE_UUID)
    expect(ecg).toBeDefined()
    if (!ecg) return
    // Resource 0 describes the service; resources 1-3 are the paper's three characteristics (Fig. 5).
    const model = ecg.model
    expect(model.name).toBe('ECG (ObjectTwin ECG 1)')
    expect(model.resources.get(0)).toMatchObject({ name: 'Service', operations: 'R', type: 'string' })
    expect([1, 2, 3].map((id) => ecg.resources.find((x) => x.resourceId === id)?.uuid)).toEqual([ECG_VALUE_UUID, ECG_SAMPLING_RATE_UUID, ECG_TIMESTAMPING_UUID])
    expect(model.resources.get(1)).toMatchObject({ operations: 'R', type: 'integer', units: '10uV' })
    expect(model.resources.get(2)).toMatchObject({ name: 'Sampling rate (Hz)', operations: 'RW', type: 'integer', units: 'Hz' })
    expect(model.resources.get(3)).toMatchObject({ name: 'Timestamp each reading on/off', operations: 'RW', type: 'boolean' })
    // Names come from 0x2901; the access parameters are all the twin keeps.
    expect(model.resources.get(1)?.name).toBe('ECG sensor value')
    const value = ecg.resources[0]
    expect(value).toMatchObject({ resourceId: 1, properties: ['read', 'notify'], type: 'integer', handle: 0x000e })
    expect(model.resources.get(2)?.description).toBe('sensor c0:07:01:00:00:01; uuid f0010002-0000-1000-8000-00805f9b34fb; properties read,write; handle 0x0012; type integer (profile). ECG sampling rate (uint16, Hz)')

    // The server reads resource 0 and discovers the twin's resources.
    const read = await r.server.server.read(ENDPOINT, `/${ecg.objectId}/0/0`)
    expect(read.ok && read.value.code).toBe('2.05')
    expect(read.ok && read.value.records?.[0]?.value).toBe(`ECG service f0010000-0000-1000-8000-00805f9b34fb of "ObjectTwin ECG 1" (${ECG_ADDRESS}), handles 0x000c..0x0018`)
    const discover = await r.server.server.discover(ENDPOINT, `/${ecg.objectId}`)
    expect(discover.ok && discover.value.links?.map((l) => l.path)).toEqual([`/${ecg.objectId}`, `/${ecg.objectId}/0`, ...[0, 1, 2, 3].map((i) => `/${ecg.objectId}/0/${i}`)])
  })

  it('deletes the twins when the sensor disconnects and sends an Update; they come back with the same IDs on reconnect', async () => {
    rig = await startGatewayRig({ kinds: ['ecg', 'hr'] })
    const r = rig
    const ecgIds = (await twinsOf(r, ECG_ADDRESS, 3)).sort()
    const hrIds = (await twinsOf(r, HR_ADDRESS, 3)).sort()
    await waitForObjects(r, (ids) => [...ecgIds, ...hrIds].every((id) => ids.includes(id)), 'all six twins registered')

    const mark = r.server.log.events.length
    const eventMark = r.events.length
    const dropped = performance.now()
    sensor(r, 'ecg').peripheral.disconnect(0x13)
    const gone = await waitFor(() => updatesAfter(r, mark).find((e) => e.objectsChanged && !ecgIds.some((id) => e.client.objects.some((o) => o.objectId === id))), 'an Update without the ECG twins', 10_000)
    const goneMs = performance.now() - dropped
    // The HR sensor's twins stay.
    for (const id of hrIds) expect(gone.client.objects.some((o) => o.objectId === id)).toBe(true)
    expect(eventsOf(r, 'twinDeleted').map((e) => e.objectId).sort()).toEqual(ecgIds)
    expect(eventsOf(r, 'sensorDisconnected')[0]).toMatchObject({ sensor: ECG_ADDRESS, reason: expect.stringContaining('0x13'), willReconnect: true })
    console.log(`twins gone at the server ${goneMs.toFixed(0)} ms after the sensor dropped the link`)

    // The adapter reconnects by itself: the same service gets the same object ID.
    const back = await waitFor(() => updatesAfter(r, mark).find((e) => ecgIds.every((id) => e.client.objects.some((o) => o.objectId === id))), 'the ECG twins back', 20_000)
    expect(back.objectsChanged).toBe(true)
    expect((await twinsOf(r, ECG_ADDRESS, 3)).sort()).toEqual(ecgIds)
    const recreated = r.events.slice(eventMark).filter((e) => e.kind === 'twinCreated')
    expect(recreated).toHaveLength(3)
    expect(recreated.every((e) => e.kind === 'twinCreated' && e.sensor === ECG_ADDRESS && e.reused)).toBe(true)
  })

  it('keeps the IDs across a gateway restart, whatever order the sensors connect in', async () => {
    rig = await startGatewayRig({ kinds: ['ecg', 'hr'], gateway: { autoConnect: false } })
    const r = rig
    await r.gateway.connectSensor(ECG_ADDRESS)
    const ecgFirst = await twinOf(r, ECG_ADDRESS, ECG_SERVICE_UUID)
    await twinsOf(r, ECG_ADDRESS, 3)
    await r.gateway.connectSensor(HR_ADDRESS)
    const hrFirst = await twinOf(r, HR_ADDRESS, HEART_RATE_SERVICE_UUID)
    await twinsOf(r, HR_ADDRESS, 3)
    const before = new Map(r.gateway.twins.twins().map((t) => [`${t.sensor.address} ${t.serviceUuid}`, t.objectId]))
    expect(before.size).toBe(6)
    expect(ecgFirst).toBe(1031)

    await r.gateway.stop()
    await waitFor(() => r.server.server.getClient(ENDPOINT) === undefined, 'the de-registration')
    const file = JSON.parse(readFileSync(join(r.dataDir, OBJECT_ID_FILE), 'utf8')) as { assignments: Array<{ sensor: string; service: string; objectId: number }> }
    expect(file.assignments).toHaveLength(6)
    expect(file.assignments.find((a) => a.sensor === ECG_ADDRESS && a.service === ECG_SERVICE_UUID)?.objectId).toBe(ecgFirst)

    // The new gateway meets the heart-rate sensor first this time.
    await r.restart({ autoConnect: false })
    await r.gateway.connectSensor(HR_ADDRESS)
    await twinsOf(r, HR_ADDRESS, 3)
    await r.gateway.connectSensor(ECG_ADDRESS)
    await twinsOf(r, ECG_ADDRESS, 3)
    const after = new Map(r.gateway.twins.twins().map((t) => [`${t.sensor.address} ${t.serviceUuid}`, t.objectId]))
    expect(after).toEqual(before)
    expect(await twinOf(r, HR_ADDRESS, HEART_RATE_SERVICE_UUID)).toBe(hrFirst)
    await waitForObjects(r, (ids) => [...before.values()].every((id) => ids.includes(id)), 'the twins registered again')
  })
})

describe('the object ID pool', () => {
  it('does not expose a service once the pool is exhausted, and says why in an event and a log line', async () => {
    rig = await startGatewayRig({ kinds: ['ecg'], gateway: { idPool: { min: 1031, max: 1032 } } })
    const r = rig
    const notExposed = await waitFor(() => eventsOf(r, 'serviceNotExposed')[0], 'the pool-exhausted event')
    expect(notExposed.sensor).toBe(ECG_ADDRESS)
    expect(notExposed.reason).toContain('object ID pool 1031..1032 exhausted: all 2 ids are in use by connected sensors')
    const twins = await twinsOf(r, ECG_ADDRESS, 2)
    expect(twins.sort()).toEqual([1031, 1032])
    expect(r.events.some((e) => e.kind === 'log' && e.level === 'warn' && e.message.includes(`service ${notExposed.service} of ${ECG_ADDRESS} is not exposed: object ID pool 1031..1032 exhausted`))).toBe(true)
    await waitForObjects(r, (ids) => ids.includes(1031) && ids.includes(1032), 'the two twins registered')
    expect(registeredObjects(r).filter((id) => id > 1032 && id < 33000)).toEqual([])
    // The BLE Gateway object tells the server too.
    const free = await r.server.server.read(ENDPOINT, `/${BLE_GATEWAY_OBJECT_ID}/0/${GatewayResource.freeObjectIds}`)
    expect(free.ok && free.value.records?.[0]?.value).toBe(0)
    const last = await r.server.server.read(ENDPOINT, `/${BLE_GATEWAY_OBJECT_ID}/0/${GatewayResource.lastEvent}`)
    expect(last.ok && String(last.value.records?.[0]?.value)).toContain('exhausted')
  })

  it('reports a damaged mapping file, sets it aside and starts with a fresh one', async () => {
    rig = await startGatewayRig({ kinds: ['ecg'], start: false })
    const r = rig
    writeFileSync(join(r.dataDir, OBJECT_ID_FILE), '{"v":1,"assignments":[{"sensor":')
    await r.restart()
    await twinsOf(r, ECG_ADDRESS, 3)
    const warning = r.events.find((e) => e.kind === 'log' && e.level === 'warn' && e.message.includes('is damaged'))
    expect(warning && warning.kind === 'log' && warning.message).toMatch(/object-ids\.json is damaged \(.+\); moved to .+object-ids\.json\.damaged-\d+, starting with an empty mapping/)
    expect(readdirSync(r.dataDir).some((f) => f.startsWith(`${OBJECT_ID_FILE}.damaged-`))).toBe(true)
    const file = JSON.parse(readFileSync(join(r.dataDir, OBJECT_ID_FILE), 'utf8')) as { v: number; assignments: unknown[] }
    expect(file.v).toBe(1)
    expect(file.assignments).toHaveLength(3)
    expect(existsSync(join(r.dataDir, OBJECT_ID_FILE))).toBe(true)
  })
})

describe('GATT discovery failures', () => {
  const READ_BY_GROUP_TYPE = 0x10
  /** The sensor answers its next `n` service discoveries with an ATT error. */
  const failDiscoveries = (r: GatewayRig, n: number): void => {
    for (let i = 0; i < n; i++) sensor(r, 'ecg').peripheral.failNext(READ_BY_GROUP_TYPE, AttError.insufficientResources)
  }
  const failures = (r: GatewayRig): { attempt: number; next: string }[] => eventsOf(r, 'discoveryFailed').map((e) => ({ attempt: e.attempt, next: e.next }))

  it('tries again after a pause, on the same link, and then creates the twins', async () => {
    rig = await startGatewayRig({ kinds: ['ecg'], start: false })
    const r = rig
    failDiscoveries(r, 2)
    await r.restart({ discoveryRetryDelaysMs: [100, 200, 400] })
    await twinsOf(r, ECG_ADDRESS, 3)
    expect(failures(r)).toEqual([{ attempt: 1, next: 'retry' }, { attempt: 2, next: 'retry' }])
    expect(eventsOf(r, 'discoveryFailed')[0]?.reason).toMatch(/^GATT discovery of c0:07:01:00:00:01 failed \(attempt 1 of 4\): .*Insufficient Resources.*; trying again in 100 ms$/)
    expect(eventsOf(r, 'sensorDisconnected')).toEqual([])
  })

  it('drops the link when every attempt fails: the adapter reconnects the sensor and the twins come', async () => {
    rig = await startGatewayRig({ kinds: ['ecg'], start: false })
    const r = rig
    failDiscoveries(r, 4)
    await r.restart({ discoveryRetryDelaysMs: [100, 200, 400] })
    await twinsOf(r, ECG_ADDRESS, 3, 15_000)
    expect(failures(r)).toEqual([1, 2, 3].map((attempt) => ({ attempt, next: 'retry' })).concat([{ attempt: 4, next: 'reconnect' }]))
    expect(eventsOf(r, 'discoveryFailed').at(-1)?.reason).toContain('(attempt 4 of 4)')
    expect(eventsOf(r, 'discoveryFailed').at(-1)?.reason).toContain(`; disconnecting ${ECG_ADDRESS} so that it is connected afresh`)
    expect(eventsOf(r, 'sensorDisconnected')).toMatchObject([{ sensor: ECG_ADDRESS, willReconnect: true }])
    expect(eventsOf(r, 'sensorConnected')).toHaveLength(2)
  })

  it('gives up after three links in a row whose discovery failed, and says so', async () => {
    rig = await startGatewayRig({ kinds: ['ecg'], start: false })
    const r = rig
    failDiscoveries(r, 6)
    await r.restart({ discoveryRetryDelaysMs: [50] })
    const last = await waitFor(() => eventsOf(r, 'discoveryFailed').find((e) => e.next === 'disconnect'), 'the gateway to give up', 20_000)
    expect(last.reason).toContain(`failed on 3 connections in a row: disconnecting ${ECG_ADDRESS} for good (connect it again to retry)`)
    expect(failures(r).map((f) => f.next)).toEqual(['retry', 'reconnect', 'retry', 'reconnect', 'retry', 'disconnect'])
    await waitFor(() => eventsOf(r, 'sensorDisconnected').length === 3, 'the third disconnect')
    expect(eventsOf(r, 'sensorDisconnected').map((e) => e.willReconnect)).toEqual([true, true, false])
    expect(r.gateway.adapter.isConnected(ECG_ADDRESS)).toBe(false)
    expect(r.events.some((e) => e.kind === 'log' && e.level === 'error' && e.message === last.reason)).toBe(true)
    // Connected again by hand, with the sensor behaving, it gets its twins.
    await r.gateway.connectSensor(ECG_ADDRESS)
    await twinsOf(r, ECG_ADDRESS, 3)
  })
})

describe('the server manages BLE sensors through the BLE Gateway object', () => {
  it('scans, connects and disconnects a sensor by Execute', async () => {
    rig = await startGatewayRig({ kinds: ['ecg', 'hr'], gateway: { autoConnect: false } })
    const r = rig
    const gw = `/${BLE_GATEWAY_OBJECT_ID}/0`
    await waitFor(() => clientInfo(r), 'the registration')
    expect(registeredObjects(r).filter((id) => id < 33000 && id > 1000)).toEqual([])

    const scan = await r.server.server.execute(ENDPOINT, `${gw}/${GatewayResource.scan}`, "0='3'")
    expect(scan.ok && scan.value.code).toBe('2.04')
    const seen = await eventually(async () => {
      const res = await r.server.server.read(ENDPOINT, `${gw}/${GatewayResource.discoveredDevices}`)
      const values = res.ok ? (res.value.records ?? []).map((x) => String(x.value)) : []
      return values.some((v) => v.startsWith(`${ECG_ADDRESS};ObjectTwin ECG 1;`)) && values.some((v) => v.startsWith(`${HR_ADDRESS};ObjectTwin HR 1;`)) ? values : undefined
    }, 'both sensors in Discovered Devices', 10_000)
    expect(seen.length).toBeGreaterThanOrEqual(2)

    const connect = await r.server.server.execute(ENDPOINT, `${gw}/${GatewayResource.connect}`, `0='${HR_ADDRESS}'`)
    expect(connect.ok && connect.value.code).toBe('2.04')
    const hrIds = await twinsOf(r, HR_ADDRESS, 3)
    await waitForObjects(r, (ids) => hrIds.every((id) => ids.includes(id)), 'the HR twins at the server')
    const connected = await r.server.server.read(ENDPOINT, `${gw}/${GatewayResource.connectedSensors}`)
    expect(connected.ok && connected.value.records?.map((x) => x.value)).toEqual([`${HR_ADDRESS};ObjectTwin HR 1`])
    const twinLinks = await r.server.server.read(ENDPOINT, `${gw}/${GatewayResource.twinObjects}`)
    expect(twinLinks.ok && twinLinks.value.records?.map((x) => x.value).sort()).toEqual(hrIds.map((id) => `${id}:0`).sort())

    // The link of the sensor as an instance of BLE Link.
    const link = await eventually(async () => {
      const res = await r.server.server.read(ENDPOINT, `/${BLE_LINK_OBJECT_ID}`)
      const recs = res.ok ? res.value.records ?? [] : []
      return recs.some((x) => x.path.endsWith(`/${LinkResource.rssi}`)) ? recs : undefined
    }, 'the BLE Link instance with an RSSI', 10_000)
    const byRes = (rid: number): unknown => link.find((x) => x.path.split('/')[3] === String(rid))?.value
    expect(byRes(LinkResource.address)).toBe(HR_ADDRESS)
    expect(byRes(LinkResource.name)).toBe('ObjectTwin HR 1')
    expect(byRes(LinkResource.connected)).toBe(true)
    expect(byRes(LinkResource.rssi)).toBeLessThan(-30)
    expect(link.filter((x) => x.path.split('/')[3] === String(LinkResource.twinObjects)).map((x) => x.value).sort()).toEqual(hrIds.map((id) => `${id}:0`).sort())

    // Bad arguments are the server's mistake: 4.00 with the reason.
    const bad = await r.server.server.execute(ENDPOINT, `${gw}/${GatewayResource.connect}`, "0='not-an-address'")
    expect(bad.ok && bad.value.code).toBe('4.00')
    expect(bad.ok && bad.value.diagnostic).toBe("Connect: 'not-an-address' is neither a Bluetooth device address nor a device id")
    const missing = await r.server.server.execute(ENDPOINT, `${gw}/${GatewayResource.disconnect}`, `0='${ECG_ADDRESS}'`)
    expect(missing.ok && missing.value.code).toBe('4.04')

    const mark = r.server.log.events.length
    const disconnect = await r.server.server.execute(ENDPOINT, `${gw}/${GatewayResource.disconnect}`, `0='${HR_ADDRESS}'`)
    expect(disconnect.ok && disconnect.value.code).toBe('2.04')
    await waitFor(() => updatesAfter(r, mark).find((e) => e.objectsChanged && !hrIds.some((id) => e.client.objects.some((o) => o.objectId === id))), 'an Update without the HR twins', 10_000)
    // A disconnect asked for is not followed by a reconnect; the link instance stays, disconnected.
    const linkAfter = await eventually(async () => {
      const res = await r.server.server.read(ENDPOINT, `/${BLE_LINK_OBJECT_ID}/0/${LinkResource.connected}`)
      return res.ok && res.value.records?.[0]?.value === false ? res : undefined
    }, 'BLE Link connected = false')
    expect(linkAfter.ok).toBe(true)
    expect(eventsOf(r, 'sensorDisconnected').at(-1)).toMatchObject({ sensor: HR_ADDRESS, willReconnect: false })
  })
})
