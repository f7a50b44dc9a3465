import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { SampleRing } from './ring-buffer.ts'

describe('SampleRing', () => {
  it('holds samples oldest first until full, then overwrites the oldest', () => {
    const r = new SampleRing(4)
    expect(r.length).toBe(0)
    expect(Number.isNaN(r.firstTime)).toBe(true)
    expect(Number.isNaN(r.lastTime)).toBe(true)
    for (let i = 0; i < 3; i++) r.push(i, i * 10)
    expect(r.length).toBe(3)
    expect([r.firstTime, r.lastTime, r.lastValue]).toEqual([0, 2, 20])
    for (let i = 3; i < 7; i++) r.push(i, i * 10)
    expect(r.length).toBe(4)
    const { times, values } = r.toArrays()
    expect(Array.from(times)).toEqual([3, 4, 5, 6])
    expect(Array.from(values)).toEqual([30, 40, 50, 60])
    expect(r.timeAt(0)).toBe(3)
    expect(r.valueAt(3)).toBe(60)
  })

  it('keeps its typed arrays (no reallocation) and stores values as float32', () => {
    const r = new SampleRing(8)
    const { times, values } = r
    for (let i = 0; i < 100; i++) r.push(1_760_000_000 + i / 500, 0.1 * i)
    expect(r.times).toBe(times)
    expect(r.values).toBe(values)
    // epoch times keep sub-millisecond precision in Float64
    expect(r.lastTime).toBeCloseTo(1_760_000_000 + 99 / 500, 6)
    expect(r.lastValue).toBe(Math.fround(9.9))
  })

  it('pushMany scales values pairwise and ignores the longer tail', () => {
    const r = new SampleRing(10)
    r.pushMany([1, 2, 3], Int16Array.from([100, -50, 25, 999]), 0.01)
    expect(Array.from(r.toArrays().values)).toEqual([1, -0.5, 0.25].map(Math.fround))
  })

  it('clear forgets everything but keeps capacity', () => {
    const r = new SampleRing(3)
    r.pushMany([1, 2, 3, 4], [1, 2, 3, 4])
    r.clear()
    expect(r.length).toBe(0)
    r.push(9, 9)
    expect(r.toArrays().times[0]).toBe(9)
    expect(r.capacity).toBe(3)
  })

  it('rejects a non-positive or fractional capacity', () => {
    expect(() => new SampleRing(0)).toThrow(/capacity/)
    expect(() => new SampleRing(2.5)).toThrow(/capacity/)
  })

  it('lowerBound / upperBound agree with a linear scan, across the wrap point (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 120 }),
        fc.integer({ min: -2, max: 200 }),
        (capacity, steps, probe) => {
          const r = new SampleRing(capacity)
          let t = 0
          for (const s of steps) {
            t += s // non-decreasing, with repeats
            r.push(t, t)
          }
          const times = Array.from(r.toArrays().times)
          const lower = times.findIndex((x) => x >= probe)
          const upper = times.findIndex((x) => x > probe)
          expect(r.lowerBound(probe)).toBe(lower < 0 ? times.length : lower)
          expect(r.upperBound(probe)).toBe(upper < 0 ? times.length : upper)
        },
      ),
    )
  })

  it('index() maps logical to physical positions consistently with timeAt', () => {
    const r = new SampleRing(5)
    for (let i = 0; i < 12; i++) r.push(i, -i)
    for (let i = 0; i < r.length; i++) {
      expect(r.times[r.index(i)]).toBe(r.timeAt(i))
      expect(r.values[r.index(i)]).toBe(r.valueAt(i))
    }
  })
})
