import { BleCodecError } from './errors.ts'

/** Heart Rate Measurement (0x2A37) flags. */
export const HR_FLAG_UINT16 = 0x01
export const HR_FLAG_CONTACT_DETECTED = 0x02
export const HR_FLAG_CONTACT_SUPPORTED = 0x04
export const HR_FLAG_ENERGY_EXPENDED = 0x08
export const HR_FLAG_RR_INTERVALS = 0x10

export type SensorContact = 'not-supported' | 'detected' | 'not-detected'

export interface HeartRateMeasurement {
  /** Beats per minute. */
  heartRate: number
  /** Whether the value was (to be) carried as uint16; encoding picks uint16 by itself above 255. */
  uint16?: boolean
  contact: SensorContact
  /** Energy expended in kJ since the last reset (uint16, saturates at 65535); absent when not in this packet. */
  energyExpendedKj?: number
  /** RR intervals in 1/1024 s, oldest first. */
  rrIntervals: number[]
}

/** Body Sensor Location (0x2A38) values. */
export const BODY_SENSOR_LOCATIONS = ['other', 'chest', 'wrist', 'finger', 'hand', 'ear lobe', 'foot'] as const

export function rrToSeconds(rr1024: number): number {
  return rr1024 / 1024
}

export function secondsToRr(seconds: number): number {
  return Math.min(0xffff, Math.max(0, Math.round(seconds * 1024)))
}

/** Encoded length of `m` (to check it against the ATT MTU before sending). */
export function heartRateMeasurementLength(m: HeartRateMeasurement): number {
  const wide = m.uint16 === true || m.heartRate > 255
  return 1 + (wide ? 2 : 1) + (m.energyExpendedKj === undefined ? 0 : 2) + 2 * m.rrIntervals.length
}

export function encodeHeartRateMeasurement(m: HeartRateMeasurement): Uint8Array {
  if (!Number.isInteger(m.heartRate) || m.heartRate < 0 || m.heartRate > 0xffff) {
    throw new BleCodecError('Heart Rate Measurement', `heart rate ${m.heartRate} is not a uint16`)
  }
  const wide = m.uint16 === true || m.heartRate > 255
  let flags = wide ? HR_FLAG_UINT16 : 0
  if (m.contact !== 'not-supported') flags |= HR_FLAG_CONTACT_SUPPORTED
  if (m.contact === 'detected') flags |= HR_FLAG_CONTACT_DETECTED
  if (m.energyExpendedKj !== undefined) flags |= HR_FLAG_ENERGY_EXPENDED
  if (m.rrIntervals.length > 0) flags |= HR_FLAG_RR_INTERVALS
  const out = new Uint8Array(heartRateMeasurementLength(m))
  out[0] = flags
  let o = 1
  if (wide) {
    out[o++] = m.heartRate & 0xff
    out[o++] = m.heartRate >>> 8
  } else {
    out[o++] = m.heartRate
  }
  if (m.energyExpendedKj !== undefined) {
    const e = Math.min(0xffff, Math.max(0, Math.floor(m.energyExpendedKj)))
    out[o++] = e & 0xff
    out[o++] = e >>> 8
  }
  for (const rr of m.rrIntervals) {
    const r = Math.min(0xffff, Math.max(0, Math.round(rr)))
    out[o++] = r & 0xff
    out[o++] = r >>> 8
  }
  return out
}

export function decodeHeartRateMeasurement(bytes: Uint8Array): HeartRateMeasurement {
  if (bytes.length < 2) throw new BleCodecError('Heart Rate Measurement', `length ${bytes.length}, need at least 2 (flags + value)`)
  const flags = bytes[0] as number
  const u16 = (o: number): number => (bytes[o] as number) | ((bytes[o + 1] as number) << 8)
  const wide = (flags & HR_FLAG_UINT16) !== 0
  const need = 1 + (wide ? 2 : 1) + ((flags & HR_FLAG_ENERGY_EXPENDED) !== 0 ? 2 : 0)
  if (bytes.length < need) {
    throw new BleCodecError('Heart Rate Measurement', `length ${bytes.length}, flags 0x${flags.toString(16).padStart(2, '0')} need at least ${need}`)
  }
  let o = 1
  const heartRate = wide ? u16(o) : (bytes[o] as number)
  o += wide ? 2 : 1
  const contact: SensorContact =
    (flags & HR_FLAG_CONTACT_SUPPORTED) === 0 ? 'not-supported' : (flags & HR_FLAG_CONTACT_DETECTED) !== 0 ? 'detected' : 'not-detected'
  const m: HeartRateMeasurement = { heartRate, uint16: wide, contact, rrIntervals: [] }
  if ((flags & HR_FLAG_ENERGY_EXPENDED) !== 0) {
    m.energyExpendedKj = u16(o)
    o += 2
  }
  if ((flags & HR_FLAG_RR_INTERVALS) !== 0) {
    const rest = bytes.length - o
    if (rest % 2 !== 0) throw new BleCodecError('Heart Rate Measurement', `RR intervals take ${rest} bytes, not a multiple of 2`)
    for (; o < bytes.length; o += 2) m.rrIntervals.push(u16(o))
  } else if (o !== bytes.length) {
    throw new BleCodecError('Heart Rate Measurement', `${bytes.length - o} trailing bytes without the RR-interval flag`)
  }
  return m
}
