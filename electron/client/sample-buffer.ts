import type { Lwm2mPath } from '../../shared/lwm2m/path.ts'
import type { Lwm2mRecord, Lwm2mValue, ResourceType } from '../../shared/lwm2m/values.ts'

/** Samples of one resource waiting for a notification: times and numbers in typed arrays, other values in a list. */
export class SampleBuffer {
  readonly path: Lwm2mPath
  readonly type: ResourceType | undefined
  private times = new Float64Array(64)
  private numbers: Float64Array | undefined = new Float64Array(64)
  private others: Lwm2mValue[] | undefined
  length = 0

  constructor(path: Lwm2mPath, type: ResourceType | undefined) {
    this.path = path
    this.type = type
  }

  push(time: number, value: Lwm2mValue): void {
    if (this.length === this.times.length) this.grow()
    if (this.numbers && typeof value === 'number') this.numbers[this.length] = value
    else {
      // The first value that is not a plain number moves the buffer to a list.
      if (!this.others) this.others = this.numbers ? Array.from(this.numbers.subarray(0, this.length)) : []
      this.numbers = undefined
      this.others[this.length] = value
    }
    this.times[this.length++] = time
  }

  pushArrays(times: ArrayLike<number>, values: ArrayLike<number>): void {
    const n = Math.min(times.length, values.length)
    for (let i = 0; i < n; i++) this.push(times[i] as number, values[i] as number)
  }

  /** The buffered samples as records, oldest first; empties the buffer. */
  drain(): Lwm2mRecord[] {
    const out = new Array<Lwm2mRecord>(this.length)
    const type = this.type
    for (let i = 0; i < this.length; i++) {
      const value = this.numbers ? (this.numbers[i] as number) : (this.others?.[i] as Lwm2mValue)
      out[i] = type ? { path: this.path, value, type, time: this.times[i] as number } : { path: this.path, value, time: this.times[i] as number }
    }
    this.length = 0
    this.others = undefined
    this.numbers ??= new Float64Array(this.times.length)
    return out
  }

  private grow(): void {
    const size = this.times.length * 2
    const times = new Float64Array(size)
    times.set(this.times)
    this.times = times
    if (this.numbers) {
      const numbers = new Float64Array(size)
      numbers.set(this.numbers)
      this.numbers = numbers
    }
  }
}

/** A token bucket: at most `ratePerSecond` notifications on average, with short bursts. */
export class RateBudget {
  private tokens: number
  private last: number
  private readonly rate: number
  private readonly capacity: number

  constructor(ratePerSecond: number, now: number) {
    this.rate = ratePerSecond
    this.capacity = Math.max(1, Math.ceil(ratePerSecond / 10))
    this.tokens = this.capacity
    this.last = now
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.rate) / 1000)
    this.last = now
  }

  /** When the next notification may go (now, if a token is there). */
  nextAt(now: number): number {
    this.refill(now)
    return this.tokens >= 1 ? now : now + ((1 - this.tokens) * 1000) / this.rate
  }

  /** Spends tokens; may go below zero, which delays what follows. */
  take(count: number, now: number): void {
    this.refill(now)
    this.tokens -= count
  }
}
