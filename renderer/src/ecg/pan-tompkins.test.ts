import { describe, it, expect } from 'vitest'
import { EcgSyn } from '../../../electron/ble/virtual/sensors/ecgsyn.ts'
import type { EcgSynOptions } from '../../../electron/ble/virtual/sensors/ecgsyn.ts'
import { PanTompkins } from './pan-tompkins.ts'

const TOLERANCE_S = 0.05

interface Synth {
  times: Float64Array
  values: Float32Array
  truth: number[]
}

/** `seconds` of ECGSYN at `rates` (one rate per segment of `seconds / rates.length`). */
function synth(seconds: number, rates: number[], options: EcgSynOptions = {}): Synth {
  const gen = new EcgSyn(options)
  const times: number[] = []
  const values: number[] = []
  const segment = seconds / rates.length
  for (const rate of rates) {
    const n = Math.round(segment * rate)
    for (let i = 0; i < n; i++) {
      values.push(gen.next(rate))
      times.push(gen.time)
    }
  }
  return { times: Float64Array.from(times), values: Float32Array.from(values), truth: gen.rPeakTimes() }
}

/** Feed in notification-sized chunks (deterministic pseudo-random sizes 1…60). */
function feedChunked(det: PanTompkins, s: Synth, seed = 1): void {
  let state = seed
  for (let i = 0; i < s.times.length; ) {
    state = (state * 1103515245 + 12345) >>> 0
    const k = 1 + (state % 60)
    det.push(s.times.subarray(i, i + k), s.values.subarray(i, i + k))
    i += k
  }
}

interface Score {
  tp: number
  fn: number
  fp: number
  sensitivity: number
  ppv: number
  maxErrorS: number
}

/** One-to-one matching of detected to true peaks within ±TOLERANCE_S, over true peaks in [from, to]. */
function score(truth: number[], detected: number[], from: number, to: number): Score {
  const t = truth.filter((x) => x >= from && x <= to)
  const d = detected.filter((x) => x >= from - TOLERANCE_S && x <= to + TOLERANCE_S)
  const used = new Array<boolean>(d.length).fill(false)
  let tp = 0
  let maxErrorS = 0
  for (const x of t) {
    let best = -1
    for (let j = 0; j < d.length; j++) {
      if (used[j]) continue
      const e = Math.abs((d[j] as number) - x)
      if (e <= TOLERANCE_S && (best < 0 || e < Math.abs((d[best] as number) - x))) best = j
    }
    if (best >= 0) {
      used[best] = true
      tp++
      maxErrorS = Math.max(maxErrorS, Math.abs((d[best] as number) - x))
    }
  }
  const fp = used.filter((u) => !u).length
  return { tp, fn: t.length - tp, fp, sensitivity: tp / t.length, ppv: tp / (tp + fp), maxErrorS }
}

/** True heart rate at time t: 60 / mean of the last `k` true RR intervals ending at or before t. */
function trueRate(truth: number[], t: number, k = 8): number {
  const upTo = truth.filter((x) => x <= t + TOLERANCE_S)
  const last = upTo.slice(-(k + 1))
  return (60 * (last.length - 1)) / ((last[last.length - 1] as number) - (last[0] as number))
}

function detect(s: Synth, det = new PanTompkins()): { det: PanTompkins; rates: Array<{ t: number; hr: number }> } {
  const rates: Array<{ t: number; hr: number }> = []
  det.onBeat = (t) => rates.push({ t, hr: det.heartRate() })
  feedChunked(det, s)
  return { det, rates }
}

function expectGood(s: Synth, det: PanTompkins, rates: Array<{ t: number; hr: number }>, seconds: number): Score {
  // The last second is not judged: a beat is confirmed about 0.3 s after it occurred.
  const sc = score(s.truth, det.beatTimes(), 0.3, seconds - 1)
  expect(sc.sensitivity).toBeGreaterThanOrEqual(0.98)
  expect(sc.ppv).toBeGreaterThanOrEqual(0.98)
  expect(sc.maxErrorS).toBeLessThanOrEqual(TOLERANCE_S)
  // Heart rate, once nine beats are in: within ±3 bpm of the truth over the same beats.
  const judged = rates.slice(9)
  expect(judged.length).toBeGreaterThan(10)
  for (const { t, hr } of judged) expect(Math.abs(hr - trueRate(s.truth, t))).toBeLessThanOrEqual(3)
  return sc
}

