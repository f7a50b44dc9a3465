/**
 * The simulated sensors through the BLE adapter and noble's real HCI/L2CAP/ATT stack on the virtual radio
 * (issue 4): scan, connect, discover, read, write, subscribe, RSSI, disconnect against every sensor; the ECG stream
 * rate and its change over GATT; interference → sequence gaps; each fault → a clear error or disconnect event.
 */
import { afterEach, describe, it, expect } from 'vitest'
import { BleAdapter } from '../../electron/ble/adapter/index.ts'
import type { DisconnectEvent } from '../../electron/ble/adapter/index.ts'
import { VirtualRadio, createVirtualNoble } from '../../electron/ble/virtual/virtual-radio.ts'
import type { LinkSettings } from '../../electron/ble/virtual/link-model.ts'
import { createSensor } from '../../electron/ble/virtual/sensors/index.ts'
import type { SensorKind, SimulatedSensorHandle } from '../../electron/ble/virtual/sensors/index.ts'
import { SeqLossCounter, decodeEcgPayload, decodeSamplingRate, encodeSamplingRate } from '../../shared/ble/ecg-payload.ts'
import { decodeBatteryLevel } from '../../shared/ble/battery.ts'
import {
  BATTERY_LEVEL_UUID, BATTERY_SERVICE_UUID, ECG_SAMPLING_RATE_UUID, ECG_SERVICE_UUID, ECG_TIMESTAMPING_UUID, ECG_VALUE_UUID,
  HEALTH_THERMOMETER_SERVICE_UUID, HEART_RATE_CONTROL_POINT_UUID, HEART_RATE_MEASUREMENT_UUID, HEART_RATE_SERVICE_UUID, TEMPERATURE_TYPE_UUID,
} from '../../shared/ble/uuids.ts'
import { ALL_KINDS, exerciseSensor, nextEvent, rejection, sensor, sleep, until } from './ble-sensor-checks.ts'
import type { Rig } from './ble-sensor-checks.ts'

const GATT_TIMEOUT_MS = 1500

const cleanups: Array<() => Promise<void> | void> = []

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** A radio with one sensor of each kind and an adapter over noble on a virtual controller. */
async function rig(kinds: SensorKind[] = ALL_KINDS, link: Partial<LinkSettings> = {}): Promise<Rig> {
  const radio = new VirtualRadio()
  cleanups.push(() => radio.close())
  const sensors: Rig['sensors'] = new Map()
  kinds.forEach((kind, i) => {
    const handle = createSensor(kind, { seed: 100 + i }) as SimulatedSensorHandle
    cleanups.push(() => handle.dispose())
    sensors.set(kind, { handle, peripheral: radio.addPeripheral(handle.definition, { seed: 200 + i, link }) })
  })
  const adapter = new BleAdapter({
    noble: Object.assign(() => createVirtualNoble(radio), { label: 'virtual radio' }),
    gattTimeoutMs: GATT_TIMEOUT_MS,
    connectTimeoutMs: 3000,
    random: () => 0.5,
  })
  cleanups.push(() => adapter.close())
  expect(await adapter.init()).toBe('poweredOn')
  return { radio, adapter, sensors }
}

describe('every simulated sensor through the adapter and noble on the virtual radio', () => {
  for (const kind of ALL_KINDS) {
    it(`${kind}: scan, connect, discover, read, write, subscribe, RSSI, disconnect`, async () => {
      await exerciseSensor(await rig(), kind)
    })
  }

  it('holds all four sensors connected at once, with the ECG and heart-rate streams flowing together', async () => {
    const r = await rig()
    await r.adapter.startScan()
    const ids = [...r.sensors.keys()].map((k) => sensor(r, k).id)
    await until('all four sensors advertising', () => ids.every((id) => r.adapter.discoveredDevices().some((d) => d.id === id)), 5000)
    await Promise.all(ids.map((id) => r.adapter.connect(id)))
    expect(r.adapter.connectedDevices().map((d) => d.id).sort()).toEqual([...ids].sort())
    let ecg = 0
    let hr = 0
    await r.adapter.subscribe(sensor(r, 'ecg').id, ECG_SERVICE_UUID, ECG_VALUE_UUID, () => ecg++)
    await r.adapter.subscribe(sensor(r, 'hr').id, HEART_RATE_SERVICE_UUID, HEART_RATE_MEASUREMENT_UUID, () => hr++)
    await until('both streams', () => ecg > 150 && hr >= 1, 5000)
    // Reads on the other two meanwhile.
    expect(Array.from(await r.adapter.read(sensor(r, 'thermometer').id, HEALTH_THERMOMETER_SERVICE_UUID, TEMPERATURE_TYPE_UUID))).toEqual([2])
    expect(decodeBatteryLevel(await r.adapter.read(sensor(r, 'battery').id, BATTERY_SERVICE_UUID, BATTERY_LEVEL_UUID))).toBeGreaterThan(50)
    await r.adapter.stopScan()
  })
})

