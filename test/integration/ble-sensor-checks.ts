/**
 * Checks shared by the BLE sensor integration tests (in-process and over the pty): the same scan / connect /
 * discover / read / write / subscribe / RSSI / disconnect run against each simulated sensor.
 */
import { expect } from 'vitest'
import { BleError } from '../../electron/ble/adapter/index.ts'
import type { BleAdapter, BleAdapterEvents, GattTree } from '../../electron/ble/adapter/index.ts'
import type { VirtualRadio } from '../../electron/ble/virtual/virtual-radio.ts'
import type { VirtualPeripheral } from '../../electron/ble/virtual/virtual-peripheral.ts'
import { normalizeUuid } from '../../electron/ble/virtual/gatt-table.ts'
import type { SensorKind, SimulatedSensorHandle } from '../../electron/ble/virtual/sensors/index.ts'
import { decodeEcgPayload, decodeSamplingRate, encodeSamplingRate } from '../../shared/ble/ecg-payload.ts'
import { decodeHeartRateMeasurement } from '../../shared/ble/heart-rate.ts'
import { decodeTemperatureMeasurement } from '../../shared/ble/thermometer.ts'
import { decodeBatteryLevel } from '../../shared/ble/battery.ts'
import {
  BATTERY_LEVEL_UUID, BATTERY_SERVICE_UUID, BODY_SENSOR_LOCATION_UUID, DEVICE_INFORMATION_SERVICE_UUID, ECG_SAMPLING_RATE_UUID, ECG_SERVICE_UUID,
  ECG_VALUE_UUID, HEALTH_THERMOMETER_SERVICE_UUID, HEART_RATE_CONTROL_POINT_UUID, HEART_RATE_MEASUREMENT_UUID, HEART_RATE_SERVICE_UUID,
  MANUFACTURER_NAME_UUID, MODEL_NUMBER_UUID, TEMPERATURE_MEASUREMENT_UUID,
} from '../../shared/ble/uuids.ts'

export const ALL_KINDS: SensorKind[] = ['ecg', 'hr', 'thermometer', 'battery']

export interface Rig {
  radio: VirtualRadio
  adapter: BleAdapter
  sensors: Map<SensorKind, { handle: SimulatedSensorHandle; peripheral: VirtualPeripheral }>
}

export function sensor(r: Rig, kind: SensorKind): { handle: SimulatedSensorHandle; peripheral: VirtualPeripheral; id: string } {
  const s = r.sensors.get(kind)
  if (!s) throw new Error(`no ${kind} sensor on this rig`)
  return { ...s, id: s.handle.address.replace(/:/g, '') }
}

/** Resolve with the next adapter event that satisfies `match`; reject after timeoutMs. */
export function nextEvent<E extends keyof BleAdapterEvents>(
  adapter: BleAdapter, event: E, match: (...args: Parameters<BleAdapterEvents[E]>) => boolean, timeoutMs: number,
): Promise<Parameters<BleAdapterEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`no '${event}' event within ${timeoutMs} ms`))
    }, timeoutMs)
    const off = adapter.on(event, ((...args: Parameters<BleAdapterEvents[E]>) => {
      if (!match(...args)) return
      clearTimeout(timer)
      off()
      resolve(args[0])
    }) as BleAdapterEvents[E])
  })
}

/** Poll `cond` until true; reject after timeoutMs naming what was awaited. */
export async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export async function rejection(p: Promise<unknown>): Promise<BleError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(BleError)
    return e as BleError
  }
  throw new Error('expected the operation to fail')
}

