import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MinMaxBuckets } from './min-max-buckets.ts'

describe('MinMaxBuckets', () => {
  it('keeps each bucket\'s minimum and maximum with their times, in time order', () => {
    const b = new MinMaxBuckets(0, 100, 2)
    for (const [t, v] of [[10, 5], [20, -3], [30, 9], [40, 1], [60, 7], [70, 2], [90, 4]] as const) b.add(t, v)
    // Bucket 0 (0–50): min -3 at 20, max 9 at 30; bucket 1 (50–100): max 7 at 60, min 2 at 70.
    expect(b.points()).toEqual({ times: [20, 30, 60, 70], values: [-3, 9, 7, 2] })
  })

  it('gives one point for a bucket with one sample, none for an empty one, and puts `to` in the last bucket', () => {
    const b = new MinMaxBuckets(0, 100, 4)
    b.add(10, 1)
    b.add(100, 2)
    expect(b.points()).toEqual({ times: [10, 100], values: [1, 2] })
  })

  it('keeps the earliest of equal extremes and a string only where no number is', () => {
    const b = new MinMaxBuckets(0, 20, 2)
    b.add(1, 4)
    b.add(2, 4)
    b.addOther(3, 'ignored: the bucket has numbers')
    b.addOther(12, 'first')
    b.addOther(15, true)
    expect(b.points()).toEqual({ times: [1, 15], values: [4, true] })
  })

  it('keeps both extremes when two samples share a time', () => {
    const b = new MinMaxBuckets(0, 10, 1)
    b.add(7, 2)
    b.add(7, 0)
    expect(b.points()).toEqual({ times: [7, 7], values: [0, 2] })
  })

  it('puts everything of a zero-width range in one bucket', () => {
    const b = new MinMaxBuckets(5, 5, 10)
    b.add(5, 1)
    b.add(5, 3)
    expect(b.points()).toEqual({ times: [5, 5], values: [1, 3] })
    expect(b.bucketMs).toBe(0)
  })

  it('never answers more than two points per bucket, and always the global extremes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: -1e6, max: 1e6 })), { minLength: 1, maxLength: 400 }), fc.integer({ min: 1, max: 50 }), (samples, n) => {
        const b = new MinMaxBuckets(0, 10_000, n)
        for (const [t, v] of samples) b.add(t, v)
        const { times, values } = b.points()
        expect(times.length).toBeLessThanOrEqual(2 * n)
        expect([...times].sort((x, y) => x - y)).toEqual(times)
        const vs = samples.map(([, v]) => v)
        expect(Math.max(...(values as number[]))).toBe(Math.max(...vs))
        expect(Math.min(...(values as number[]))).toBe(Math.min(...vs))
      }),
    )
  })
})
