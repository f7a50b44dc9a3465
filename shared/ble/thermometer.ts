import { BleCodecError } from './errors.ts'
import { readFloat11073, writeFloat11073 } from './ieee11073.ts'

/** Temperature Measurement (0x2A1C) flags. */
export const TEMP_FLAG_FAHRENHEIT = 0x01
export const TEMP_FLAG_TIMESTAMP = 0x02
export const TEMP_FLAG_TYPE = 0x04

/** Temperature Type (0x2A1D) values, index = code. */
export const TEMPERATURE_TYPES = ['reserved', 'armpit', 'body', 'ear', 'finger', 'gastro-intestinal tract', 'mouth', 'rectum', 'toe', 'tympanum'] as const
export const TEMPERATURE_TYPE_BODY = 2

/** GATT Date Time (0x2A08): the 7-byte timestamp of a measurement. */
export interface GattDateTime {
  year: number
  month: number
  day: number
  hours: number
  minutes: number
  seconds: number
}

export interface TemperatureMeasurement {
  /** In `unit`; NaN when the sensor sent NaN / NRes. */
  value: number
  unit: 'celsius' | 'fahrenheit'
  timestamp?: GattDateTime
  /** Temperature Type code (0x2A1D values) when carried in the measurement. */
  temperatureType?: number
}

export function dateTimeFromDate(d: Date): GattDateTime {
  return {
    year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(),
    hours: d.getUTCHours(), minutes: d.getUTCMinutes(), seconds: d.getUTCSeconds(),
  }
}

export function temperatureMeasurementLength(m: TemperatureMeasurement): number {
  return 5 + (m.timestamp === undefined ? 0 : 7) + (m.temperatureType === undefined ? 0 : 1)
}

/** `decimals` of the FLOAT (default 2: hundredths of a degree). */
export function encodeTemperatureMeasurement(m: TemperatureMeasurement, decimals = 2): Uint8Array {
  const out = new Uint8Array(temperatureMeasurementLength(m))
  let flags = m.unit === 'fahrenheit' ? TEMP_FLAG_FAHRENHEIT : 0
  if (m.timestamp !== undefined) flags |= TEMP_FLAG_TIMESTAMP
  if (m.temperatureType !== undefined) flags |= TEMP_FLAG_TYPE
  out[0] = flags
  writeFloat11073(out, 1, m.value, -decimals)
  let o = 5
  if (m.timestamp !== undefined) {
    const t = m.timestamp
    out[o++] = t.year & 0xff
    out[o++] = (t.year >>> 8) & 0xff
    out[o++] = t.month
    out[o++] = t.day
    out[o++] = t.hours
    out[o++] = t.minutes
    out[o++] = t.seconds
  }
  if (m.temperatureType !== undefined) out[o] = m.temperatureType
  return out
}

export function decodeTemperatureMeasurement(bytes: Uint8Array): TemperatureMeasurement {
  if (bytes.length < 5) throw new BleCodecError('Temperature Measurement', `length ${bytes.length}, need at least 5 (flags + FLOAT)`)
  const flags = bytes[0] as number
  const need = 5 + ((flags & TEMP_FLAG_TIMESTAMP) !== 0 ? 7 : 0) + ((flags & TEMP_FLAG_TYPE) !== 0 ? 1 : 0)
  if (bytes.length !== need) {
    throw new BleCodecError('Temperature Measurement', `length ${bytes.length}, flags 0x${flags.toString(16).padStart(2, '0')} need exactly ${need}`)
  }
  const m: TemperatureMeasurement = {
    value: readFloat11073(bytes, 1),
    unit: (flags & TEMP_FLAG_FAHRENHEIT) !== 0 ? 'fahrenheit' : 'celsius',
  }
  let o = 5
  if ((flags & TEMP_FLAG_TIMESTAMP) !== 0) {
    const month = bytes[o + 2] as number
    const day = bytes[o + 3] as number
    if (month > 12 || day > 31) throw new BleCodecError('Temperature Measurement', `timestamp month ${month} day ${day} out of range`)
    m.timestamp = {
      year: (bytes[o] as number) | ((bytes[o + 1] as number) << 8), month, day,
      hours: bytes[o + 4] as number, minutes: bytes[o + 5] as number, seconds: bytes[o + 6] as number,
    }
    o += 7
  }
  if ((flags & TEMP_FLAG_TYPE) !== 0) m.temperatureType = bytes[o] as number
  return m
}