/** Subscribe to the ECG value and collect decoded payloads (with the sensor's own clock when timestamping is on). */
async function ecgStream(r: Rig, timestamped = false): Promise<{ id: string; packets: Array<{ seq: number; at: number; sensorMs?: number }> }> {
  const { id } = sensor(r, 'ecg')
  const packets: Array<{ seq: number; at: number; sensorMs?: number }> = []
  await r.adapter.connect(id)
  if (timestamped) await r.adapter.write(id, ECG_SERVICE_UUID, ECG_TIMESTAMPING_UUID, Buffer.from([1]))
  await r.adapter.subscribe(id, ECG_SERVICE_UUID, ECG_VALUE_UUID, (v) => {
    const m = decodeEcgPayload(v)
    packets.push({ seq: m.seq, at: performance.now(), ...(m.timestampMs !== undefined ? { sensorMs: m.timestampMs } : {}) })
  })
  return { id, packets }
}

/**
 * The stream's rate over the next `count` notifications after `skip` more have arrived: in the sensor's
 * own clock (exact, whatever the machine's load) and in arrival time (a loose sanity check).
 */
async function measureRate(packets: Array<{ at: number; sensorMs?: number }>, count: number, skip = 10): Promise<{ sensorHz: number; arrivalHz: number }> {
  const from = packets.length + skip
  await until(`${count + skip} notifications`, () => packets.length >= from + count, 20_000)
  const first = packets[from] as { at: number; sensorMs?: number }
  const last = packets[from + count - 1] as { at: number; sensorMs?: number }
  return {
    sensorHz: ((count - 1) * 1000) / ((last.sensorMs ?? NaN) - (first.sensorMs ?? NaN)),
    arrivalHz: ((count - 1) * 1000) / (last.at - first.at),
  }
}

