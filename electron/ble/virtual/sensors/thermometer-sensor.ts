import type { PeripheralDefinition } from '../gatt-table.ts'
import { Prng } from '../prng.ts'
import { SimulatedSensor } from './sensor-base.ts'
import { readOnlyCharacteristic } from './standard-services.ts'
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
    this.definition = this.peripheral({
      label: 'Thermo',
      kindCode: 0x03,
      appearance: 0x0301, // Thermometer: Ear
      service: {
        uuid: HEALTH_THERMOMETER_SERVICE_UUID,
        characteristics: [
          { uuid: TEMPERATURE_MEASUREMENT_UUID, properties: ['indicate'], userDescription: 'Body temperature (°C)' },
          readOnlyCharacteristic(TEMPERATURE_TYPE_UUID, 'Temperature type', new Uint8Array([TEMPERATURE_TYPE_BODY])),
        ],
      },
      device: { serialPrefix: 'TH', model: 'OT-TH1', firmware: '1.0.7', hardware: 'rev A', software: 'thermo-1.0' },
    }, options.deviceInformation)
    this.measurement = {
      uuid: TEMPERATURE_MEASUREMENT_UUID,
      periodMs: this.intervalMs,
      tick: () => this.tick(),
      // The first reading right away (once the timer runs), as a thermometer does once it is read out.
      onStart: () => queueMicrotask(() => this.tick()),
    }
  }

  get temperatureC(): number {
    return this.temperature
  }

  getStats(): SendStats & { confirmed: number } {
    return { ...this.stats }
  }

  /** Drift one step (Ornstein–Uhlenbeck towards the mean, ~0.02 °C per step) and indicate the reading. */
  tick(): void {
    const api = this.api
    if (api === undefined || !this.streaming) return
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
