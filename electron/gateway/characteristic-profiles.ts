import { decodeBatteryLevel, encodeBatteryLevel } from '../../shared/ble/battery.ts'
import { BleCodecError } from '../../shared/ble/errors.ts'
import { decodeEcgPayload, decodeSamplingRate, decodeTimestamping, encodeSamplingRate, encodeTimestamping } from '../../shared/ble/ecg-payload.ts'
import { BODY_SENSOR_LOCATIONS, decodeHeartRateMeasurement, rrToSeconds } from '../../shared/ble/heart-rate.ts'
import { readFloat11073, readSfloat11073, encodeFloat11073, encodeSfloat11073 } from '../../shared/ble/ieee11073.ts'
import type { PresentationFormat } from '../../shared/ble/presentation-format.ts'
import { PRESENTATION_FORMAT_NAMES } from '../../shared/ble/presentation-format.ts'
import { decodeTemperatureMeasurement, TEMPERATURE_TYPES } from '../../shared/ble/thermometer.ts'
import { expandUuid, normalizeUuid } from '../../shared/ble/uuid.ts'
import {
  BATTERY_LEVEL_UUID, BATTERY_SERVICE_UUID, BODY_SENSOR_LOCATION_UUID, DEVICE_INFORMATION_SERVICE_UUID, ECG_SAMPLING_RATE_UUID, ECG_SERVICE_UUID,
  ECG_TIMESTAMPING_UUID, ECG_VALUE_UUID, FIRMWARE_REVISION_UUID, GAP_SERVICE_UUID, GATT_SERVICE_UUID, HARDWARE_REVISION_UUID,
  HEALTH_THERMOMETER_SERVICE_UUID, HEART_RATE_CONTROL_POINT_UUID, HEART_RATE_MEASUREMENT_UUID, HEART_RATE_SERVICE_UUID,
  HR_CONTROL_RESET_ENERGY_EXPENDED, MANUFACTURER_NAME_UUID, MODEL_NUMBER_UUID, SERIAL_NUMBER_UUID, SOFTWARE_REVISION_UUID,
  TEMPERATURE_MEASUREMENT_UUID, TEMPERATURE_TYPE_UUID,
} from '../../shared/ble/uuids.ts'
import { CodecError } from '../../shared/lwm2m/errors.ts'
import type { Lwm2mValue, ResourceType } from '../../shared/lwm2m/values.ts'
import { bytesToHex } from '../../shared/lwm2m/values.ts'

/**
 * How the gateway turns a characteristic's bytes into an LwM2M resource value and back (issue 5): a small registry
 * of known characteristic profiles (Heart Rate, Battery, Health Thermometer, Device Information, the paper's ECG
 * service), else the characteristic's 0x2904 presentation format (REFERENCE.md §3), else Opaque. The twin itself
 * stores only which codec applies (its data type); values are fetched from the sensor each time.
 */

/** A value derived from the same notification, exposed as an extra resource (e.g. the RR intervals of 0x2A37). */
export interface DerivedValue {
  readonly name: string
  readonly type: ResourceType
  readonly units?: string
  readonly multiple: boolean
  readonly description?: string
  /** Values from one payload (several for a multiple resource; none when the payload carries none). */
  decode(bytes: Uint8Array): Lwm2mValue[]
}

export interface CharacteristicCodec {
  readonly type: ResourceType
  readonly units?: string
  readonly range?: string
  /** Throws BleCodecError (or CodecError) naming the cause. */
  decode(bytes: Uint8Array): Lwm2mValue
  /** Absent: writes take the value's plain bytes (opaque, UTF-8 string). */
  encode?(value: Lwm2mValue): Uint8Array
}

export interface CharacteristicProfile extends CharacteristicCodec {
  readonly uuid: string
  readonly name: string
  readonly description: string
  /** A control point: the resource is executable, Execute writes `command` (or the bytes given as argument). */
  readonly control?: { readonly command: Uint8Array }
  /** The paper's ECG stream: one sample per notification with seq and optional sensor timestamp. */
  readonly stream?: 'ecg'
  readonly derived?: DerivedValue
}

