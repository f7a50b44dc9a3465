import { describe, expect, it } from 'vitest'
import { RateLimiter } from './rate-limiter.ts'

describe('RateLimiter', () => {
  it('grants a burst of `capacity`, then one token per 1/refill seconds, per caller', () => {
    let now = 0
    const limiter = new RateLimiter({ capacity: 3, refillPerSecond: 2 }, () => now)
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0])
    expect(limiter.take('a')).toBeCloseTo(0.5)
    expect(limiter.take('b')).toBe(0)
    now = 250
    expect(limiter.take('a')).toBeCloseTo(0.25)
    now = 500
    expect(limiter.take('a')).toBe(0)
    expect(limiter.take('a')).toBeCloseTo(0.5)
    // Idle long enough, a bucket is full again, never fuller.
    now = 60_000
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0])
    expect(limiter.take('a')).toBeGreaterThan(0)
  })

  it('keeps its memory bounded under a flood of callers', () => {
    let now = 0
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 1 }, () => now)
    for (let i = 0; i < 25_000; i++) {
      now += 1
      expect(limiter.take(`10.0.${i >> 8}.${i & 255}`)).toBe(0)
    }
    expect((limiter as unknown as { buckets: Map<string, unknown> }).buckets.size).toBeLessThanOrEqual(10_000)
  })

  it('refuses a limit that could never grant anything', () => {
    expect(() => new RateLimiter({ capacity: 0, refillPerSecond: 1 })).toThrow('a rate limit needs a capacity ≥ 1 and a refill > 0, not 0 and 1')
  })
})
