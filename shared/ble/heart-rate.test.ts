import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { BleCodecError } from './errors.ts'
import { decodeHeartRateMeasurement, encodeHeartRateMeasurement, heartRateMeasurementLength, rrToSeconds, secondsToRr } from './heart-rate.ts'
import type { HeartRateMeasurement, SensorContact } from './heart-rate.ts'

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
const bytes = (h: string): Uint8Array => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16))

describe('Heart Rate Measurement (0x2A37)', () => {
  it('encodes a uint8 heart rate with contact detected and two RR intervals', () => {
    const m: HeartRateMeasurement = { heartRate: 72, contact: 'detected', rrIntervals: [853, 870] }
    // flags 0x16: RR present, contact supported, contact detected; 72; 853 = 0x0355; 870 = 0x0366
    expect(hex(encodeHeartRateMeasurement(m))).toBe('16' + '48' + '5503' + '6603')
    expect(heartRateMeasurementLength(m)).toBe(6)
  })

  it('uses uint16 above 255 or when asked, and carries energy expended', () => {
    expect(hex(encodeHeartRateMeasurement({ heartRate: 300, contact: 'not-supported', rrIntervals: [] }))).toBe('01' + '2c01')
    expect(hex(encodeHeartRateMeasurement({ heartRate: 60, uint16: true, contact: 'not-detected', energyExpendedKj: 513, rrIntervals: [] })))
      .toBe('0d' + '3c00' + '0102')
  })

  it('saturates energy expended at 65535 kJ', () => {
    expect(decodeHeartRateMeasurement(encodeHeartRateMeasurement({ heartRate: 60, contact: 'detected', energyExpendedKj: 1e6, rrIntervals: [] })).energyExpendedKj).toBe(0xffff)
  })

  it('decodes a packet from the Bluetooth SIG examples', () => {
    expect(decodeHeartRateMeasurement(bytes('1e' + '4b' + '3412' + '0004' + '2004'))).toEqual({
      heartRate: 75, uint16: false, contact: 'detected', energyExpendedKj: 0x1234, rrIntervals: [1024, 1056],
    })
  })

  it('round-trips every flag combination', () => {
    const contact = fc.constantFrom<SensorContact>('not-supported', 'detected', 'not-detected')
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), fc.boolean(), contact, fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
      fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 8 }),
      (heartRate, wide, c, energy, rr) => {
        const m: HeartRateMeasurement = { heartRate, uint16: wide || heartRate > 255, contact: c, rrIntervals: rr }
        if (energy !== undefined) m.energyExpendedKj = energy
        expect(decodeHeartRateMeasurement(encodeHeartRateMeasurement(m))).toEqual(m)
      }))
  })

  it('names the cause of malformed packets', () => {
    expect(() => decodeHeartRateMeasurement(bytes('00'))).toThrow('Heart Rate Measurement: length 1, need at least 2 (flags + value)')
    expect(() => decodeHeartRateMeasurement(bytes('0948'))).toThrow('Heart Rate Measurement: length 2, flags 0x09 need at least 5')
    expect(() => decodeHeartRateMeasurement(bytes('104855'))).toThrow('RR intervals take 1 bytes, not a multiple of 2')
    expect(() => decodeHeartRateMeasurement(bytes('004855'))).toThrow('1 trailing bytes without the RR-interval flag')
    expect(() => encodeHeartRateMeasurement({ heartRate: -1, contact: 'detected', rrIntervals: [] })).toThrow(BleCodecError)
  })

  it('converts RR units of 1/1024 s', () => {
    expect(rrToSeconds(1024)).toBe(1)
    expect(secondsToRr(0.8333)).toBe(853)
    expect(secondsToRr(100)).toBe(0xffff)
  })
})