/** Where a characteristic's data type came from. */
export type TypeSource = 'profile' | 'presentation-format' | 'opaque'

export interface ResolvedCharacteristic extends CharacteristicCodec {
  readonly uuid: string
  readonly name: string
  readonly description: string
  readonly source: TypeSource
  readonly control?: { readonly command: Uint8Array }
  readonly stream?: 'ecg'
  readonly derived?: DerivedValue
}

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: false })

function expectNumber(value: Lwm2mValue, what: string): number {
  if (typeof value === 'number') return value
  if (typeof value === 'bigint') return Number(value)
  throw new CodecError('Value', `${what} needs a number, not ${describe(value)}`)
}

function describe(value: Lwm2mValue): string {
  if (value instanceof Uint8Array) return `${value.length} opaque bytes`
  return typeof value === 'object' ? 'an object link' : `${typeof value} ${String(value)}`
}

const utf8String: Pick<CharacteristicCodec, 'type' | 'decode' | 'encode'> = {
  type: 'string',
  decode: (bytes) => utf8Decoder.decode(bytes),
  encode: (value) => {
    if (typeof value !== 'string') throw new CodecError('Value', `a string characteristic needs a string, not ${describe(value)}`)
    return utf8.encode(value)
  },
}

function uint8Enum(name: string, values: readonly string[]): Pick<CharacteristicCodec, 'type' | 'decode' | 'range'> {
  return {
    type: 'integer',
    range: values.map((v, i) => `${i} ${v}`).join(', '),
    decode: (bytes) => {
      if (bytes.length !== 1) throw new Error(`${name}: length ${bytes.length}, expected 1 (uint8)`)
      return bytes[0] as number
    },
  }
}

function deviceInformation(uuid: string, name: string): CharacteristicProfile {
  return { uuid, name, description: `Device Information: ${name} (UTF-8)`, ...utf8String }
}