/** The discovered tree holds every service, characteristic, property and descriptor of the sensor's definition. */
export function expectTreeMatchesDefinition(tree: GattTree, handle: SimulatedSensorHandle): void {
  const services = tree.services.map((s) => s.uuid)
  expect(services.slice(0, 2)).toEqual(['1800', '1801'])
  for (const sd of handle.definition.services) {
    const s = tree.services.find((x) => x.uuid === normalizeUuid(sd.uuid))
    expect(s, `service ${sd.uuid}`).toBeDefined()
    if (!s) continue
    expect(s.startHandle).toBeTypeOf('number')
    if (sd.startHandle !== undefined) expect(s.startHandle).toBe(sd.startHandle)
    expect(s.characteristics.map((c) => c.uuid)).toEqual(sd.characteristics.map((c) => normalizeUuid(c.uuid)))
    for (const cd of sd.characteristics) {
      const c = s.characteristics.find((x) => x.uuid === normalizeUuid(cd.uuid))
      if (!c) continue
      expect([...c.properties].sort()).toEqual([...cd.properties].sort())
      expect(c.valueHandle).toBe((c.declarationHandle ?? -1) + 1)
      expect(c.valueHandle).toBeGreaterThan(s.startHandle ?? 0)
      expect(c.userDescription).toBe(cd.userDescription)
      expect(c.presentationFormat).toEqual(cd.presentationFormat)
      const descriptors = c.descriptors.map((d) => d.uuid)
      if (cd.properties.includes('notify') || cd.properties.includes('indicate')) expect(descriptors).toContain('2902')
      if (cd.userDescription !== undefined) expect(descriptors).toContain('2901')
      if (cd.presentationFormat !== undefined) expect(descriptors).toContain('2904')
      for (const d of c.descriptors) expect(d.handle).toBeGreaterThan(c.valueHandle ?? 0)
    }
  }
  expect(tree.problems).toEqual([])
}

export interface KindSpec {
  name: RegExp
  service: string
  /** A write to check (by reading back or by effect), when the sensor has a writable characteristic. */
  write?: (r: Rig, id: string) => Promise<void>
  subscribe: { service: string; char: string }
  /** Make the sensor produce a value now, when it does not on its own. */
  trigger?: (r: Rig) => void
  check: (value: Buffer, r: Rig) => void
}

export const SPECS: Record<SensorKind, KindSpec> = {
  ecg: {
    name: /^ObjectTwin ECG 1$/,
    service: ECG_SERVICE_UUID,
    write: async (r, id) => {
      await r.adapter.write(id, ECG_SERVICE_UUID, ECG_SAMPLING_RATE_UUID, encodeSamplingRate(200))
      expect(decodeSamplingRate(await r.adapter.read(id, ECG_SERVICE_UUID, ECG_SAMPLING_RATE_UUID))).toBe(200)
      expect((sensor(r, 'ecg').handle as SimulatedSensorHandle<'ecg'>).control.samplingRateHz).toBe(200)
    },
    subscribe: { service: ECG_SERVICE_UUID, char: ECG_VALUE_UUID },
    check: (v) => {
      const p = decodeEcgPayload(v)
      expect(p.sample).toBeGreaterThan(-80)
      expect(p.sample).toBeLessThan(160)
    },
  },
  hr: {
    name: /^ObjectTwin HR 1$/,
    service: HEART_RATE_SERVICE_UUID,
    write: async (r, id) => {
      const hr = sensor(r, 'hr').handle as SimulatedSensorHandle<'hr'>
      expect(Array.from(await r.adapter.read(id, HEART_RATE_SERVICE_UUID, BODY_SENSOR_LOCATION_UUID))).toEqual([1])
      await r.adapter.write(id, HEART_RATE_SERVICE_UUID, HEART_RATE_CONTROL_POINT_UUID, Buffer.from([0x01]))
      expect(hr.control.energyExpendedKj).toBe(0)
    },
    subscribe: { service: HEART_RATE_SERVICE_UUID, char: HEART_RATE_MEASUREMENT_UUID },
    check: (v) => {
      const m = decodeHeartRateMeasurement(v)
      expect(m.heartRate).toBeGreaterThan(50)
      expect(m.heartRate).toBeLessThan(100)
      expect(m.contact).toBe('detected')
    },
  },
  thermometer: {
    name: /^ObjectTwin Thermo 1$/,
    service: HEALTH_THERMOMETER_SERVICE_UUID,
    subscribe: { service: HEALTH_THERMOMETER_SERVICE_UUID, char: TEMPERATURE_MEASUREMENT_UUID },
    check: (v) => {
      const m = decodeTemperatureMeasurement(v)
      expect(m.unit).toBe('celsius')
      expect(m.value).toBeGreaterThanOrEqual(36.6)
      expect(m.value).toBeLessThanOrEqual(37.2)
      expect(m.timestamp).toBeDefined()
    },
  },
  battery: {
    name: /^ObjectTwin Battery 1$/,
    service: BATTERY_SERVICE_UUID,
    subscribe: { service: BATTERY_SERVICE_UUID, char: BATTERY_LEVEL_UUID },
    trigger: (r) => {
      const b = sensor(r, 'battery').handle as SimulatedSensorHandle<'battery'>
      b.control.battery.set(42)
      b.control.checkBattery()
    },
    check: (v) => expect(decodeBatteryLevel(v)).toBe(42),
  },
}