describe('Pan–Tompkins on ECGSYN with known beats', () => {
  for (const rate of [150, 500]) {
    it(`finds the R peaks at ${rate} Hz within ±50 ms, Se and +P ≥ 0.98, HR within ±3 bpm`, () => {
      const seconds = 120
      const s = synth(seconds, [rate], { seed: 11 })
      const { det, rates } = detect(s)
      const sc = expectGood(s, det, rates, seconds)
      expect(sc.tp).toBeGreaterThan(110)
      // located on the raw signal: far inside the ±50 ms budget
      expect(sc.maxErrorS).toBeLessThan(0.015)
    })
  }

  it('with measurement noise (0.05 mV) and baseline wander at 500 Hz', () => {
    const seconds = 90
    const s = synth(seconds, [500], { seed: 3, noiseMv: 0.05, baselineWander: 0.01 })
    const { det, rates } = detect(s)
    expectGood(s, det, rates, seconds)
  })

  it('with heavy noise (0.15 mV) at 500 Hz', () => {
    const seconds = 60
    const s = synth(seconds, [500], { seed: 5, noiseMv: 0.15 })
    const { det, rates } = detect(s)
    expectGood(s, det, rates, seconds)
  })

  it('at 150 bpm (tachycardia) and 150 Hz with noise', () => {
    const seconds = 60
    const s = synth(seconds, [150], { seed: 5, heartRateBpm: 150, noiseMv: 0.05 })
    const { det, rates } = detect(s)
    expectGood(s, det, rates, seconds)
  })

  it('on an inverted lead (negative QRS)', () => {
    const seconds = 60
    const s = synth(seconds, [250], { seed: 14 })
    s.values = s.values.map((v) => -v)
    const { det, rates } = detect(s)
    expectGood(s, det, rates, seconds)
  })

  it('at 100 bpm and 150 Hz', () => {
    const seconds = 60
    const s = synth(seconds, [150], { seed: 5, heartRateBpm: 100 })
    const { det, rates } = detect(s)
    expectGood(s, det, rates, seconds)
    expect(det.heartRate()).toBeGreaterThan(95)
    expect(det.heartRate()).toBeLessThan(105)
  })

  it('at 40 bpm (long RR: the search-back must not invent beats)', () => {
    const seconds = 90
    const s = synth(seconds, [250], { seed: 8, heartRateBpm: 40 })
    const { det, rates } = detect(s)
    expectGood(s, det, rates, seconds)
  })

  it('follows the sampling rate changing on the fly (150 → 145 → 500 → 150 Hz, as the adaptive control does)', () => {
    const seconds = 120
    const s = synth(seconds, [150, 145, 500, 150], { seed: 21 })
    const { det, rates } = detect(s)
    expectGood(s, det, rates, seconds)
  })

  it('gives the same beats whatever the chunking', () => {
    const s = synth(40, [500], { seed: 2 })
    const whole = new PanTompkins()
    whole.push(s.times, s.values)
    const chunked = new PanTompkins()
    feedChunked(chunked, s, 99)
    const single = new PanTompkins()
    for (let i = 0; i < s.times.length; i++) single.pushSample(s.times[i] as number, s.values[i] as number)
    expect(chunked.beatTimes()).toEqual(whole.beatTimes())
    expect(single.beatTimes()).toEqual(whole.beatTimes())
    expect(whole.beatTimes().length).toBeGreaterThan(35)
  })

  it('works on absolute (epoch) time stamps', () => {
    const s = synth(40, [150], { seed: 4 })
    const epoch = 1_760_000_000
    const shifted: Synth = { times: s.times.map((t) => t + epoch), values: s.values, truth: s.truth.map((t) => t + epoch) }
    const det = new PanTompkins()
    feedChunked(det, shifted)
    const sc = score(shifted.truth, det.beatTimes(), epoch + 0.3, epoch + 39)
    expect(sc.sensitivity).toBeGreaterThanOrEqual(0.98)
    expect(sc.ppv).toBeGreaterThanOrEqual(0.98)
  })

  it('restarts after a gap in the input and keeps RR intervals across it out of the heart rate', () => {
    const s = synth(60, [250], { seed: 6 })
    const det = new PanTompkins()
    // drop 20 … 23 s (lost link)
    const keep = (t: number): boolean => t < 20 || t >= 23
    const rates: Array<{ t: number; hr: number }> = []
    det.onBeat = (t) => rates.push({ t, hr: det.heartRate() })
    for (let i = 0; i < s.times.length; i++) {
      const t = s.times[i] as number
      if (keep(t)) det.pushSample(t, s.values[i] as number)
    }
    const before = score(s.truth, det.beatTimes(), 0.3, 19.5)
    const after = score(s.truth, det.beatTimes(), 23.3, 59)
    expect(before.sensitivity).toBeGreaterThanOrEqual(0.95)
    expect(after.sensitivity).toBeGreaterThanOrEqual(0.95)
    expect(before.ppv + after.ppv).toBeGreaterThanOrEqual(1.9)
    // the first beat after the gap has no rate of its own yet
    const firstAfter = rates.find((r) => r.t > 23)
    expect(firstAfter).toBeDefined()
    expect(Number.isNaN(firstAfter?.hr)).toBe(true)
    for (const { hr } of rates) if (Number.isFinite(hr)) expect(Math.abs(hr - 60)).toBeLessThan(8)
  })

  it('reports no heart rate when the beats stop (flat line), and none before two beats', () => {
    const det = new PanTompkins()
    expect(Number.isNaN(det.heartRate())).toBe(true)
    const s = synth(20, [250], { seed: 9 })
    det.push(s.times, s.values)
    expect(det.heartRate()).toBeGreaterThan(55)
    // 5 s of flat signal after the last sample: no beat, so no rate
    const t0 = (s.times[s.times.length - 1] as number) + 1 / 250
    const last = s.values[s.values.length - 1] as number
    for (let i = 0; i < 5 * 250; i++) det.pushSample(t0 + i / 250, last)
    expect(Number.isNaN(det.heartRate())).toBe(true)
  })

  it('ignores non-finite input and repeated time stamps', () => {
    const s = synth(30, [250], { seed: 12 })
    const det = new PanTompkins()
    for (let i = 0; i < s.times.length; i++) {
      const t = s.times[i] as number
      const v = s.values[i] as number
      det.pushSample(t, v)
      if (i % 7 === 0) det.pushSample(t, v + 5) // a duplicate time stamp is skipped
      if (i % 11 === 0) det.pushSample(NaN, v)
      if (i % 13 === 0) det.pushSample(t + 0.001, NaN)
    }
    const sc = score(s.truth, det.beatTimes(), 0.3, 29)
    expect(sc.sensitivity).toBeGreaterThanOrEqual(0.98)
    expect(sc.ppv).toBeGreaterThanOrEqual(0.98)
  })
})
