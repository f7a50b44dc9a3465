/**
 * Token buckets per caller (issue 9: rate limits on expensive operations). Each device-management request costs a
 * token; a bucket holds `capacity` tokens and regains `refillPerSecond`. An empty bucket answers how long to wait.
 */

export interface RateLimit {
  /** Requests a caller may make at once. */
  readonly capacity: number
  /** Tokens regained per second: the sustained rate. */
  readonly refillPerSecond: number
}

export const DEFAULT_DM_RATE_LIMIT: RateLimit = { capacity: 120, refillPerSecond: 40 }

interface Bucket {
  tokens: number
  updatedAt: number
}

/** Buckets of callers idle long enough to be full again are dropped, so a flood of addresses cannot grow the map forever. */
const MAX_BUCKETS = 10_000

export class RateLimiter implements RateLimit {
  readonly capacity: number
  readonly refillPerSecond: number
  private readonly limit: RateLimit
  private readonly now: () => number
  private readonly buckets = new Map<string, Bucket>()

  constructor(limit: RateLimit, now: () => number = Date.now) {
    if (!(limit.capacity >= 1) || !(limit.refillPerSecond > 0)) throw new Error(`a rate limit needs a capacity ≥ 1 and a refill > 0, not ${limit.capacity} and ${limit.refillPerSecond}`)
    this.limit = limit
    this.capacity = limit.capacity
    this.refillPerSecond = limit.refillPerSecond
    this.now = now
  }

  /** Takes one token of `caller`'s bucket: 0 when granted, else the seconds until one is back. */
  take(caller: string): number {
    const now = this.now()
    const bucket = this.buckets.get(caller) ?? this.newBucket(caller, now)
    bucket.tokens = Math.min(this.limit.capacity, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.limit.refillPerSecond)
    bucket.updatedAt = now
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return (1 - bucket.tokens) / this.limit.refillPerSecond
  }

  private newBucket(caller: string, now: number): Bucket {
    if (this.buckets.size >= MAX_BUCKETS) this.dropFullBuckets(now)
    const bucket = { tokens: this.limit.capacity, updatedAt: now }
    this.buckets.set(caller, bucket)
    return bucket
  }

  private dropFullBuckets(now: number): void {
    const refillMs = (this.limit.capacity / this.limit.refillPerSecond) * 1000
    for (const [caller, bucket] of this.buckets) if (now - bucket.updatedAt >= refillMs) this.buckets.delete(caller)
    // Still full of active callers: forget the oldest rather than grow.
    if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value as string)
  }
}