/** Scan, connect, discover, read, write, subscribe, read RSSI and disconnect one sensor. */
export async function exerciseSensor(r: Rig, kind: SensorKind): Promise<void> {
  const spec = SPECS[kind]
  const { handle, id } = sensor(r, kind)

  const found = await r.adapter.findDevice({ services: [spec.service], nameFilter: spec.name }, 5000)
  expect(found.id).toBe(id)
  expect(found.address).toBe(handle.address)
  expect(found.name).toBe(handle.name)
  expect(found.serviceUuids).toContain(normalizeUuid(spec.service))
  expect(found.rssi).toBeLessThan(-20)
  expect(found.rssi).toBeGreaterThan(-100)

  const connected = await r.adapter.connect(found.id)
  expect(connected.id).toBe(id)
  expect(r.adapter.isConnected(id)).toBe(true)

  const tree = await r.adapter.discover(id)
  expectTreeMatchesDefinition(tree, handle)

  expect(new TextDecoder().decode(await r.adapter.read(id, DEVICE_INFORMATION_SERVICE_UUID, MANUFACTURER_NAME_UUID))).toBe('ObjectTwin Labs')
  expect(new TextDecoder().decode(await r.adapter.read(id, DEVICE_INFORMATION_SERVICE_UUID, MODEL_NUMBER_UUID))).toMatch(/^OT-/)
  const level = decodeBatteryLevel(await r.adapter.read(id, BATTERY_SERVICE_UUID, BATTERY_LEVEL_UUID))
  expect(level).toBeGreaterThan(50)
  expect(level).toBeLessThanOrEqual(100)
  expect(new TextDecoder().decode(await r.adapter.readDescriptor(id, BATTERY_SERVICE_UUID, BATTERY_LEVEL_UUID, '2901'))).toBe('Battery level (%)')

  await spec.write?.(r, id)

  const values: Buffer[] = []
  const sub = await r.adapter.subscribe(id, spec.subscribe.service, spec.subscribe.char, (v) => values.push(v))
  spec.trigger?.(r)
  await until(`a ${kind} notification`, () => values.length > 0, 5000)
  for (const v of values) spec.check(v, r)
  await sub.unsubscribe()
  // The CCCD write reached the sensor: it stops producing.
  const control = handle.control as { streaming?: boolean }
  if ('streaming' in control) await until(`the ${kind} sensor to stop streaming`, () => control.streaming === false, 2000)

  const rssi = await r.adapter.readRssi(id)
  expect(rssi).toBeLessThan(-20)
  expect(rssi).toBeGreaterThan(-100)

  const down = await r.adapter.disconnect(id)
  expect(down?.cause).toBe('user')
  expect(down?.willReconnect).toBe(false)
  expect(r.adapter.isConnected(id)).toBe(false)
  expect((await rejection(r.adapter.read(id, BATTERY_SERVICE_UUID, BATTERY_LEVEL_UUID))).code).toBe('not-connected')
}
