import { BleCodecError } from './errors.ts'

/**
 * IEEE 11073-20601 FLOAT (32 bit: int8 exponent, int24 mantissa) and SFLOAT (16 bit: int4 exponent, int12
 * mantissa), little-endian, value = mantissa · 10^exponent. Reserved mantissas (exponent 0) are the special values.
 */
export const FLOAT_NAN = 0x007fffff
export const FLOAT_NRES = 0x00800000
export const FLOAT_POSITIVE_INFINITY = 0x007ffffe
export const FLOAT_NEGATIVE_INFINITY = 0x00800002
export const FLOAT_RESERVED = 0x00800001

export const SFLOAT_NAN = 0x07ff
export const SFLOAT_NRES = 0x0800
export const SFLOAT_POSITIVE_INFINITY = 0x07fe
export const SFLOAT_NEGATIVE_INFINITY = 0x0802
export const SFLOAT_RESERVED = 0x0801

interface Layout {
  name: 'IEEE-11073 FLOAT' | 'IEEE-11073 SFLOAT'
  mantissaBits: number
  exponentMin: number
  exponentMax: number
  /** Largest magnitude of a normal mantissa (the top ones are special values). */
  mantissaMax: number
  digits: number
  nan: number
  posInf: number
  negInf: number
}

const FLOAT: Layout = {
  name: 'IEEE-11073 FLOAT', mantissaBits: 24, exponentMin: -128, exponentMax: 127, mantissaMax: 0x7ffffd, digits: 7,
  nan: FLOAT_NAN, posInf: FLOAT_POSITIVE_INFINITY, negInf: FLOAT_NEGATIVE_INFINITY,
}
const SFLOAT: Layout = {
  name: 'IEEE-11073 SFLOAT', mantissaBits: 12, exponentMin: -8, exponentMax: 7, mantissaMax: 0x7fd, digits: 4,
  nan: SFLOAT_NAN, posInf: SFLOAT_POSITIVE_INFINITY, negInf: SFLOAT_NEGATIVE_INFINITY,
}

function pow10(e: number): number {
  return Number(`1e${e}`)
}

/** Mantissa and exponent for `value`; `exponent` fixes the precision (e.g. -2 for hundredths), else automatic. */
function split(layout: Layout, value: number, exponent: number | undefined): { mantissa: number; exponent: number } | number {
  if (Number.isNaN(value)) return layout.nan
  if (value === Infinity) return layout.posInf
  if (value === -Infinity) return layout.negInf
  if (value === 0) return { mantissa: 0, exponent: exponent ?? 0 }
  let e = exponent ?? Math.floor(Math.log10(Math.abs(value))) - (layout.digits - 1)
  if (exponent === undefined && e < layout.exponentMin) e = layout.exponentMin
  // Multiply by a positive power of ten where possible: 36.6 / 0.1 is 365.99999…, 36.6 * 10 is 366.
  const scale = (x: number): number => Math.round(e < 0 ? x * pow10(-e) : x / pow10(e))
  let m = scale(value)
  // Too many digits for the mantissa (also with a fixed exponent): drop precision rather than fail.
  while (Math.abs(m) > layout.mantissaMax) {
    e++
    m = scale(value)
  }
  if (exponent === undefined) {
    while (m !== 0 && m % 10 === 0 && e < layout.exponentMax) {
      m /= 10
      e++
    }
  }
  if (e > layout.exponentMax) return value > 0 ? layout.posInf : layout.negInf
  if (e < layout.exponentMin) return { mantissa: 0, exponent: 0 }
  return { mantissa: m, exponent: e }
}

function pack(layout: Layout, parts: { mantissa: number; exponent: number } | number): number {
  if (typeof parts === 'number') return parts
  const mMask = (1 << layout.mantissaBits) - 1
  const eMask = layout.mantissaBits === 24 ? 0xff : 0xf
  return (((parts.exponent & eMask) << layout.mantissaBits) | (parts.mantissa & mMask)) >>> 0
}