const PROFILES: readonly CharacteristicProfile[] = [
  {
    uuid: ECG_VALUE_UUID, name: 'ECG Value', description: 'ECG sample (one per notification: seq, optional timestamp, int16 in 10 µV)',
    type: 'integer', units: '10uV', stream: 'ecg',
    decode: (bytes) => decodeEcgPayload(bytes).sample,
  },
  {
    uuid: ECG_SAMPLING_RATE_UUID, name: 'Sampling Rate', description: 'ECG sampling rate (uint16, Hz)', type: 'integer', units: 'Hz', range: '25..1000',
    decode: (bytes) => decodeSamplingRate(bytes),
    encode: (value) => encodeSamplingRate(expectNumber(value, 'Sampling Rate')),
  },
  {
    uuid: ECG_TIMESTAMPING_UUID, name: 'Timestamping', description: 'Timestamp each ECG reading (on/off)', type: 'boolean',
    decode: (bytes) => decodeTimestamping(bytes),
    encode: (value) => {
      if (typeof value !== 'boolean') throw new CodecError('Value', `Timestamping needs a boolean, not ${describe(value)}`)
      return encodeTimestamping(value)
    },
  },
  {
    uuid: HEART_RATE_MEASUREMENT_UUID, name: 'Heart Rate', description: 'Heart rate from the Heart Rate Measurement (bpm)', type: 'integer', units: '/min',
    decode: (bytes) => decodeHeartRateMeasurement(bytes).heartRate,
    derived: {
      name: 'RR Intervals', type: 'float', units: 's', multiple: true, description: 'RR intervals carried by the last Heart Rate Measurement (s)',
      decode: (bytes) => decodeHeartRateMeasurement(bytes).rrIntervals.map(rrToSeconds),
    },
  },
  {
    uuid: BODY_SENSOR_LOCATION_UUID, name: 'Body Sensor Location', description: 'Where the heart rate sensor is worn',
    ...uint8Enum('Body Sensor Location', BODY_SENSOR_LOCATIONS),
  },
  {
    uuid: HEART_RATE_CONTROL_POINT_UUID, name: 'Reset Energy Expended', description: 'Heart Rate Control Point: Execute writes 0x01 (reset energy expended)',
    type: 'opaque', control: { command: new Uint8Array([HR_CONTROL_RESET_ENERGY_EXPENDED]) },
    decode: (bytes) => bytes,
  },
  {
    uuid: BATTERY_LEVEL_UUID, name: 'Battery Level', description: 'Battery level (%)', type: 'integer', units: '%', range: '0..100',
    decode: (bytes) => decodeBatteryLevel(bytes),
    encode: (value) => encodeBatteryLevel(expectNumber(value, 'Battery Level')),
  },
  {
    uuid: TEMPERATURE_MEASUREMENT_UUID, name: 'Temperature', description: 'Temperature Measurement (IEEE-11073 FLOAT, in °C)', type: 'float', units: 'Cel',
    decode: (bytes) => {
      const m = decodeTemperatureMeasurement(bytes)
      return m.unit === 'celsius' ? m.value : ((m.value - 32) * 5) / 9
    },
  },
  {
    uuid: TEMPERATURE_TYPE_UUID, name: 'Temperature Type', description: 'Where the temperature is taken',
    ...uint8Enum('Temperature Type', TEMPERATURE_TYPES),
  },
  deviceInformation(MANUFACTURER_NAME_UUID, 'Manufacturer Name'),
  deviceInformation(MODEL_NUMBER_UUID, 'Model Number'),
  deviceInformation(SERIAL_NUMBER_UUID, 'Serial Number'),
  deviceInformation(FIRMWARE_REVISION_UUID, 'Firmware Revision'),
  deviceInformation(HARDWARE_REVISION_UUID, 'Hardware Revision'),
  deviceInformation(SOFTWARE_REVISION_UUID, 'Software Revision'),
  { uuid: '2a00', name: 'Device Name', description: 'GAP Device Name (UTF-8)', ...utf8String },
  { uuid: '2a01', name: 'Appearance', description: 'GAP Appearance (uint16)', type: 'integer', decode: (bytes) => uintLe(bytes, 2, 'Appearance') },
]

const PROFILE_BY_UUID = new Map(PROFILES.map((p) => [normalizeUuid(p.uuid), p]))

/** Names of services and characteristics without a profile (GATT assigned numbers we are likely to meet). */
const KNOWN_NAMES: Readonly<Record<string, string>> = {
  [ECG_SERVICE_UUID]: 'ECG',
  [HEART_RATE_SERVICE_UUID]: 'Heart Rate',
  [HEALTH_THERMOMETER_SERVICE_UUID]: 'Health Thermometer',
  [BATTERY_SERVICE_UUID]: 'Battery',
  [DEVICE_INFORMATION_SERVICE_UUID]: 'Device Information',
  [GAP_SERVICE_UUID]: 'Generic Access',
  [GATT_SERVICE_UUID]: 'Generic Attribute',
  '1810': 'Blood Pressure', '1808': 'Glucose', '1822': 'Pulse Oximeter', '181a': 'Environmental Sensing', '1816': 'Cycling Speed and Cadence',
  '1814': 'Running Speed and Cadence', '181c': 'User Data', '1805': 'Current Time', '1802': 'Immediate Alert', '1803': 'Link Loss', '1804': 'Tx Power',
  '2a05': 'Service Changed', '2a04': 'Peripheral Preferred Connection Parameters', '2a1e': 'Intermediate Temperature', '2a21': 'Measurement Interval',
  '2a35': 'Blood Pressure Measurement', '2a5f': 'PLX Continuous Measurement', '2a6e': 'Temperature', '2a6f': 'Humidity', '2a23': 'System ID',
  '2a2a': 'IEEE 11073-20601 Regulatory Certification Data List', '2a50': 'PnP ID', '2a07': 'Tx Power Level', '2a06': 'Alert Level',
}

