import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { BleCodecError } from './errors.ts'
import {
  FLOAT_NAN, FLOAT_NEGATIVE_INFINITY, FLOAT_NRES, FLOAT_POSITIVE_INFINITY, FLOAT_RESERVED, SFLOAT_NAN, SFLOAT_NEGATIVE_INFINITY,
  SFLOAT_NRES, SFLOAT_POSITIVE_INFINITY, SFLOAT_RESERVED, encodeFloat11073, encodeSfloat11073, fromFloat32Bits, fromSfloatBits,
  readFloat11073, readSfloat11073, toFloat32Bits, toSfloatBits,
} from './ieee11073.ts'

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

describe('IEEE-11073 FLOAT (32 bit)', () => {
  it('encodes a body temperature with a fixed precision: 36.4 °C = 364 · 10^-1', () => {
    expect(hex(encodeFloat11073(36.4, -1))).toBe('6c0100ff')
    expect(hex(encodeFloat11073(36.85, -2))).toBe('650e00fe')
    expect(hex(encodeFloat11073(36.6, -2))).toBe('4c0e00fe')
  })

  it('picks the shortest exact mantissa without a fixed precision', () => {
    expect(toFloat32Bits(36.4)).toBe(((0xff << 24) | 364) >>> 0)
    expect(toFloat32Bits(100)).toBe(((0x02 << 24) | 1) >>> 0)
    expect(toFloat32Bits(-0.5)).toBe(((0xff << 24) | (-5 & 0xffffff)) >>> 0)
    expect(toFloat32Bits(0)).toBe(0)
  })

  it('decodes negative mantissas and exponents', () => {
    expect(fromFloat32Bits(((0xfe << 24) | (-3685 & 0xffffff)) >>> 0)).toBeCloseTo(-36.85, 10)
    expect(fromFloat32Bits(((0x03 << 24) | 12) >>> 0)).toBe(12000)
  })

  it('maps the special values both ways', () => {
    expect(toFloat32Bits(NaN)).toBe(FLOAT_NAN)
    expect(toFloat32Bits(Infinity)).toBe(FLOAT_POSITIVE_INFINITY)
    expect(toFloat32Bits(-Infinity)).toBe(FLOAT_NEGATIVE_INFINITY)
    expect(fromFloat32Bits(FLOAT_NAN)).toBeNaN()
    expect(fromFloat32Bits(FLOAT_NRES)).toBeNaN()
    expect(fromFloat32Bits(FLOAT_RESERVED)).toBeNaN()
    expect(fromFloat32Bits(FLOAT_POSITIVE_INFINITY)).toBe(Infinity)
    expect(fromFloat32Bits(FLOAT_NEGATIVE_INFINITY)).toBe(-Infinity)
  })

  it('overflows to infinity and drops digits that do not fit', () => {
    expect(toFloat32Bits(1e200)).toBe(FLOAT_POSITIVE_INFINITY)
    expect(toFloat32Bits(-1e200)).toBe(FLOAT_NEGATIVE_INFINITY)
    expect(fromFloat32Bits(toFloat32Bits(123456789, 0))).toBe(123456800)
  })

  it('round-trips values with up to 7 significant digits', () => {
    fc.assert(fc.property(fc.integer({ min: -8_388_605, max: 8_388_605 }), fc.integer({ min: -20, max: 20 }), (m, e) => {
      const value = e < 0 ? m / Number(`1e${-e}`) : m * Number(`1e${e}`)
      const back = fromFloat32Bits(toFloat32Bits(value))
      expect(back).toBeCloseTo(value, 12 - Math.max(0, e))
      expect(Math.abs(back - value)).toBeLessThanOrEqual(Math.abs(value) * 1e-12)
    }))
  })

  it('reads at an offset and names a short buffer', () => {
    const b = new Uint8Array([0, 0x6c, 0x01, 0x00, 0xff])
    expect(readFloat11073(b, 1)).toBeCloseTo(36.4, 10)
    expect(() => readFloat11073(b, 2)).toThrow('IEEE-11073 FLOAT: needs 4 bytes at offset 2, only 3 left')
    expect(() => toFloat32Bits(1, 200)).toThrow(BleCodecError)
  })
})

describe('IEEE-11073 SFLOAT (16 bit)', () => {
  it('encodes with 12-bit mantissa and 4-bit exponent', () => {
    expect(hex(encodeSfloat11073(36.4, -1))).toBe('6cf1')
    expect(toSfloatBits(120)).toBe((0x1 << 12) | 12)
    expect(fromSfloatBits(0xf16c)).toBeCloseTo(36.4, 10)
    expect(fromSfloatBits((0x0 << 12) | (-5 & 0xfff))).toBe(-5)
  })

  it('maps the special values both ways', () => {
    expect(toSfloatBits(NaN)).toBe(SFLOAT_NAN)
    expect(toSfloatBits(Infinity)).toBe(SFLOAT_POSITIVE_INFINITY)
    expect(toSfloatBits(-Infinity)).toBe(SFLOAT_NEGATIVE_INFINITY)
    expect(fromSfloatBits(SFLOAT_NRES)).toBeNaN()
    expect(fromSfloatBits(SFLOAT_RESERVED)).toBeNaN()
    expect(fromSfloatBits(SFLOAT_POSITIVE_INFINITY)).toBe(Infinity)
    expect(fromSfloatBits(SFLOAT_NEGATIVE_INFINITY)).toBe(-Infinity)
    expect(fromSfloatBits(toSfloatBits(1e9))).toBe(1e9)
    expect(toSfloatBits(1e12)).toBe(SFLOAT_POSITIVE_INFINITY)
  })

  it('round-trips mantissas that fit', () => {
    fc.assert(fc.property(fc.integer({ min: -2045, max: 2045 }), fc.integer({ min: -8, max: 7 }), (m, e) => {
      const value = e < 0 ? m / Number(`1e${-e}`) : m * Number(`1e${e}`)
      const back = fromSfloatBits(toSfloatBits(value))
      expect(Math.abs(back - value)).toBeLessThanOrEqual(Math.abs(value) * 1e-12)
    }))
    expect(() => readSfloat11073(new Uint8Array(1), 0)).toThrow('IEEE-11073 SFLOAT: needs 2 bytes at offset 0, only 1 left')
  })
})
