import type { SampleRing } from './ring-buffer.ts'

/**
 * Min/max decimation per pixel column (REFERENCE.md §4): every column that holds samples gives its minimum and its
 * maximum, in the order they occurred, so a one-sample spike (a pacemaker pulse, an R wave at 500 Hz) is never
 * averaged away — unlike LTTB or plain striding. A column with one sample gives one point. Output is at most two
 * points per column, written as interleaved (x, y) pairs into a caller-owned Float64Array (no allocation per frame).
 *
 * Points carry their sample's own time (mapped to x), not the column centre, so sparse signals (150 Hz on a wide
 * screen) are drawn exactly. Columns are counted from `t0`, so as long as t0 stays put (sweep start, feed origin)
 * a column keeps the same samples from frame to frame and the trace does not shimmer.
 */
export interface DecimateSpec {
  /** Time (s) at the left edge of column 0, and the width of a column (s). */
  t0: number
  columnS: number
  /** Only samples with tFrom ≤ t ≤ tTo are used. */
  tFrom: number
  tTo: number
  /** x = (t − t0) · xPerS + x0;  y = v · yScale + y0. */
  xPerS: number
  x0: number
  yScale: number
  y0: number
  /**
   * Consecutive samples further apart than this (s) — and at least one empty column apart — break the line with a
   * NaN point (ECharts draws no segment across it). The empty column pays for the break, so the bound of two points
   * per column holds.
   */
  maxGapS: number
}

export function decimateSpec(partial: Partial<DecimateSpec> = {}): DecimateSpec {
  return { t0: 0, columnS: 1, tFrom: -Infinity, tTo: Infinity, xPerS: 1, x0: 0, yScale: 1, y0: 0, maxGapS: Infinity, ...partial }
}

/**
 * Decimate the ring's samples in [spec.tFrom, spec.tTo] into `out`, starting after the `at` points already there.
 * Returns the number of points in `out` afterwards. Never writes past the end of `out` (the caller sizes it, e.g.
 * 2 · (columns + a few)).
 */
export function decimateMinMax(ring: SampleRing, spec: DecimateSpec, out: Float64Array, at = 0): number {
  const maxPoints = out.length >> 1
  let n = at
  const first = ring.lowerBound(spec.tFrom)
  const end = ring.upperBound(spec.tTo)
  if (first >= end || spec.columnS <= 0) return n

  const times = ring.times
  const values = ring.values
  const cap = ring.capacity
  const { t0, xPerS, x0, yScale, y0, maxGapS } = spec
  const invCol = 1 / spec.columnS

  let col = 0
  let have = false
  let minT = 0
  let minV = 0
  let maxT = 0
  let maxV = 0
  let prevT = NaN
  let p = ring.index(first)

  for (let i = first; i < end; i++) {
    const t = times[p] as number
    const v = values[p] as number
    if (++p === cap) p = 0
    const c = Math.floor((t - t0) * invCol)
    if (have && c === col) {
      if (v < minV) {
        minV = v
        minT = t
      } else if (v > maxV) {
        maxV = v
        maxT = t
      }
    } else {
      if (have) {
        if (n + 2 > maxPoints) return n
        n = emitColumn(out, n, minT, minV, maxT, maxV, t0, xPerS, x0, yScale, y0)
        if (t - prevT > maxGapS && c - col >= 2 && n < maxPoints) {
          out[2 * n] = NaN
          out[2 * n + 1] = NaN
          n++
        }
      }
      have = true
      col = c
      minT = maxT = t
      minV = maxV = v
    }
    prevT = t
  }
  if (n + 2 <= maxPoints) n = emitColumn(out, n, minT, minV, maxT, maxV, t0, xPerS, x0, yScale, y0)
  return n
}

function emitColumn(
  out: Float64Array,
  n: number,
  minT: number,
  minV: number,
  maxT: number,
  maxV: number,
  t0: number,
  xPerS: number,
  x0: number,
  yScale: number,
  y0: number,
): number {
  if (minT === maxT) {
    // one sample, or a flat column: one point
    out[2 * n] = (minT - t0) * xPerS + x0
    out[2 * n + 1] = minV * yScale + y0
    return n + 1
  }
  const aT = minT < maxT ? minT : maxT
  const aV = minT < maxT ? minV : maxV
  const bT = minT < maxT ? maxT : minT
  const bV = minT < maxT ? maxV : minV
  out[2 * n] = (aT - t0) * xPerS + x0
  out[2 * n + 1] = aV * yScale + y0
  out[2 * n + 2] = (bT - t0) * xPerS + x0
  out[2 * n + 3] = bV * yScale + y0
  return n + 2
}
