import type { PeripheralDefinition } from '../gatt-table.ts'
import { RrProcess } from './rr-process.ts'
import { SimulatedSensor } from './sensor-base.ts'
import { readOnlyCharacteristic } from './standard-services.ts'
import type { CommonSensorOptions, SendStats } from './sensor-base.ts'
import { encodeHeartRateMeasurement, heartRateMeasurementLength, secondsToRr } from '../../../../shared/ble/heart-rate.ts'
import type { HeartRateMeasurement } from '../../../../shared/ble/heart-rate.ts'
import {
  BODY_SENSOR_LOCATION_UUID, HEART_RATE_CONTROL_POINT_UUID, HEART_RATE_MEASUREMENT_UUID, HEART_RATE_SERVICE_UUID,
  HR_CONTROL_RESET_ENERGY_EXPENDED, HR_ERROR_CONTROL_POINT_NOT_SUPPORTED,
} from '../../../../shared/ble/uuids.ts'

/**
 * A chest-strap heart-rate sensor: Heart Rate service 0x180D with the measurement (Notify, once a second, carrying
 * the RR intervals of the beats since the previous one), body sensor location (chest) and the control point
 * (0x01 resets energy expended; anything else → ATT error 0x80); plus Battery and Device Information.
 */
export interface HeartRateSensorOptions extends CommonSensorOptions {
  /** Mean heart rate and its standard deviation, bpm (default 72 ± 3). */
  heartRateBpm?: number
  heartRateStdBpm?: number
  /** Notification period, ms (default 1000). */
  intervalMs?: number
  /** Carry the heart rate as uint16 even below 256. */
  uint16?: boolean
  /** Include energy expended every n-th measurement (default 10, as the specification suggests). */
  energyEveryN?: number
}

export class HeartRateSensor extends SimulatedSensor {
  readonly definition: PeripheralDefinition
  private readonly rr: RrProcess
  private readonly intervalMs: number
  private readonly uint16: boolean
  private readonly energyEveryN: number
  private nextBeatMs = 0
  private lastTickMs = 0
  private pendingRr: number[] = []
  private heartRate: number
  private energyKj = 0
  private measurements = 0
  contact: 'detected' | 'not-detected' = 'detected'
  private readonly stats: SendStats = { generated: 0, sent: 0, dropped: 0 }
  lastMeasurement: HeartRateMeasurement | undefined

  constructor(options: HeartRateSensorOptions = {}) {
    super(options)
    const mean = options.heartRateBpm ?? 72
    this.rr = new RrProcess({ seed: this.seed, heartRateBpm: mean, heartRateStdBpm: options.heartRateStdBpm ?? 3 })
    this.heartRate = Math.round(mean)
    this.intervalMs = options.intervalMs ?? 1000
    this.uint16 = options.uint16 ?? false
    this.energyEveryN = options.energyEveryN ?? 10
    this.definition = this.peripheral({
      label: 'HR',
      kindCode: 0x02,
      appearance: 0x0341, // Heart Rate Sensor: Heart Rate Belt
      service: {
        uuid: HEART_RATE_SERVICE_UUID,
        characteristics: [
          { uuid: HEART_RATE_MEASUREMENT_UUID, properties: ['notify'], userDescription: 'Heart rate (bpm) with RR intervals' },
          readOnlyCharacteristic(BODY_SENSOR_LOCATION_UUID, 'Body sensor location', new Uint8Array([1])),
          {
            uuid: HEART_RATE_CONTROL_POINT_UUID,
            properties: ['write'],
            userDescription: 'Heart rate control point (0x01: reset energy expended)',
            onWrite: (value) => {
              if (value.length !== 1 || value[0] !== HR_CONTROL_RESET_ENERGY_EXPENDED) return HR_ERROR_CONTROL_POINT_NOT_SUPPORTED
              this.energyKj = 0
            },
          },
        ],
      },
      device: { serialPrefix: 'HR', model: 'OT-HR1', firmware: '2.1.0', hardware: 'rev B', software: 'hrm-2.1' },
    }, options.deviceInformation)
    this.measurement = { uuid: HEART_RATE_MEASUREMENT_UUID, periodMs: this.intervalMs, tick: () => this.tick(), onStart: () => this.restartBeats() }
  }

  get heartRateBpm(): number {
    return this.heartRate
  }

  get energyExpendedKj(): number {
    return Math.floor(this.energyKj)
  }

  getStats(): SendStats {
    return { ...this.stats }
  }

  private restartBeats(): void {
    const now = this.clock()
    this.lastTickMs = now
    this.nextBeatMs = now + this.rr.nextRr() * 1000
    this.pendingRr = []
  }

  /** Collect the beats up to now, update HR and energy, notify one measurement. */
  tick(): void {
    const api = this.api
    if (api === undefined) return
    const now = this.clock()
    const beats: number[] = []
    while (this.nextBeatMs <= now) {
      const rr = this.rr.nextRr()
      beats.push(rr)
      this.pendingRr.push(secondsToRr(rr))
      this.nextBeatMs += rr * 1000
    }
    if (beats.length > 0) this.heartRate = Math.round(60 / (beats.reduce((s, x) => s + x, 0) / beats.length))
    // Resting energy expenditure rises with heart rate: ~0.08 kJ/s (70 kcal/h) at 72 bpm.
    this.energyKj += (((now - this.lastTickMs) / 1000) * Math.max(20, this.heartRate - 20)) * 0.0015
    this.lastTickMs = now
    this.measurements++
    const m: HeartRateMeasurement = { heartRate: this.heartRate, uint16: this.uint16, contact: this.contact, rrIntervals: [] }
    if (this.energyEveryN > 0 && this.measurements % this.energyEveryN === 1 % this.energyEveryN) m.energyExpendedKj = this.energyKj
    // As many RR intervals as fit the ATT payload (MTU − 3); the oldest beyond that are lost, as on real straps.
    const room = Math.floor((api.mtu - 3 - heartRateMeasurementLength(m)) / 2)
    m.rrIntervals = this.pendingRr.slice(-Math.max(0, room))
    this.pendingRr = []
    this.lastMeasurement = m
    this.stats.generated++
    if (api.notify(HEART_RATE_MEASUREMENT_UUID, encodeHeartRateMeasurement(m))) this.stats.sent++
    else this.stats.dropped++
  }
}
