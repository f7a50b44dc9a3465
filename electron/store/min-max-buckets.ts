/** A stored value: numbers on the fast path, strings and booleans as they came. */
export type HistoryValue = number | string | boolean

/**
 * Min/max decimation of a time range into equal buckets: each bucket keeps its smallest and its
 * largest sample with their times, so a spike one sample wide survives any zoom level. A bucket
 * with no number keeps its last other value (a string or boolean resource). Memory is per bucket,
 * never per sample.
 */
export class MinMaxBuckets {
  private readonly from: number
  private readonly scale: number
  private readonly size: number
  private readonly minT: Float64Array
  private readonly minV: Float64Array
  private readonly maxT: Float64Array
  private readonly maxV: Float64Array
  private readonly filled: Uint8Array
  private readonly others = new Map<number, { t: number; v: HistoryValue }>()

  constructor(from: number, to: number, buckets: number) {
    this.from = from
    this.size = Math.max(1, Math.floor(buckets))
    // A zero-width range puts everything in bucket 0.
    this.scale = to > from ? this.size / (to - from) : 0
    this.minT = new Float64Array(this.size)
    this.minV = new Float64Array(this.size)
    this.maxT = new Float64Array(this.size)
    this.maxV = new Float64Array(this.size)
    this.filled = new Uint8Array(this.size)
  }

  get count(): number {
    return this.size
  }

  /** Buckets per millisecond: bucket of t = floor((t − from) · perMs), the last one taking `to`. */
  get perMs(): number {
    return this.scale
  }

  get bucketMs(): number {
    return this.scale > 0 ? 1 / this.scale : 0
  }

  bucketOf(t: number): number {
    const b = Math.floor((t - this.from) * this.scale)
    return b < 0 ? 0 : b >= this.size ? this.size - 1 : b
  }

  add(t: number, v: number): void {
    const b = this.bucketOf(t)
    if (this.filled[b] === 0) {
      this.filled[b] = 1
      this.minT[b] = this.maxT[b] = t
      this.minV[b] = this.maxV[b] = v
      return
    }
    // Ties keep the earliest sample, so repeated values do not walk the point along.
    if (v < (this.minV[b] as number) || (v === this.minV[b] && t < (this.minT[b] as number))) {
      this.minV[b] = v
      this.minT[b] = t
    }
    if (v > (this.maxV[b] as number) || (v === this.maxV[b] && t < (this.maxT[b] as number))) {
      this.maxV[b] = v
      this.maxT[b] = t
    }
  }

  addOther(t: number, v: HistoryValue): void {
    const b = this.bucketOf(t)
    const held = this.others.get(b)
    if (!held || t >= held.t) this.others.set(b, { t, v })
  }

  /** At most two points per bucket, in time order. */
  points(): { times: number[]; values: HistoryValue[] } {
    const times: number[] = []
    const values: HistoryValue[] = []
    for (let b = 0; b < this.size; b++) {
      if (this.filled[b] === 0) {
        const other = this.others.get(b)
        if (other) {
          times.push(other.t)
          values.push(other.v)
        }
        continue
      }
      const tMin = this.minT[b] as number
      const tMax = this.maxT[b] as number
      if (this.minV[b] === this.maxV[b]) {
        times.push(tMin)
        values.push(this.minV[b] as number)
      } else if (tMin <= tMax) {
        times.push(tMin, tMax)
        values.push(this.minV[b] as number, this.maxV[b] as number)
      } else {
        times.push(tMax, tMin)
        values.push(this.maxV[b] as number, this.minV[b] as number)
      }
    }
    return { times, values }
  }
}
