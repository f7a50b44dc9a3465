/**
 * Fixed-capacity ring of timestamped samples in two typed arrays (Float64Array times, Float32Array values): the live
 * window of one series. No object per sample, no reallocation once built; the oldest samples are overwritten.
 *
 * Logical index 0 is the oldest sample held, `length - 1` the newest. Times are expected to be non-decreasing (the
 * feed enforces it), which is what `lowerBound` / `upperBound` rely on.
 */
export class SampleRing {
  readonly capacity: number
  readonly times: Float64Array
  readonly values: Float32Array
  /** Physical index of the oldest sample. */
  private start = 0
  private size = 0

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`SampleRing: capacity must be a positive integer, got ${capacity}`)
    this.capacity = capacity
    this.times = new Float64Array(capacity)
    this.values = new Float32Array(capacity)
  }

  /** Number of samples held. */
  get length(): number {
    return this.size
  }

  /** Append one sample, dropping the oldest when full. */
  push(t: number, v: number): void {
    let p = this.start + this.size
    if (p >= this.capacity) p -= this.capacity
    this.times[p] = t
    this.values[p] = v
    if (this.size < this.capacity) this.size++
    else if (++this.start === this.capacity) this.start = 0
  }

  /** Append samples pairwise; `scale` multiplies each value (unit conversion without a temporary array). */
  pushMany(times: ArrayLike<number>, values: ArrayLike<number>, scale = 1): void {
    const n = Math.min(times.length, values.length)
    for (let i = 0; i < n; i++) this.push(times[i] as number, (values[i] as number) * scale)
  }

  /** Physical array index of logical index i (0 ≤ i < length). */
  index(i: number): number {
    const p = this.start + i
    return p >= this.capacity ? p - this.capacity : p
  }

  timeAt(i: number): number {
    return this.times[this.index(i)] as number
  }

  valueAt(i: number): number {
    return this.values[this.index(i)] as number
  }

  /** Time of the oldest sample, NaN when empty. */
  get firstTime(): number {
    return this.size === 0 ? NaN : (this.times[this.start] as number)
  }

  /** Time of the newest sample, NaN when empty. */
  get lastTime(): number {
    return this.size === 0 ? NaN : (this.times[this.index(this.size - 1)] as number)
  }

  /** Value of the newest sample, NaN when empty. */
  get lastValue(): number {
    return this.size === 0 ? NaN : (this.values[this.index(this.size - 1)] as number)
  }

  /** Logical index of the first sample with time ≥ t (`length` if none). */
  lowerBound(t: number): number {
    let lo = 0
    let hi = this.size
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.times[this.index(mid)] as number) < t) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Logical index of the first sample with time > t (`length` if none). */
  upperBound(t: number): number {
    let lo = 0
    let hi = this.size
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.times[this.index(mid)] as number) <= t) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Forget every sample (the arrays are kept). */
  clear(): void {
    this.start = 0
    this.size = 0
  }

  /** Copy of the samples held, oldest first (for tests and export; not for the frame loop). */
  toArrays(): { times: Float64Array; values: Float32Array } {
    const times = new Float64Array(this.size)
    const values = new Float32Array(this.size)
    for (let i = 0; i < this.size; i++) {
      const p = this.index(i)
      times[i] = this.times[p] as number
      values[i] = this.values[p] as number
    }
    return { times, values }
  }
}