/** A known name of a service or characteristic, or undefined. */
export function knownName(uuid: string): string | undefined {
  const u = normalizeUuid(uuid)
  return PROFILE_BY_UUID.get(u)?.name ?? KNOWN_NAMES[u]
}

/** The profile registered for a characteristic UUID, if any. */
export function profileFor(uuid: string): CharacteristicProfile | undefined {
  return PROFILE_BY_UUID.get(normalizeUuid(uuid))
}

/** The name a service goes by: known, else its UUID in canonical form. */
export function serviceName(uuid: string): string {
  return KNOWN_NAMES[normalizeUuid(uuid)] ?? expandUuid(uuid)
}

/** GATT unit UUIDs → SenML / UCUM unit strings (the common ones). */
const UNITS: Readonly<Record<number, string>> = {
  0x2700: '', 0x2701: 'm', 0x2702: 'kg', 0x2703: 's', 0x2704: 'A', 0x2705: 'K', 0x2706: 'mol', 0x2707: 'cd', 0x2722: 'Hz', 0x2724: 'Pa',
  0x2727: 'C', 0x2728: 'V', 0x272a: 'Ohm', 0x272f: 'Cel', 0x2763: 'deg', 0x27a7: '/min', 0x27ad: '%', 0x27ac: 'degF', 0x2781: 'mmHg', 0x2782: 'V',
}

export function unitName(unit: number): string | undefined {
  const u = UNITS[unit]
  return u === '' ? undefined : u
}

function uintLe(bytes: Uint8Array, size: number, what: string): number {
  if (bytes.length !== size) throw new Error(`${what}: length ${bytes.length}, expected ${size}`)
  let v = 0
  for (let i = size - 1; i >= 0; i--) v = v * 256 + (bytes[i] as number)
  return v
}

function uintLeBig(bytes: Uint8Array): bigint {
  let v = 0n
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i] as number)
  return v
}

/** Integer formats of 0x2904: byte size, signedness, bit width (for the sub-byte and 12-bit ones). */
const INTEGER_FORMATS: Readonly<Record<number, { size: number; signed: boolean; bits: number }>> = {
  0x02: { size: 1, signed: false, bits: 2 }, 0x03: { size: 1, signed: false, bits: 4 }, 0x04: { size: 1, signed: false, bits: 8 },
  0x05: { size: 2, signed: false, bits: 12 }, 0x06: { size: 2, signed: false, bits: 16 }, 0x07: { size: 3, signed: false, bits: 24 },
  0x08: { size: 4, signed: false, bits: 32 }, 0x09: { size: 6, signed: false, bits: 48 }, 0x0a: { size: 8, signed: false, bits: 64 },
  0x0c: { size: 1, signed: true, bits: 8 }, 0x0d: { size: 2, signed: true, bits: 12 }, 0x0e: { size: 2, signed: true, bits: 16 },
  0x0f: { size: 3, signed: true, bits: 24 }, 0x10: { size: 4, signed: true, bits: 32 }, 0x11: { size: 6, signed: true, bits: 48 },
  0x12: { size: 8, signed: true, bits: 64 },
}

function pow10(e: number): number {
  return Number(`1e${e}`)
}

