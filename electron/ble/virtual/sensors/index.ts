import type { PeripheralDefinition } from '../gatt-table.ts'
import { BatterySensor } from './battery-sensor.ts'
import { EcgSensor } from './ecg-sensor.ts'
import type { EcgSensorOptions } from './ecg-sensor.ts'
import { HeartRateSensor } from './heart-rate-sensor.ts'
import type { HeartRateSensorOptions } from './heart-rate-sensor.ts'
import { ThermometerSensor } from './thermometer-sensor.ts'
import type { ThermometerSensorOptions } from './thermometer-sensor.ts'
import type { CommonSensorOptions } from './sensor-base.ts'

export { EcgSensor, HeartRateSensor, ThermometerSensor, BatterySensor }
export type { EcgSensorOptions, HeartRateSensorOptions, ThermometerSensorOptions, CommonSensorOptions }
export type { SendStats, Clock, DeviceInformation } from './sensor-base.ts'
export { SimulatedSensor, ATT_VALUE_NOT_ALLOWED, sensorAddress } from './sensor-base.ts'
export { EcgSyn } from './ecgsyn.ts'
export type { EcgSynOptions } from './ecgsyn.ts'

export type SensorKind = 'ecg' | 'hr' | 'thermometer' | 'battery'
export const SENSOR_KINDS: readonly SensorKind[] = ['ecg', 'hr', 'thermometer', 'battery']

interface SensorTypes {
  ecg: { options: EcgSensorOptions; control: EcgSensor }
  hr: { options: HeartRateSensorOptions; control: HeartRateSensor }
  thermometer: { options: ThermometerSensorOptions; control: ThermometerSensor }
  battery: { options: CommonSensorOptions; control: BatterySensor }
}

/** A simulated sensor: the peripheral to hand to the virtual radio, and the handle to watch and steer it. */
export interface SimulatedSensorHandle<K extends SensorKind = SensorKind> {
  kind: K
  /** Advertised name, e.g. "ObjectTwin ECG 1". */
  name: string
  /** BD_ADDR; noble's peripheral id is the same without colons. */
  address: string
  definition: PeripheralDefinition
  /** Kind-specific control: rate, sequence, packet stats (ECG); heart rate (HR); temperature; battery level. */
  control: SensorTypes[K]['control']
  /** Stop the sensor's timers. */
  dispose(): void
}

/**
 * Create a simulated sensor. Each (kind, index) has its own address and name, so several of each kind can run on
 * one virtual radio; the seed (default: the index) makes the signal reproducible.
 */
export function createSensor<K extends SensorKind>(kind: K, options: SensorTypes[K]['options'] = {}): SimulatedSensorHandle<K> {
  const control = makeSensor(kind, options) as SensorTypes[K]['control']
  return {
    kind,
    name: control.definition.name,
    address: control.definition.address,
    definition: control.definition,
    control,
    dispose: () => control.dispose(),
  }
}

function makeSensor(kind: SensorKind, options: CommonSensorOptions): EcgSensor | HeartRateSensor | ThermometerSensor | BatterySensor {
  switch (kind) {
    case 'ecg': return new EcgSensor(options)
    case 'hr': return new HeartRateSensor(options)
    case 'thermometer': return new ThermometerSensor(options)
    case 'battery': return new BatterySensor(options)
    default: throw new Error(`unknown sensor kind '${String(kind)}' (expected ${SENSOR_KINDS.join(', ')})`)
  }
}

/** Parse "ecg,hr,thermometer" (also "thermo"; repeats give more instances) for the sim command. */
export function parseSensorList(list: string): SensorKind[] {
  return list.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0).map((s) => {
    const k = s === 'thermo' || s === 'temp' ? 'thermometer' : s === 'heart-rate' || s === 'heartrate' ? 'hr' : s
    if (!(SENSOR_KINDS as readonly string[]).includes(k)) throw new Error(`unknown sensor kind '${s}' (expected ${SENSOR_KINDS.join(', ')})`)
    return k as SensorKind
  })
}

/** One sensor per entry, numbered per kind (ecg,ecg,hr → ECG 1, ECG 2, HR 1). */
export function createSensors(kinds: readonly SensorKind[], options: { seed?: number } = {}): SimulatedSensorHandle[] {
  const counts = new Map<SensorKind, number>()
  return kinds.map((kind) => {
    const index = (counts.get(kind) ?? 0) + 1
    counts.set(kind, index)
    const seed = options.seed === undefined ? undefined : options.seed + index * 101 + SENSOR_KINDS.indexOf(kind)
    return createSensor(kind, seed === undefined ? { index } : { index, seed }) as SimulatedSensorHandle
  })
}
