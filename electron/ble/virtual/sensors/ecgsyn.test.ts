import { describe, it, expect } from 'vitest'
import { EcgSyn } from './ecgsyn.ts'
import { RrProcess } from './rr-process.ts'
import { Prng } from '../prng.ts'

const FS = 250

/** Generate `seconds` of ECG at FS. */
function run(seed: number, seconds: number, options = {}): { gen: EcgSyn; mv: Float64Array } {
  const gen = new EcgSyn({ seed, ...options })
  const mv = new Float64Array(Math.round(seconds * FS))
  gen.fill(mv, FS)
  return { gen, mv }
}

/** Power of the (mean-removed) RR series at frequency f, as a non-uniform DFT over the beat times. */
function rrPower(times: number[], rr: number[], f: number): number {
  const mean = rr.reduce((s, x) => s + x, 0) / rr.length
  let re = 0
  let im = 0
  rr.forEach((x, i) => {
    const t = times[i] as number
    re += (x - mean) * Math.cos(2 * Math.PI * f * t)
    im -= (x - mean) * Math.sin(2 * Math.PI * f * t)
  })
  return (re * re + im * im) / rr.length
}

function bandPower(times: number[], rr: number[], lo: number, hi: number): number {
  let s = 0
  let n = 0
  for (let f = lo; f <= hi + 1e-9; f += 0.0025, n++) s += rrPower(times, rr, f)
  return s / n
}

describe('ECGSYN', () => {
  const { gen, mv } = run(7, 300)
  const peaks = gen.rPeakTimes()
  const rr = peaks.slice(1).map((t, i) => t - (peaks[i] as number))

  it('beats at 60 ± 1 bpm: one R peak per second on average', () => {
    // 300 s at 60 bpm: 300 beats give or take one.
    expect(peaks.length).toBeGreaterThanOrEqual(295)
    expect(peaks.length).toBeLessThanOrEqual(305)
    const mean = rr.reduce((s, x) => s + x, 0) / rr.length
    expect(mean).toBeGreaterThan(0.98)
    expect(mean).toBeLessThan(1.02)
  })

  it('puts each reported R peak on the signal maximum of its beat', () => {
    for (let k = 1; k < peaks.length - 1; k++) {
      const i = Math.round((peaks[k] as number) * FS)
      let localMax = -Infinity
      for (let j = i - 50; j <= i + 50; j++) localMax = Math.max(localMax, mv[j] as number)
      expect(Math.abs((mv[i] as number) - localMax)).toBeLessThan(0.15)
      expect(mv[i] as number).toBeGreaterThan(0.8)
    }
  })

  it('spans about -0.4 … 1.2 mV', () => {
    let lo = Infinity
    let hi = -Infinity
    for (const v of mv) {
      lo = Math.min(lo, v)
      hi = Math.max(hi, v)
    }
    expect(lo).toBeGreaterThan(-0.6)
    expect(lo).toBeLessThan(-0.25)
    expect(hi).toBeGreaterThan(1.05)
    expect(hi).toBeLessThan(1.4)
  })

  it('has heart-rate variability with power at the LF (0.1 Hz) and HF (0.25 Hz) peaks', () => {
    const mean = rr.reduce((s, x) => s + x, 0) / rr.length
    const sd = Math.sqrt(rr.reduce((s, x) => s + (x - mean) ** 2, 0) / rr.length)
    // ECGSYN: σ_RR = 60·σ_HR/HR² = 1/60 s for 60 ± 1 bpm.
    expect(sd).toBeGreaterThan(0.008)
    expect(sd).toBeLessThan(0.03)
    const t = peaks.slice(1)
    const lf = bandPower(t, rr, 0.09, 0.11)
    const hf = bandPower(t, rr, 0.24, 0.26)
    const between = bandPower(t, rr, 0.15, 0.2)
    const above = bandPower(t, rr, 0.35, 0.45)
    expect(lf).toBeGreaterThan(5 * between)
    expect(hf).toBeGreaterThan(5 * between)
    expect(hf).toBeGreaterThan(5 * above)
  })

  it('is deterministic for a seed and differs between seeds', () => {
    const a = run(42, 5).mv
    const b = run(42, 5).mv
    const c = run(43, 5).mv
    expect(Array.from(a)).toEqual(Array.from(b))
    expect(Array.from(a)).not.toEqual(Array.from(c))
  })

  it('keeps time across sampling-rate changes', () => {
    const g = new EcgSyn({ seed: 3 })
    for (let i = 0; i < 150; i++) g.next(150)
    for (let i = 0; i < 500; i++) g.next(500)
    // The first sample is at t = 0: 149 steps of 1/150 s, then 500 of 1/500 s.
    expect(g.time).toBeCloseTo(149 / 150 + 1, 9)
    expect(g.rPeakCount).toBeGreaterThanOrEqual(1)
    expect(g.rPeakCount).toBeLessThanOrEqual(3)
    const u = g.nextUnits(500)
    expect(Number.isInteger(u)).toBe(true)
    expect(Math.abs(u)).toBeLessThan(200)
  })

  it('follows the requested mean heart rate', () => {
    const g = new EcgSyn({ seed: 5, heartRateBpm: 90 })
    for (let i = 0; i < 60 * FS; i++) g.next(FS)
    expect(g.rPeakCount).toBeGreaterThanOrEqual(85)
    expect(g.rPeakCount).toBeLessThanOrEqual(95)
  })
})

describe('RR process', () => {
  it('has the requested mean and standard deviation', () => {
    const p = new RrProcess({ seed: 9, heartRateBpm: 72, heartRateStdBpm: 3 })
    const rr = Array.from({ length: 2000 }, () => p.nextRr())
    const mean = rr.reduce((s, x) => s + x, 0) / rr.length
    const sd = Math.sqrt(rr.reduce((s, x) => s + (x - mean) ** 2, 0) / rr.length)
    expect(mean).toBeCloseTo(60 / 72, 2)
    expect(sd).toBeGreaterThan(0.5 * p.stdRrS)
    expect(sd).toBeLessThan(1.5 * p.stdRrS)
  })
})

describe('Prng', () => {
  it('repeats for a seed, and its Gaussian has mean 0 and variance 1', () => {
    const a = new Prng(1)
    const b = new Prng(1)
    const xs = Array.from({ length: 5 }, () => a.next())
    expect(xs).toEqual(Array.from({ length: 5 }, () => b.next()))
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true)
    const g = new Prng(2)
    const n = 20000
    const v = Array.from({ length: n }, () => g.gaussian())
    const mean = v.reduce((s, x) => s + x, 0) / n
    const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / n
    expect(Math.abs(mean)).toBeLessThan(0.05)
    expect(variance).toBeGreaterThan(0.95)
    expect(variance).toBeLessThan(1.05)
  })
})