/** A codec from the 0x2904 presentation format (REFERENCE.md §3 table), or undefined for formats we do not map. */
export function codecFromPresentationFormat(pf: PresentationFormat): CharacteristicCodec | undefined {
  const units = unitName(pf.unit)
  const withUnits = units === undefined ? {} : { units }
  const formatName = PRESENTATION_FORMAT_NAMES[pf.format] ?? `format 0x${pf.format.toString(16)}`
  if (pf.format === 0x01) {
    return {
      type: 'boolean', ...withUnits,
      decode: (bytes) => {
        if (bytes.length !== 1) throw new Error(`boolean: length ${bytes.length}, expected 1`)
        return (bytes[0] as number) !== 0
      },
      encode: (value) => {
        if (typeof value !== 'boolean') throw new CodecError('Value', `a boolean characteristic needs a boolean, not ${describe(value)}`)
        return new Uint8Array([value ? 1 : 0])
      },
    }
  }
  const int = INTEGER_FORMATS[pf.format]
  if (int) {
    const scaled = pf.exponent !== 0
    const type: ResourceType = scaled ? 'float' : int.signed ? 'integer' : 'unsigned'
    const mask = int.bits >= 53 ? undefined : 2 ** int.bits
    return {
      type, ...withUnits,
      decode: (bytes) => {
        if (bytes.length !== int.size) throw new Error(`${formatName}: length ${bytes.length}, expected ${int.size}`)
        let raw: number | bigint
        if (mask === undefined) {
          let big = uintLeBig(bytes)
          if (int.signed && big >= 1n << BigInt(int.bits - 1)) big -= 1n << BigInt(int.bits)
          raw = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big
        } else {
          let n = uintLe(bytes, int.size, formatName) % mask
          if (int.signed && n >= mask / 2) n -= mask
          raw = n
        }
        if (!scaled) return raw
        return pf.exponent < 0 ? Number(raw) / pow10(-pf.exponent) : Number(raw) * pow10(pf.exponent)
      },
      encode: (value) => {
        const v = expectNumber(value, formatName)
        const raw = Math.round(pf.exponent < 0 ? v * pow10(-pf.exponent) : v / pow10(pf.exponent))
        const lo = int.signed ? -(2 ** (int.bits - 1)) : 0
        const hi = int.signed ? 2 ** (int.bits - 1) - 1 : 2 ** int.bits - 1
        if (!Number.isSafeInteger(raw) || raw < lo || raw > hi) throw new CodecError('Value', `${v} does not fit ${formatName}${scaled ? ` with exponent ${pf.exponent}` : ''}`)
        const out = new Uint8Array(int.size)
        let u = BigInt(raw)
        if (u < 0n) u += 1n << BigInt(int.size * 8)
        for (let i = 0; i < int.size; i++) {
          out[i] = Number(u & 0xffn)
          u >>= 8n
        }
        return out
      },
    }
  }
  if (pf.format === 0x14 || pf.format === 0x15) {
    const size = pf.format === 0x14 ? 4 : 8
    return {
      type: 'float', ...withUnits,
      decode: (bytes) => {
        if (bytes.length !== size) throw new Error(`${formatName}: length ${bytes.length}, expected ${size}`)
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
        const v = size === 4 ? view.getFloat32(0, true) : view.getFloat64(0, true)
        return pf.exponent === 0 ? v : v * pow10(pf.exponent)
      },
      encode: (value) => {
        const v = expectNumber(value, formatName) / (pf.exponent === 0 ? 1 : pow10(pf.exponent))
        const out = new Uint8Array(size)
        const view = new DataView(out.buffer)
        if (size === 4) view.setFloat32(0, v, true)
        else view.setFloat64(0, v, true)
        return out
      },
    }
  }
  if (pf.format === 0x16 || pf.format === 0x17) {
    const sfloat = pf.format === 0x16
    return {
      type: 'float', ...withUnits,
      decode: (bytes) => {
        const size = sfloat ? 2 : 4
        if (bytes.length !== size) throw new BleCodecError(sfloat ? 'IEEE-11073 SFLOAT' : 'IEEE-11073 FLOAT', `length ${bytes.length}, expected ${size}`)
        return sfloat ? readSfloat11073(bytes, 0) : readFloat11073(bytes, 0)
      },
      encode: (value) => (sfloat ? encodeSfloat11073(expectNumber(value, formatName)) : encodeFloat11073(expectNumber(value, formatName))),
    }
  }
  if (pf.format === 0x19) return { ...utf8String, ...withUnits }
  if (pf.format === 0x1a) {
    return {
      type: 'string', ...withUnits,
      decode: (bytes) => new TextDecoder('utf-16le').decode(bytes),
      encode: (value) => {
        if (typeof value !== 'string') throw new CodecError('Value', `a string characteristic needs a string, not ${describe(value)}`)
        const out = new Uint8Array(value.length * 2)
        for (let i = 0; i < value.length; i++) {
          const c = value.charCodeAt(i)
          out[2 * i] = c & 0xff
          out[2 * i + 1] = c >>> 8
        }
        return out
      },
    }
  }
  return undefined
}