describe('the ECG stream', () => {
  it('arrives at the configured rate, and at the new rate once the sampling rate is written', async () => {
    // Room on the link (8 PDUs per event): 500 Hz is 94 % of the default link, and this test is about the rate, not capacity.
    const r = await rig(['ecg'], { packetsPerEvent: 8 })
    const { id, packets } = await ecgStream(r, true)
    const at150 = await measureRate(packets, 300)
    expect(at150.sensorHz).toBeGreaterThan(150 * 0.95)
    expect(at150.sensorHz).toBeLessThan(150 * 1.05)
    expect(at150.arrivalHz).toBeGreaterThan(150 * 0.5)
    expect(at150.arrivalHz).toBeLessThan(150 * 1.5)

    await r.adapter.write(id, ECG_SERVICE_UUID, ECG_SAMPLING_RATE_UUID, encodeSamplingRate(500))
    const mark = packets.length
    const at500 = await measureRate(packets, 1000, 50)
    expect(at500.sensorHz).toBeGreaterThan(500 * 0.95)
    expect(at500.sensorHz).toBeLessThan(500 * 1.05)
    expect(at500.arrivalHz).toBeGreaterThan(500 * 0.5)
    expect(at500.arrivalHz).toBeLessThan(500 * 1.5)

    // Without interference nothing is lost: consecutive sequence numbers throughout.
    const loss = new SeqLossCounter()
    for (const p of packets) loss.push(p.seq)
    expect(loss.lost).toBe(0)
    expect(packets.length - mark).toBeGreaterThan(500)
    const ecg = sensor(r, 'ecg').handle as SimulatedSensorHandle<'ecg'>
    expect(ecg.control.getStats().dropped).toBe(0)
  })

  it('shows the induced interference as sequence gaps at about the configured loss', async () => {
    // Room on the link (8 PDUs per 7.5 ms event) so that loss bursts do not also overflow the sensor's queue.
    const r = await rig(['ecg'], { packetsPerEvent: 8 })
    const { id, packets } = await ecgStream(r)
    await r.adapter.write(id, ECG_SERVICE_UUID, ECG_SAMPLING_RATE_UUID, encodeSamplingRate(500))
    await until('the stream at 500 Hz', () => packets.length > 200, 5000)
    const ecg = sensor(r, 'ecg')
    ecg.peripheral.setLink({ interference: 0.1 })
    const from = packets.length
    await until('3000 sequence numbers under interference', () => (packets.at(-1)?.seq ?? 0) - (packets[from]?.seq ?? 0) >= 3000, 20_000)
    const loss = new SeqLossCounter()
    for (const p of packets.slice(from)) loss.push(p.seq)
    expect(loss.lossRatio).toBeGreaterThan(0.04)
    expect(loss.lossRatio).toBeLessThan(0.2)
    // The sensor itself dropped nothing: the gaps are losses on the air.
    expect((ecg.handle as SimulatedSensorHandle<'ecg'>).control.getStats().dropped).toBe(0)

    ecg.peripheral.setLink({ interference: 0 })
    await sleep(200)
    const clean = packets.length
    await until('500 more packets', () => packets.length - clean >= 500, 5000)
    const after = new SeqLossCounter()
    for (const p of packets.slice(clean)) after.push(p.seq)
    expect(after.lost).toBe(0)
  })

  it('timestamps samples when timestamping is switched on over GATT', async () => {
    const r = await rig(['ecg'])
    const { id } = sensor(r, 'ecg')
    await r.adapter.connect(id)
    await r.adapter.write(id, ECG_SERVICE_UUID, ECG_TIMESTAMPING_UUID, Buffer.from([1]))
    expect(Array.from(await r.adapter.read(id, ECG_SERVICE_UUID, ECG_TIMESTAMPING_UUID))).toEqual([1])
    const got: Array<ReturnType<typeof decodeEcgPayload>> = []
    await r.adapter.subscribe(id, ECG_SERVICE_UUID, ECG_VALUE_UUID, (v) => got.push(decodeEcgPayload(v)))
    await until('30 samples', () => got.length >= 30, 5000)
    for (let i = 1; i < got.length; i++) {
      expect(got[i]?.seq).toBe(((got[i - 1]?.seq ?? 0) + 1) & 0xffff)
      expect((got[i]?.timestampMs ?? 0) - (got[i - 1]?.timestampMs ?? 0)).toBeCloseTo(1000 / 150, -0.5)
    }
  })
})

