import { afterEach, beforeEach, describe, it, expect, vi } from 'vitest'
import type { CharacteristicDefinition, GattServerApi, PeripheralDefinition, SubscriptionKind } from '../gatt-table.ts'
import { normalizeUuid } from '../gatt-table.ts'
import { createSensor, createSensors, parseSensorList, ATT_VALUE_NOT_ALLOWED } from './index.ts'
import { decodeEcgPayload, SeqLossCounter } from '../../../../shared/ble/ecg-payload.ts'
import { decodeHeartRateMeasurement } from '../../../../shared/ble/heart-rate.ts'
import { decodeTemperatureMeasurement } from '../../../../shared/ble/thermometer.ts'
import { decodeBatteryLevel } from '../../../../shared/ble/battery.ts'
import {
  BATTERY_LEVEL_UUID, ECG_SAMPLING_RATE_UUID, ECG_SERVICE_UUID, ECG_TIMESTAMPING_UUID, ECG_VALUE_UUID, HEART_RATE_CONTROL_POINT_UUID,
  HEART_RATE_MEASUREMENT_UUID, BODY_SENSOR_LOCATION_UUID, TEMPERATURE_MEASUREMENT_UUID, TEMPERATURE_TYPE_UUID, MODEL_NUMBER_UUID,
} from '../../../../shared/ble/uuids.ts'

/**
 * A recording link in place of the virtual radio's connection: the sensors' own logic (timers, payloads, sequence
 * numbers, GATT callbacks) is under test here; the radio path is covered by test/integration/ble-sensors.test.ts.
 */
class RecordingLink implements GattServerApi {
  connected = true
  mtu = 23
  queued = 0
  readonly packets: Array<{ uuid: string; value: Uint8Array; indication: boolean }> = []
  readonly subs = new Map<string, SubscriptionKind[]>()
  /** Refuse every n-th packet (0: never), as a full transmit queue would. */
  refuseEvery = 0
  private count = 0

  notify(uuid: string, value: Uint8Array): boolean {
    return this.push(uuid, value, false)
  }

  indicate(uuid: string, value: Uint8Array, onConfirm?: (confirmed: boolean) => void): boolean {
    const ok = this.push(uuid, value, true)
    if (ok) onConfirm?.(true)
    return ok
  }

  isSubscribed(uuid: string): boolean {
    return (this.subs.get(normalizeUuid(uuid)) ?? []).length > 0
  }

  subscriptions(uuid: string): SubscriptionKind[] {
    return this.subs.get(normalizeUuid(uuid)) ?? []
  }

  private push(uuid: string, value: Uint8Array, indication: boolean): boolean {
    this.count++
    if (!this.isSubscribed(uuid)) return false
    if (this.refuseEvery > 0 && this.count % this.refuseEvery === 0) return false
    this.packets.push({ uuid: normalizeUuid(uuid), value: value.slice(), indication })
    return true
  }

  of(uuid: string): Uint8Array[] {
    return this.packets.filter((p) => p.uuid === uuid).map((p) => p.value)
  }
}

function characteristic(def: PeripheralDefinition, uuid: string): CharacteristicDefinition {
  for (const s of def.services) for (const c of s.characteristics) if (normalizeUuid(c.uuid) === uuid) return c
  throw new Error(`no characteristic ${uuid}`)
}

function connect(def: PeripheralDefinition): RecordingLink {
  const link = new RecordingLink()
  def.hooks?.onConnect?.(link)
  return link
}

function subscribe(def: PeripheralDefinition, link: RecordingLink, uuid: string, kind: SubscriptionKind = 'notify'): void {
  link.subs.set(uuid, [kind])
  def.hooks?.onSubscribe?.(uuid, [kind])
}

function read(def: PeripheralDefinition, uuid: string): Uint8Array {
  const c = characteristic(def, uuid)
  const v = c.onRead ? c.onRead() : c.initialValue
  if (!(v instanceof Uint8Array)) throw new Error(`read of ${uuid} failed: ${String(v)}`)
  return v
}

function write(def: PeripheralDefinition, uuid: string, bytes: number[]): void | number {
  return characteristic(def, uuid).onWrite?.(new Uint8Array(bytes), true)
}

const sensors: Array<{ dispose(): void }> = []
function track<T extends { dispose(): void }>(s: T): T {
  sensors.push(s)
  return s
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 })
})

afterEach(() => {
  for (const s of sensors.splice(0)) s.dispose()
  vi.useRealTimers()
})

const clock = (): number => Date.now()