const OPAQUE: CharacteristicCodec = {
  type: 'opaque',
  decode: (bytes) => bytes,
  encode: (value) => {
    if (value instanceof Uint8Array) return value
    if (typeof value === 'string') return utf8.encode(value)
    throw new CodecError('Value', `an opaque characteristic needs bytes, not ${describe(value)}`)
  },
}

/** What the gateway knows about a discovered characteristic. */
export interface CharacteristicFacts {
  readonly uuid: string
  readonly userDescription?: string | undefined
  readonly presentationFormat?: PresentationFormat | undefined
}

/**
 * Data type, codec and name of a characteristic: a known profile, else its 0x2904 format, else Opaque. The name
 * is its 0x2901 user description, else a known name, else its UUID.
 */
export function resolveCharacteristic(c: CharacteristicFacts): ResolvedCharacteristic {
  const uuid = normalizeUuid(c.uuid)
  const profile = PROFILE_BY_UUID.get(uuid)
  const userName = c.userDescription?.trim() ? c.userDescription.trim() : undefined
  const name = userName ?? knownName(uuid) ?? expandUuid(uuid)
  if (profile) {
    const { uuid: _u, name: profileName, description, ...rest } = profile
    return { uuid, ...rest, name: userName ?? profileName, description, source: 'profile' }
  }
  const fromFormat = c.presentationFormat ? codecFromPresentationFormat(c.presentationFormat) : undefined
  if (fromFormat) {
    const pf = c.presentationFormat as PresentationFormat
    const formatName = PRESENTATION_FORMAT_NAMES[pf.format] ?? `0x${pf.format.toString(16)}`
    return { uuid, ...fromFormat, name, description: `${formatName}${pf.exponent !== 0 ? ` ×10^${pf.exponent}` : ''} (from its presentation format)`, source: 'presentation-format' }
  }
  return { uuid, ...OPAQUE, name, description: 'raw bytes (no known profile or presentation format)', source: 'opaque' }
}

/** Bytes for an Execute on a control point: the argument's value (hex `0x…` or a decimal byte list), else the default. */
export function controlCommand(args: string, fallback: Uint8Array): Uint8Array {
  const text = args.trim()
  if (text === '') return fallback
  // Execute arguments: 0='value' (TS 1.1 §5.4.5); the first argument's value is the command.
  const m = /^\d+(?:='([^']*)')?/.exec(text)
  const value = m?.[1]
  if (value === undefined) return fallback
  const v = value.trim()
  if (/^0x[0-9a-f]+$/i.test(v) && v.length % 2 === 0) return Uint8Array.from(Buffer.from(v.slice(2), 'hex'))
  if (/^\d{1,3}(\s*,\s*\d{1,3})*$/.test(v)) {
    const bytes = v.split(',').map((s) => Number(s.trim()))
    if (bytes.every((b) => b <= 255)) return Uint8Array.from(bytes)
  }
  throw new CodecError('Value', `Execute argument '${v}' is neither hex (0x01) nor a list of bytes (1,2)`)
}

/** For logs: a value shortened to something readable. */
export function describeBytes(bytes: Uint8Array): string {
  return `0x${bytesToHex(bytes.subarray(0, 20))}${bytes.length > 20 ? '…' : ''}`
}