function unpack(layout: Layout, raw: number): number {
  const mBits = layout.mantissaBits
  const mMask = (1 << mBits) - 1
  const mRaw = raw & mMask
  const eBits = mBits === 24 ? 8 : 4
  const eRaw = (raw >>> mBits) & ((1 << eBits) - 1)
  if (eRaw === 0) {
    if (mRaw === layout.nan) return NaN
    if (mRaw === layout.posInf) return Infinity
    if (mRaw === layout.negInf) return -Infinity
    // NRes and the reserved value: not a representable number either.
    if (mRaw === layout.nan + 1 || mRaw === layout.nan + 2) return NaN
  }
  const mantissa = mRaw >= 1 << (mBits - 1) ? mRaw - (1 << mBits) : mRaw
  const exponent = eRaw >= 1 << (eBits - 1) ? eRaw - (1 << eBits) : eRaw
  if (mantissa === 0) return 0
  return exponent < 0 ? mantissa / pow10(-exponent) : mantissa * pow10(exponent)
}

/** The 32-bit FLOAT of `value` (as an unsigned integer). `exponent` fixes the precision, e.g. -2. */
export function toFloat32Bits(value: number, exponent?: number): number {
  if (exponent !== undefined && (!Number.isInteger(exponent) || exponent < -128 || exponent > 127)) {
    throw new BleCodecError('IEEE-11073 FLOAT', `exponent ${exponent} outside -128..127`)
  }
  return pack(FLOAT, split(FLOAT, value, exponent))
}

export function fromFloat32Bits(raw: number): number {
  return unpack(FLOAT, raw >>> 0)
}

export function toSfloatBits(value: number, exponent?: number): number {
  if (exponent !== undefined && (!Number.isInteger(exponent) || exponent < -8 || exponent > 7)) {
    throw new BleCodecError('IEEE-11073 SFLOAT', `exponent ${exponent} outside -8..7`)
  }
  return pack(SFLOAT, split(SFLOAT, value, exponent))
}

export function fromSfloatBits(raw: number): number {
  return unpack(SFLOAT, raw & 0xffff)
}

/** Write a FLOAT at `offset` (4 bytes LE). */
export function writeFloat11073(out: Uint8Array, offset: number, value: number, exponent?: number): void {
  const raw = toFloat32Bits(value, exponent)
  out[offset] = raw & 0xff
  out[offset + 1] = (raw >>> 8) & 0xff
  out[offset + 2] = (raw >>> 16) & 0xff
  out[offset + 3] = raw >>> 24
}

export function readFloat11073(bytes: Uint8Array, offset: number): number {
  if (offset + 4 > bytes.length) {
    throw new BleCodecError('IEEE-11073 FLOAT', `needs 4 bytes at offset ${offset}, only ${Math.max(0, bytes.length - offset)} left`)
  }
  const raw = ((bytes[offset] as number) | ((bytes[offset + 1] as number) << 8) | ((bytes[offset + 2] as number) << 16) | ((bytes[offset + 3] as number) << 24)) >>> 0
  return fromFloat32Bits(raw)
}

/** Write an SFLOAT at `offset` (2 bytes LE). */
export function writeSfloat11073(out: Uint8Array, offset: number, value: number, exponent?: number): void {
  const raw = toSfloatBits(value, exponent)
  out[offset] = raw & 0xff
  out[offset + 1] = raw >>> 8
}

export function readSfloat11073(bytes: Uint8Array, offset: number): number {
  if (offset + 2 > bytes.length) {
    throw new BleCodecError('IEEE-11073 SFLOAT', `needs 2 bytes at offset ${offset}, only ${Math.max(0, bytes.length - offset)} left`)
  }
  return fromSfloatBits((bytes[offset] as number) | ((bytes[offset + 1] as number) << 8))
}

export function encodeFloat11073(value: number, exponent?: number): Uint8Array {
  const out = new Uint8Array(4)
  writeFloat11073(out, 0, value, exponent)
  return out
}

export function encodeSfloat11073(value: number, exponent?: number): Uint8Array {
  const out = new Uint8Array(2)
  writeSfloat11073(out, 0, value, exponent)
  return out
}
