import type { PeripheralDefinition, SubscriptionKind } from '../gatt-table.ts'
import { Prng } from './prng.ts'
import { SimulatedSensor, sensorAddress, serialNumber } from './sensor-base.ts'
import type { CommonSensorOptions, SendStats } from './sensor-base.ts'
import { TEMPERATURE_TYPE_BODY, dateTimeFromDate, encodeTemperatureMeasurement } from '../../../../shared/ble/thermometer.ts'
import type { TemperatureMeasurement } from '../../../../shared/ble/thermometer.ts'
import { HEALTH_THERMOMETER_SERVICE_UUID, TEMPERATURE_MEASUREMENT_UUID, TEMPERATURE_TYPE_UUID } from '../../../../shared/ble/uuids.ts'

/**
 * A body thermometer: Health Thermometer 0x1809 with the Temperature Measurement (Indicate; flags + IEEE-11073
 * FLOAT in °C + timestamp) and Temperature Type (Read: body); plus Battery and Device Information. The temperature
 * drifts slowly (a mean-reverting random walk) within 36.6 … 37.2 °C.
 */
export interface ThermometerSensorOptions extends CommonSensorOptions {
  /** Measurement period, ms (default 2000). */
  intervalMs?: number
  /** Include the timestamp (default true). */
  timestamp?: boolean
  /** Centre and bounds of the drift, °C. */
  meanC?: number
  minC?: number
  maxC?: number
}

export class ThermometerSensor extends SimulatedSensor {
  readonly definition: PeripheralDefinition
  private readonly rng: Prng
  private readonly intervalMs: number
  private readonly withTimestamp: boolean
  private readonly meanC: number
  private readonly minC: number
  private readonly maxC: number
  private temperature: number
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly stats: SendStats & { confirmed: number } = { generated: 0, sent: 0, dropped: 0, confirmed: 0 }
  lastMeasurement: TemperatureMeasurement | undefined

  constructor(options: ThermometerSensorOptions = {}) {
    super(options)
    this.rng = new Prng(this.seed ^ 0x7e3)
    this.intervalMs = options.intervalMs ?? 2000
    this.withTimestamp = options.timestamp ?? true
    this.meanC = options.meanC ?? 36.9
    this.minC = options.minC ?? 36.6
    this.maxC = options.maxC ?? 37.2
    this.temperature = this.meanC + this.rng.uniform(-0.15, 0.15)
    const n = this.index
    this.definition = {
      name: `ObjectTwin Thermo ${n}`,
      address: sensorAddress(0x03, n),
      addressType: 'random',
      advertisedServices: [HEALTH_THERMOMETER_SERVICE_UUID],
      appearance: 0x0301, // Thermometer: Ear
      services: [
        {
          uuid: HEALTH_THERMOMETER_SERVICE_UUID,
          characteristics: [
            { uuid: TEMPERATURE_MEASUREMENT_UUID, properties: ['indicate'], userDescription: 'Body temperature (°C)' },
            { uuid: TEMPERATURE_TYPE_UUID, properties: ['read'], userDescription: 'Temperature type', initialValue: new Uint8Array([TEMPERATURE_TYPE_BODY]) },
          ],
        },
        this.batteryService(),
        this.deviceInformation({
          manufacturer: 'ObjectTwin Labs', model: 'OT-TH1', serial: serialNumber('TH', n, this.seed),
          firmware: '1.0.7', hardware: 'rev A', software: 'thermo-1.0',
        }, options.deviceInformation),
      ],
      hooks: this.hooks(),
    }
  }

  get temperatureC(): number {
    return this.temperature
  }

  get streaming(): boolean {
    return this.timer !== undefined
  }

  getStats(): SendStats & { confirmed: number } {
    return { ...this.stats }
  }

  protected override onSubscribe(uuid: string, kinds: SubscriptionKind[]): void {
    if (uuid !== TEMPERATURE_MEASUREMENT_UUID) return
    if (kinds.length > 0) this.start()
    else this.stop()
  }

  protected override onLinkDown(): void {
    this.stop()
  }

  private start(): void {
    if (this.timer !== undefined || this.isDisposed) return
    this.timer = this.every(this.intervalMs, () => this.tick())
    // The first reading right away, as a thermometer does once it is read out.
    queueMicrotask(() => this.tick())
  }

  private stop(): void {
    if (this.timer === undefined) return
    this.cancel(this.timer)
    this.timer = undefined
  }

  /** Drift one step (Ornstein–Uhlenbeck towards the mean, ~0.02 °C per step) and indicate the reading. */
  tick(): void {
    const api = this.api
    if (api === undefined || this.timer === undefined) return
    const t = this.temperature + 0.05 * (this.meanC - this.temperature) + 0.02 * this.rng.gaussian()
    this.temperature = Math.min(this.maxC, Math.max(this.minC, t))
    const m: TemperatureMeasurement = { value: Math.round(this.temperature * 100) / 100, unit: 'celsius' }
    if (this.withTimestamp) m.timestamp = dateTimeFromDate(new Date())
    this.lastMeasurement = m
    this.stats.generated++
    const ok = api.indicate(TEMPERATURE_MEASUREMENT_UUID, encodeTemperatureMeasurement(m), (confirmed) => {
      if (confirmed) this.stats.confirmed++
    })
    if (ok) this.stats.sent++
    else this.stats.dropped++
  }
}