describe('faults end in a clear error or disconnect event', () => {
  it('peripheral disconnect: a disconnect event with the remote reason; the stream stops', async () => {
    const r = await rig(['ecg'])
    const { id, packets } = await ecgStream(r)
    await until('the stream', () => packets.length > 5, 5000)
    const down = nextEvent(r.adapter, 'disconnect', (e) => e.id === id, 5000)
    sensor(r, 'ecg').peripheral.disconnect(0x13)
    const e = (await down) as DisconnectEvent
    expect(e.reason).toBe(0x13)
    expect(e.reasonText).toBe('Remote User Terminated Connection (0x13)')
    expect(e.cause).toBeUndefined()
    expect(r.adapter.isConnected(id)).toBe(false)
    const n = packets.length
    await sleep(100)
    expect(packets.length).toBe(n)
    expect((await rejection(r.adapter.read(id, ECG_SERVICE_UUID, ECG_SAMPLING_RATE_UUID))).code).toBe('not-connected')
  })

  it('stops responding: the request times out, then the link is dropped', async () => {
    const r = await rig(['ecg'])
    const { id } = sensor(r, 'ecg')
    await r.adapter.connect(id)
    await r.adapter.discover(id)
    const down = nextEvent(r.adapter, 'disconnect', (e) => e.id === id, GATT_TIMEOUT_MS + 5000)
    sensor(r, 'ecg').peripheral.stopResponding()
    const e = await rejection(r.adapter.read(id, ECG_SERVICE_UUID, ECG_SAMPLING_RATE_UUID))
    expect(e.code).toBe('timeout')
    expect(e.message).toBe(`read ${ECG_SAMPLING_RATE_UUID} on ${id}: no answer from ${id} within ${GATT_TIMEOUT_MS} ms`)
    const d = (await down) as DisconnectEvent
    expect(d.cause).toBe('gatt-timeout')
  })

  it('ATT errors: the operation fails at once with the ATT error code, and the link stays usable', async () => {
    const r = await rig(['ecg', 'hr'])
    const ecg = sensor(r, 'ecg')
    await r.adapter.connect(ecg.id)
    await r.adapter.discover(ecg.id)

    ecg.peripheral.failNext(0x0a, 0x02)
    const readErr = await rejection(r.adapter.read(ecg.id, ECG_SERVICE_UUID, ECG_SAMPLING_RATE_UUID))
    expect(readErr.code).toBe('att-error')
    expect(readErr.attError).toBe(0x02)
    expect(readErr.message).toContain('Read Not Permitted (0x02)')

    // The sensor's own validation: out-of-range sampling rate → Value Not Allowed.
    const writeErr = await rejection(r.adapter.write(ecg.id, ECG_SERVICE_UUID, ECG_SAMPLING_RATE_UUID, encodeSamplingRate(5)))
    expect(writeErr.code).toBe('att-error')
    expect(writeErr.attError).toBe(0x13)
    const lengthErr = await rejection(r.adapter.write(ecg.id, ECG_SERVICE_UUID, ECG_SAMPLING_RATE_UUID, Buffer.from([1, 2, 3])))
    expect(lengthErr.attError).toBe(0x0d)

    ecg.peripheral.failNext(0x12, 0x03)
    const cccdErr = await rejection(r.adapter.subscribe(ecg.id, ECG_SERVICE_UUID, ECG_VALUE_UUID, () => undefined))
    expect(cccdErr.code).toBe('att-error')
    expect(cccdErr.attError).toBe(0x03)

    expect(decodeSamplingRate(await r.adapter.read(ecg.id, ECG_SERVICE_UUID, ECG_SAMPLING_RATE_UUID))).toBe(150)
    expect(r.adapter.isConnected(ecg.id)).toBe(true)

    const hr = sensor(r, 'hr')
    await r.adapter.connect(hr.id)
    const cpErr = await rejection(r.adapter.write(hr.id, HEART_RATE_SERVICE_UUID, HEART_RATE_CONTROL_POINT_UUID, Buffer.from([0x02])))
    expect(cpErr.attError).toBe(0x80)
    expect(cpErr.message).toContain('Application Error 0x80')
  })

  it('out of range: the link drops by supervision timeout (0x08)', async () => {
    const r = await rig(['thermometer'])
    const { id, peripheral } = sensor(r, 'thermometer')
    await r.adapter.connect(id)
    const down = nextEvent(r.adapter, 'disconnect', (e) => e.id === id, 5000)
    peripheral.outOfRange()
    const e = (await down) as DisconnectEvent
    expect(e.reason).toBe(0x08)
    expect(e.reasonText).toMatch(/^Connection Timeout/)
    expect((await rejection(r.adapter.connect(id, { timeoutMs: 500 }))).code).toBe('timeout')
  })

  it('reconnects with backoff after the link drops, and the subscription resumes', async () => {
    const r = await rig(['ecg'])
    const { id, peripheral } = sensor(r, 'ecg')
    const packets: number[] = []
    await r.adapter.connect(id, { reconnect: { initialDelayMs: 100, factor: 2, maxDelayMs: 400, jitter: 0 } })
    await r.adapter.subscribe(id, ECG_SERVICE_UUID, ECG_VALUE_UUID, (v) => packets.push(decodeEcgPayload(v).seq))
    await until('the stream', () => packets.length > 5, 5000)

    const attempts: number[] = []
    const delays: number[] = []
    r.adapter.on('reconnecting', (e) => {
      attempts.push(e.attempt)
      delays.push(e.delayMs)
    })
    const down = nextEvent(r.adapter, 'disconnect', (e) => e.id === id, 5000)
    peripheral.outOfRange()
    const d = (await down) as DisconnectEvent
    expect(d.willReconnect).toBe(true)
    // Out of range, the attempts time out (connect timeout 3 s): wait for the second, then come back.
    await until('two reconnect attempts', () => attempts.length >= 2, 15_000)
    const back = nextEvent(r.adapter, 'reconnected', (e) => e.id === id, 20_000)
    peripheral.backInRange()
    const ok = await back
    expect(ok.attempts).toBeGreaterThanOrEqual(2)
    expect(delays.slice(0, 3)).toEqual([100, 200, 400].slice(0, Math.min(3, delays.length)))
    const n = packets.length
    await until('notifications after reconnecting', () => packets.length > n + 20, 5000)
    expect(r.adapter.isConnected(id)).toBe(true)

    // An explicit disconnect ends the reconnecting.
    const last = await r.adapter.disconnect(id)
    expect(last?.willReconnect).toBe(false)
    await sleep(300)
    expect(r.adapter.isConnected(id)).toBe(false)
  })
})
