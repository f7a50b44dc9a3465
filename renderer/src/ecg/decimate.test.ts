import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { decimateMinMax, decimateSpec } from './decimate.ts'
import { SampleRing } from './ring-buffer.ts'

function ringOf(times: ArrayLike<number>, values: ArrayLike<number>, capacity = times.length): SampleRing {
  const r = new SampleRing(Math.max(1, capacity))
  r.pushMany(times, values)
  return r
}

/** n samples at rate Hz from t = 0, value f(i). */
function uniform(n: number, rate: number, f: (i: number) => number): SampleRing {
  const times = new Float64Array(n)
  const values = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    times[i] = i / rate
    values[i] = f(i)
  }
  return ringOf(times, values)
}

function points(out: Float64Array, n: number): Array<[number, number]> {
  const p: Array<[number, number]> = []
  for (let i = 0; i < n; i++) p.push([out[2 * i] as number, out[2 * i + 1] as number])
  return p
}

describe('min/max decimation', () => {
  it('keeps a single-sample spike when 5000 samples go into 100 columns, with at most 2 points per column', () => {
    const columns = 100
    const n = 5000
    for (const at of [0, 1, 1234, 2500, 4998, 4999]) {
      const ring = uniform(n, 500, (i) => (i === at ? 5 : 0.1 * Math.sin(i / 20)))
      const spec = decimateSpec({ t0: 0, columnS: 10 / columns, tFrom: 0, tTo: 10 })
      const out = new Float64Array(2 * 2 * columns)
      const count = decimateMinMax(ring, spec, out)
      expect(count).toBeLessThanOrEqual(2 * columns)
      const ys = points(out, count).map((p) => p[1])
      expect(Math.max(...ys)).toBe(5)
      // and the spike sits at its own time
      const spike = points(out, count).find((p) => p[1] === 5)
      expect(spike?.[0]).toBeCloseTo(at / 500, 9)
    }
  })

  it('keeps a negative spike too, and emits each column min and max in time order', () => {
    const ring = uniform(1000, 500, (i) => (i === 333 ? -7 : i === 340 ? 3 : 0))
    const spec = decimateSpec({ t0: 0, columnS: 0.1, tFrom: 0, tTo: 2 })
    const out = new Float64Array(80)
    const count = decimateMinMax(ring, spec, out)
    const p = points(out, count)
    const iMin = p.findIndex((q) => q[1] === -7)
    const iMax = p.findIndex((q) => q[1] === 3)
    expect(iMin).toBeGreaterThanOrEqual(0)
    expect(iMax).toBe(iMin + 1)
    // x never goes backwards
    for (let i = 1; i < p.length; i++) expect((p[i] as [number, number])[0]).toBeGreaterThanOrEqual((p[i - 1] as [number, number])[0])
  })

  it('gives sparse signals point for point (one sample per column: one point)', () => {
    const ring = uniform(150, 150, (i) => i)
    const spec = decimateSpec({ t0: 0, columnS: 1 / 600, tFrom: 0, tTo: 1 })
    const out = new Float64Array(2 * 2 * 600)
    const count = decimateMinMax(ring, spec, out)
    expect(count).toBe(150)
    expect(points(out, count).map((p) => p[1])).toEqual(Array.from({ length: 150 }, (_, i) => i))
  })

  it('maps to chart units: x = (t − t0)·xPerS + x0, y = v·yScale + y0', () => {
    const ring = ringOf([10, 10.5], [1, -1])
    const spec = decimateSpec({ t0: 10, columnS: 0.1, xPerS: 25, x0: 3, yScale: 10, y0: -2 })
    const out = new Float64Array(8)
    const count = decimateMinMax(ring, spec, out)
    expect(points(out, count)).toEqual([
      [3, 8],
      [15.5, -12],
    ])
  })

  it('uses only samples inside [tFrom, tTo]', () => {
    const ring = uniform(100, 10, (i) => i)
    const spec = decimateSpec({ t0: 0, columnS: 0.05, tFrom: 2, tTo: 3 })
    const out = new Float64Array(200)
    const count = decimateMinMax(ring, spec, out)
    const xs = points(out, count).map((p) => p[0])
    expect(Math.min(...xs)).toBeCloseTo(2, 9)
    expect(Math.max(...xs)).toBeCloseTo(3, 9)
    expect(count).toBe(11)
  })

  it('breaks the line (NaN point) across a gap longer than maxGapS, and not across short ones', () => {
    const times = [0, 0.01, 0.02, 0.03, 1.03, 1.04, 1.05]
    const ring = ringOf(times, [0, 1, 0, 1, 0, 1, 0])
    const out = new Float64Array(64)
    const withBreak = decimateMinMax(ring, decimateSpec({ t0: 0, columnS: 0.005, maxGapS: 0.25 }), out)
    const p = points(out, withBreak)
    expect(p.filter((q) => Number.isNaN(q[0]) && Number.isNaN(q[1])).length).toBe(1)
    expect(Number.isNaN((p[4] as [number, number])[0])).toBe(true)
    const none = decimateMinMax(ring, decimateSpec({ t0: 0, columnS: 0.005, maxGapS: 2 }), out)
    expect(points(out, none).some((q) => Number.isNaN(q[0]))).toBe(false)
  })

  it('works across the ring wrap point and appends after existing points', () => {
    const ring = new SampleRing(64)
    for (let i = 0; i < 200; i++) ring.push(i / 100, i === 190 ? 9 : 0)
    const out = new Float64Array(100)
    out[0] = 42
    out[1] = 43
    const count = decimateMinMax(ring, decimateSpec({ t0: 0, columnS: 0.1 }), out, 1)
    expect(out[0]).toBe(42)
    expect(count).toBeGreaterThan(1)
    expect(points(out, count).slice(1).some((q) => q[1] === 9)).toBe(true)
  })

  it('never writes past the end of a too-small output', () => {
    const ring = uniform(1000, 500, (i) => i % 7)
    const out = new Float64Array(10)
    const count = decimateMinMax(ring, decimateSpec({ t0: 0, columnS: 0.01 }), out)
    expect(count).toBeLessThanOrEqual(5)
  })

  it('returns nothing for an empty ring or an empty range', () => {
    const out = new Float64Array(10)
    expect(decimateMinMax(new SampleRing(4), decimateSpec(), out)).toBe(0)
    expect(decimateMinMax(uniform(10, 10, () => 1), decimateSpec({ tFrom: 5, tTo: 6 }), out)).toBe(0)
  })

  it('property: ≤ 2 points per column, the extremes of every column survive, x is non-decreasing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        (values, columns, gapProb) => {
          const times: number[] = []
          let t = 0
          for (let i = 0; i < values.length; i++) {
            t += (i * 7919) % 100 < gapProb * 100 ? 0.3 : 0.002
            times.push(t)
          }
          const ring = ringOf(times, values)
          const t0 = times[0] as number
          const span = (times[times.length - 1] as number) - t0
          const columnS = span > 0 ? (span * 1.000001) / columns : 1
          const out = new Float64Array(2 * 2 * columns)
          const count = decimateMinMax(ring, decimateSpec({ t0, columnS, maxGapS: 0.1 }), out)
          expect(count).toBeLessThanOrEqual(2 * columns)
          const p = points(out, count).filter((q) => !Number.isNaN(q[0]))
          for (let i = 1; i < p.length; i++) expect((p[i] as [number, number])[0]).toBeGreaterThanOrEqual((p[i - 1] as [number, number])[0])
          const f32 = Float32Array.from(values)
          const ys = new Set(p.map((q) => q[1]))
          expect(ys.has(Math.max(...f32))).toBe(true)
          expect(ys.has(Math.min(...f32))).toBe(true)
        },
      ),
    )
  })
})
