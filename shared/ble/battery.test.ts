import { describe, it, expect } from 'vitest'
import { decodeBatteryLevel, encodeBatteryLevel } from './battery.ts'
import { decodePresentationFormat, encodePresentationFormat, PRESENTATION_FORMAT_NAMES } from './presentation-format.ts'
import { expandUuid, normalizeUuid, sameUuid } from './uuid.ts'
import { ECG_SERVICE_UUID } from './uuids.ts'

describe('Battery Level (0x2A19)', () => {
  it('is one uint8 percent', () => {
    expect(Array.from(encodeBatteryLevel(87.4))).toEqual([87])
    expect(Array.from(encodeBatteryLevel(130))).toEqual([100])
    expect(Array.from(encodeBatteryLevel(-3))).toEqual([0])
    expect(decodeBatteryLevel(new Uint8Array([42]))).toBe(42)
    expect(() => decodeBatteryLevel(new Uint8Array([101]))).toThrow('Battery Level: 101 % exceeds 100 %')
    expect(() => decodeBatteryLevel(new Uint8Array([1, 2]))).toThrow('Battery Level: length 2, expected 1 (uint8 %)')
    expect(() => encodeBatteryLevel(NaN)).toThrow('Battery Level: NaN is not a number')
  })
})

describe('Presentation Format (0x2904)', () => {
  it('round-trips the 7 bytes with a signed exponent', () => {
    const p = { format: 0x0e, exponent: -5, unit: 0x2782, namespace: 1, description: 0 }
    const b = encodePresentationFormat(p)
    expect(Array.from(b)).toEqual([0x0e, 0xfb, 0x82, 0x27, 0x01, 0x00, 0x00])
    expect(decodePresentationFormat(b)).toEqual(p)
    expect(PRESENTATION_FORMAT_NAMES[0x0e]).toBe('sint16')
    expect(() => decodePresentationFormat(new Uint8Array(6))).toThrow('Presentation Format: length 6, expected 7')
  })
})

describe('UUIDs', () => {
  it('spells them the way noble does', () => {
    expect(normalizeUuid('0x180D')).toBe('180d')
    expect(normalizeUuid('f01')).toBe('0f01')
    expect(normalizeUuid('0000180d-0000-1000-8000-00805f9b34fb')).toBe('180d')
    expect(normalizeUuid('F0010000-0000-1000-8000-00805F9B34FB')).toBe(ECG_SERVICE_UUID)
    expect(normalizeUuid('0000abcd')).toBe('abcd')
    expect(expandUuid('2a37')).toBe('00002a37-0000-1000-8000-00805f9b34fb')
    expect(expandUuid(ECG_SERVICE_UUID)).toBe('f0010000-0000-1000-8000-00805f9b34fb')
    expect(sameUuid('2A37', '00002a37-0000-1000-8000-00805f9b34fb')).toBe(true)
    expect(() => normalizeUuid('xyz')).toThrow("UUID: 'xyz' is not hexadecimal")
    expect(() => normalizeUuid('123456')).toThrow("UUID: '123456' has 6 hex digits (need 4, 8 or 32)")
  })
})