describe('ECG sensor', () => {
  it('exposes the paper ECG service, Battery and Device Information with user descriptions', () => {
    const { definition: def, name, address } = track(createSensor('ecg', { clock }))
    expect(name).toBe('ObjectTwin ECG 1')
    expect(address).toMatch(/^c0(:[0-9a-f]{2}){5}$/)
    expect(def.services.map((s) => normalizeUuid(s.uuid))).toEqual([ECG_SERVICE_UUID, '180f', '180a'])
    expect(def.services[0]?.startHandle).toBe(0x000c)
    expect(def.advertisedServices).toEqual([ECG_SERVICE_UUID])
    const ecg = def.services[0]?.characteristics ?? []
    expect(ecg.map((c) => [normalizeUuid(c.uuid), c.properties])).toEqual([
      [ECG_VALUE_UUID, ['read', 'notify']],
      [ECG_SAMPLING_RATE_UUID, ['read', 'write']],
      [ECG_TIMESTAMPING_UUID, ['read', 'write']],
    ])
    for (const s of def.services) for (const c of s.characteristics) expect(c.userDescription).toBeTruthy()
    expect(def.services[2]?.characteristics.map((c) => c.uuid)).toEqual(['2a29', '2a24', '2a25', '2a26', '2a27', '2a28'])
    expect(new TextDecoder().decode(read(def, MODEL_NUMBER_UUID))).toBe('OT-ECG1')
    expect(Array.from(read(def, ECG_SAMPLING_RATE_UUID))).toEqual([150, 0])
    expect(Array.from(read(def, ECG_TIMESTAMPING_UUID))).toEqual([0])
  })

  it('streams one sample per notification at the sampling rate, with consecutive sequence numbers', () => {
    const s = track(createSensor('ecg', { clock, seed: 3 }))
    const link = connect(s.definition)
    subscribe(s.definition, link, ECG_VALUE_UUID)
    expect(s.control.streaming).toBe(true)
    vi.advanceTimersByTime(2000)
    const got = link.of(ECG_VALUE_UUID).map(decodeEcgPayload)
    // Samples 0..300 are due by t = 2000 ms at 150 Hz.
    expect(got.length).toBe(301)
    got.forEach((p, i) => {
      expect(p.seq).toBe(i)
      expect(p.timestampMs).toBeUndefined()
      expect(p.sample).toBeGreaterThan(-80)
      expect(p.sample).toBeLessThan(160)
    })
    expect(s.control.lastSeq).toBe(300)
    expect(s.control.getStats()).toEqual({ generated: 301, sent: 301, dropped: 0 })
    expect(decodeEcgPayload(read(s.definition, ECG_VALUE_UUID)).seq).toBe(300)
  })

  it('changes the stream at once when the sampling rate is written', () => {
    const s = track(createSensor('ecg', { clock }))
    const link = connect(s.definition)
    subscribe(s.definition, link, ECG_VALUE_UUID)
    vi.advanceTimersByTime(1000)
    const before = link.of(ECG_VALUE_UUID).length
    expect(write(s.definition, ECG_SAMPLING_RATE_UUID, [0xf4, 0x01])).toBeUndefined()
    expect(s.control.samplingRateHz).toBe(500)
    vi.advanceTimersByTime(1000)
    const after = link.of(ECG_VALUE_UUID).length - before
    expect(after).toBeGreaterThanOrEqual(499)
    expect(after).toBeLessThanOrEqual(501)
    expect(Array.from(read(s.definition, ECG_SAMPLING_RATE_UUID))).toEqual([0xf4, 0x01])
  })

  it('rejects invalid writes with ATT errors and keeps the old values', () => {
    const s = track(createSensor('ecg', { clock }))
    expect(write(s.definition, ECG_SAMPLING_RATE_UUID, [10, 0])).toBe(ATT_VALUE_NOT_ALLOWED)
    expect(write(s.definition, ECG_SAMPLING_RATE_UUID, [0xe9, 0x03])).toBe(0x13)
    expect(write(s.definition, ECG_SAMPLING_RATE_UUID, [150])).toBe(0x0d)
    expect(write(s.definition, ECG_TIMESTAMPING_UUID, [2])).toBe(0x13)
    expect(write(s.definition, ECG_TIMESTAMPING_UUID, [1, 0])).toBe(0x0d)
    expect(s.control.samplingRateHz).toBe(150)
    expect(s.control.timestampingEnabled).toBe(false)
    expect(() => { s.control.samplingRateHz = 5 }).toThrow('ECG sampling rate 5 Hz outside 25..1000 Hz')
  })

  it('timestamps each sample in the sensor clock, and the true R peaks fall on the signal maxima', () => {
    const s = track(createSensor('ecg', { clock, seed: 11 }))
    const link = connect(s.definition)
    expect(write(s.definition, ECG_TIMESTAMPING_UUID, [1])).toBeUndefined()
    expect(write(s.definition, ECG_SAMPLING_RATE_UUID, [250, 0])).toBeUndefined()
    subscribe(s.definition, link, ECG_VALUE_UUID)
    vi.advanceTimersByTime(10_000)
    const got = link.of(ECG_VALUE_UUID).map(decodeEcgPayload)
    expect(link.of(ECG_VALUE_UUID).every((b) => b.length === 8)).toBe(true)
    for (let i = 1; i < got.length; i++) expect((got[i]?.timestampMs ?? 0) - (got[i - 1]?.timestampMs ?? 0)).toBe(4)
    const peaks = s.control.rPeakTimesMs()
    expect(peaks.length).toBeGreaterThanOrEqual(8)
    expect(peaks.length).toBeLessThanOrEqual(11)
    const t0 = got[0]?.timestampMs ?? 0
    for (const p of peaks.slice(0, -1)) {
      const i = Math.round((p - t0) / 4)
      const around = got.slice(Math.max(0, i - 25), i + 25).map((g) => g.sample)
      expect(Math.abs((got[i]?.sample ?? 0) - Math.max(...around))).toBeLessThanOrEqual(15)
    }
  })

  it('advances the sequence number for samples the link refuses, so gaps count the drops', () => {
    const s = track(createSensor('ecg', { clock }))
    const link = connect(s.definition)
    link.refuseEvery = 4
    subscribe(s.definition, link, ECG_VALUE_UUID)
    vi.advanceTimersByTime(4000)
    const counter = new SeqLossCounter()
    for (const b of link.of(ECG_VALUE_UUID)) counter.push(decodeEcgPayload(b).seq)
    const stats = s.control.getStats()
    expect(stats.dropped).toBeGreaterThan(100)
    expect(stats.sent + stats.dropped).toBe(stats.generated)
    // The counter sees the drops between the first and the last received packet.
    expect(Math.abs(counter.lost - stats.dropped)).toBeLessThanOrEqual(1)
    expect(counter.lossRatio).toBeCloseTo(0.25, 1)
  })

  it('stops streaming on unsubscribe and on disconnect', () => {
    const s = track(createSensor('ecg', { clock }))
    const link = connect(s.definition)
    subscribe(s.definition, link, ECG_VALUE_UUID)
    vi.advanceTimersByTime(100)
    link.subs.set(ECG_VALUE_UUID, [])
    s.definition.hooks?.onSubscribe?.(ECG_VALUE_UUID, [])
    expect(s.control.streaming).toBe(false)
    const n = link.of(ECG_VALUE_UUID).length
    vi.advanceTimersByTime(1000)
    expect(link.of(ECG_VALUE_UUID).length).toBe(n)
    subscribe(s.definition, link, ECG_VALUE_UUID)
    expect(s.control.streaming).toBe(true)
    s.definition.hooks?.onDisconnect?.(0x13)
    expect(s.control.streaming).toBe(false)
    expect(s.control.connected).toBe(false)
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('Heart-rate sensor', () => {
  it('notifies heart rate, contact and RR intervals about once a second', () => {
    const s = track(createSensor('hr', { clock, seed: 5 }))
    expect(s.name).toBe('ObjectTwin HR 1')
    expect(Array.from(read(s.definition, BODY_SENSOR_LOCATION_UUID))).toEqual([1])
    const link = connect(s.definition)
    subscribe(s.definition, link, HEART_RATE_MEASUREMENT_UUID)
    vi.advanceTimersByTime(30_000)
    const ms = link.of(HEART_RATE_MEASUREMENT_UUID).map(decodeHeartRateMeasurement)
    expect(ms.length).toBe(30)
    const rr = ms.flatMap((m) => m.rrIntervals)
    // 30 s at 72 ± 3 bpm: about 36 beats.
    expect(rr.length).toBeGreaterThanOrEqual(32)
    expect(rr.length).toBeLessThanOrEqual(40)
    for (const m of ms) {
      expect(m.contact).toBe('detected')
      expect(m.heartRate).toBeGreaterThan(55)
      expect(m.heartRate).toBeLessThan(90)
    }
    const meanRr = rr.reduce((a, b) => a + b, 0) / rr.length / 1024
    expect(60 / meanRr).toBeGreaterThan(65)
    expect(60 / meanRr).toBeLessThan(80)
    // Energy expended every 10th measurement, growing.
    const energy = ms.filter((m) => m.energyExpendedKj !== undefined).map((m) => m.energyExpendedKj ?? 0)
    expect(energy.length).toBe(3)
    expect(energy[2]).toBeGreaterThan(energy[0] ?? 0)
  })

  it('resets energy expended on control point 0x01 and rejects other values with 0x80', () => {
    const s = track(createSensor('hr', { clock }))
    const link = connect(s.definition)
    subscribe(s.definition, link, HEART_RATE_MEASUREMENT_UUID)
    vi.advanceTimersByTime(60_000)
    expect(s.control.energyExpendedKj).toBeGreaterThan(2)
    expect(write(s.definition, HEART_RATE_CONTROL_POINT_UUID, [0x02])).toBe(0x80)
    expect(write(s.definition, HEART_RATE_CONTROL_POINT_UUID, [])).toBe(0x80)
    expect(s.control.energyExpendedKj).toBeGreaterThan(2)
    expect(write(s.definition, HEART_RATE_CONTROL_POINT_UUID, [0x01])).toBeUndefined()
    expect(s.control.energyExpendedKj).toBe(0)
  })
})

describe('Thermometer', () => {
  it('indicates a body temperature between 36.6 and 37.2 °C with a timestamp', () => {
    const s = track(createSensor('thermometer', { clock, seed: 2 }))
    expect(s.name).toBe('ObjectTwin Thermo 1')
    expect(Array.from(read(s.definition, TEMPERATURE_TYPE_UUID))).toEqual([2])
    const link = connect(s.definition)
    subscribe(s.definition, link, TEMPERATURE_MEASUREMENT_UUID, 'indicate')
    vi.advanceTimersByTime(200_000)
    const packets = link.packets.filter((p) => p.uuid === TEMPERATURE_MEASUREMENT_UUID)
    expect(packets.length).toBeGreaterThanOrEqual(100)
    expect(packets.every((p) => p.indication)).toBe(true)
    const values = packets.map((p) => decodeTemperatureMeasurement(p.value))
    for (const m of values) {
      expect(m.unit).toBe('celsius')
      expect(m.value).toBeGreaterThanOrEqual(36.6)
      expect(m.value).toBeLessThanOrEqual(37.2)
      expect(m.timestamp?.year).toBe(2023)
    }
    // It drifts: not one constant value, and slowly (small steps).
    expect(new Set(values.map((m) => m.value)).size).toBeGreaterThan(5)
    for (let i = 1; i < values.length; i++) expect(Math.abs((values[i]?.value ?? 0) - (values[i - 1]?.value ?? 0))).toBeLessThan(0.15)
    expect(s.control.getStats().confirmed).toBe(packets.length)
  })
})

describe('Battery and several sensors', () => {
  it('reads a draining battery level and notifies changes to a subscriber', () => {
    const s = track(createSensor('battery', { clock, batteryPercent: 80, batteryDrainPerHour: 60 }))
    expect(s.name).toBe('ObjectTwin Battery 1')
    expect(decodeBatteryLevel(read(s.definition, BATTERY_LEVEL_UUID))).toBe(80)
    const link = connect(s.definition)
    subscribe(s.definition, link, BATTERY_LEVEL_UUID)
    vi.advanceTimersByTime(5 * 60_000)
    expect(decodeBatteryLevel(read(s.definition, BATTERY_LEVEL_UUID))).toBe(75)
    const levels = link.of(BATTERY_LEVEL_UUID).map(decodeBatteryLevel)
    expect(levels).toEqual([79, 78, 77, 76, 75])
    s.control.battery.set(20)
    s.control.checkBattery()
    expect(link.of(BATTERY_LEVEL_UUID).map(decodeBatteryLevel).at(-1)).toBe(20)
  })

  it('gives each instance its own address and name', () => {
    const all = createSensors(parseSensorList('ecg,ecg,hr,thermo,battery,hr'), { seed: 1 })
    all.forEach((h) => track(h))
    expect(all.map((h) => h.name)).toEqual([
      'ObjectTwin ECG 1', 'ObjectTwin ECG 2', 'ObjectTwin HR 1', 'ObjectTwin Thermo 1', 'ObjectTwin Battery 1', 'ObjectTwin HR 2',
    ])
    expect(new Set(all.map((h) => h.address)).size).toBe(all.length)
    expect(() => parseSensorList('ecg,toaster')).toThrow("unknown sensor kind 'toaster'")
  })
})
