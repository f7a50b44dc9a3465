import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { BleCodecError } from './errors.ts'
import {
  SeqLossCounter, decodeEcgPayload, decodeSamplingRate, decodeTimestamping, encodeEcgPayload, encodeSamplingRate,
  encodeTimestamping, readEcgPayload, seqGap, writeEcgPayload,
} from './ecg-payload.ts'

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
const bytes = (h: string): Uint8Array => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16))

describe('ECG payload', () => {
  it('lays out seq and sample little-endian, 4 bytes without a timestamp', () => {
    expect(hex(encodeEcgPayload(0x0102, 120))).toBe('0201' + '7800')
    expect(hex(encodeEcgPayload(0xffff, -40))).toBe('ffff' + 'd8ff')
  })

  it('puts the uint32 timestamp between seq and sample, 8 bytes', () => {
    expect(hex(encodeEcgPayload(7, -1, 0x11223344))).toBe('0700' + '44332211' + 'ffff')
    expect(decodeEcgPayload(bytes('0700443322110100'))).toEqual({ seq: 7, timestampMs: 0x11223344, sample: 1 })
  })

  it('wraps seq and timestamp and clamps the sample to int16', () => {
    expect(decodeEcgPayload(encodeEcgPayload(0x10005, 40000, 2 ** 32 + 9))).toEqual({ seq: 5, timestampMs: 9, sample: 32767 })
    expect(decodeEcgPayload(encodeEcgPayload(1, -40000)).sample).toBe(-32768)
  })

  it('round-trips any seq / sample / timestamp', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: -32768, max: 32767 }), fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
      (seq, sample, ts) => {
        expect(decodeEcgPayload(encodeEcgPayload(seq, sample, ts))).toEqual({ seq, sample, timestampMs: ts })
      }))
  })

  it('reuses one scratch buffer on the hot path', () => {
    const scratch = new Uint8Array(8)
    const target = { seq: 0, sample: 0, timestampMs: undefined as number | undefined }
    expect(writeEcgPayload(scratch, 3, 99, undefined)).toBe(4)
    expect(readEcgPayload(scratch.subarray(0, 4), target)).toBe(target)
    expect(target).toEqual({ seq: 3, sample: 99, timestampMs: undefined })
    expect(writeEcgPayload(scratch, 4, -99, 1000)).toBe(8)
    expect(readEcgPayload(scratch, target)).toEqual({ seq: 4, sample: -99, timestampMs: 1000 })
  })

  it('rejects other lengths with the cause', () => {
    for (const n of [0, 1, 3, 5, 6, 7, 9, 20]) {
      expect(() => decodeEcgPayload(new Uint8Array(n))).toThrow(BleCodecError)
    }
    expect(() => decodeEcgPayload(new Uint8Array(5))).toThrow('ECG payload: length 5, expected 4 (seq + sample) or 8 (seq + timestamp + sample)')
  })
})

describe('ECG control characteristics', () => {
  it('sampling rate is uint16 LE', () => {
    expect(hex(encodeSamplingRate(150))).toBe('9600')
    expect(hex(encodeSamplingRate(1000))).toBe('e803')
    expect(decodeSamplingRate(bytes('f401'))).toBe(500)
    expect(() => decodeSamplingRate(bytes('96'))).toThrow('Sampling rate: length 1, expected 2 (uint16 LE)')
    expect(() => encodeSamplingRate(70000)).toThrow(BleCodecError)
    expect(() => encodeSamplingRate(1.5)).toThrow(BleCodecError)
  })

  it('timestamping is uint8 0/1', () => {
    expect(hex(encodeTimestamping(true))).toBe('01')
    expect(decodeTimestamping(bytes('00'))).toBe(false)
    expect(decodeTimestamping(bytes('01'))).toBe(true)
    expect(() => decodeTimestamping(bytes('02'))).toThrow('Timestamping: value 2, expected 0 (off) or 1 (on)')
    expect(() => decodeTimestamping(bytes('0100'))).toThrow(BleCodecError)
  })
})

describe('sequence gaps', () => {
  it('counts the packets missing between two sequence numbers, across the wrap', () => {
    expect(seqGap(1, 2)).toBe(0)
    expect(seqGap(1, 5)).toBe(3)
    expect(seqGap(0xfffe, 0xffff)).toBe(0)
    expect(seqGap(0xffff, 0)).toBe(0)
    expect(seqGap(0xfffe, 2)).toBe(3)
    expect(seqGap(5, 5)).toBe(-1)
    expect(seqGap(5, 4)).toBe(-1)
  })

  it('SeqLossCounter measures the drop ratio per window', () => {
    const c = new SeqLossCounter()
    for (const s of [10, 11, 12, 15, 16, 20]) c.push(s)
    expect(c.received).toBe(6)
    expect(c.lost).toBe(5)
    expect(c.lossRatio).toBeCloseTo(5 / 11)
    c.resetWindow()
    expect(c.push(21)).toBe(0)
    expect(c.push(23)).toBe(1)
    expect(c.lossRatio).toBeCloseTo(1 / 3)
    c.reset()
    expect(c.push(1000)).toBe(0)
    expect(c.lost).toBe(0)
  })

  it('finds exactly the dropped packets of a random drop pattern', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), fc.array(fc.boolean(), { minLength: 2, maxLength: 500 }), (start, keep) => {
      const c = new SeqLossCounter()
      let firstSeen = -1
      let lastSeen = -1
      keep.forEach((k, i) => {
        if (k) {
          if (firstSeen < 0) firstSeen = i
          lastSeen = i
          c.push(start + i)
        }
      })
      const inside = firstSeen < 0 ? 0 : keep.slice(firstSeen, lastSeen + 1).filter((k) => !k).length
      expect(c.lost).toBe(inside)
    }))
  })
})
