/**
 * Streaming R-peak detector after Pan & Tompkins (IEEE TBME 32(3), 1985; REFERENCE.md §4): band-pass 5–15 Hz,
 * five-point derivative, squaring, 150 ms moving-window integration, then adaptive signal/noise thresholds on both
 * the integrated and the band-passed signal, a 200 ms refractory period, T-wave discrimination and search-back
 * for missed beats. Heart rate is the mean of the last several RR intervals.
 *
 * Input is timestamped (the ECG twin's samples carry times, and the adaptive control changes the sampling rate on
 * the fly), so the detector first resamples by linear interpolation onto its own fixed grid (200 Hz, the paper's
 * rate) and runs every stage there: the filters never need redesigning when the rate changes, and 150 Hz and
 * 500 Hz inputs are treated alike. Chunks can be of any size; the result does not depend on how the stream is cut.
 * A gap in the input longer than `maxGapS` (or time running backwards) restarts the detector.
 *
 * Each R peak is located on the (resampled) raw signal near the band-pass peak, refined by a parabola through the
 * three samples around the extremum; beats are reported about 0.3 s after they occur (the integrator's delay
 * plus the look-ahead used to confirm a peak).
 */
export interface PanTompkinsOptions {
  /** Internal rate (Hz). Default 200. */
  fs?: number
  /** Learning period (s) used to seed the thresholds. Default 2. */
  learnS?: number
  /** Number of RR intervals averaged for the heart rate. Default 8. */
  rrAverageCount?: number
  /** Input gap (s) that restarts the detector. Default 0.5. */
  maxGapS?: number
  /** Beats remembered (ring). Default 512. */
  beatCapacity?: number
}

const HISTORY = 1024 // internal samples kept (5.1 s at 200 Hz): learning period + look-ahead fit
const MAX_CANDIDATES = 64

/** Biquad coefficients (normalised, a0 = 1), RBJ cookbook, Butterworth Q. */
function biquad(kind: 'low' | 'high', f0: number, fs: number): Float64Array {
  const w0 = (2 * Math.PI * f0) / fs
  const cos = Math.cos(w0)
  const alpha = Math.sin(w0) / (2 * Math.SQRT1_2)
  const a0 = 1 + alpha
  const b =
    kind === 'low' ? [(1 - cos) / 2, 1 - cos, (1 - cos) / 2] : [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2]
  return new Float64Array([
    (b[0] as number) / a0,
    (b[1] as number) / a0,
    (b[2] as number) / a0,
    (-2 * cos) / a0,
    (1 - alpha) / a0,
  ])
}

export class PanTompkins {
  readonly fs: number
  private readonly dt: number
  private readonly learnN: number
  private readonly lookN: number // look-ahead / refractory: 200 ms
  private readonly winN: number // integration window: 150 ms
  private readonly rrCount: number
  private readonly maxGapS: number
  private readonly hp: Float64Array
  private readonly lp: Float64Array

  // resampler
  private tBase = NaN
  private n = 0 // index of the next internal sample
  private lastInT = NaN
  private lastInX = 0
  private x0 = 0

  // filter states (direct form II transposed) and derivative / integrator memory
  private hp1 = 0
  private hp2 = 0
  private lp1 = 0
  private lp2 = 0
  private readonly bpTail = new Float64Array(4) // bp[n−1..n−4]
  private readonly sq = new Float64Array(64)
  private sqSum = 0

  // histories indexed by internal sample number mod HISTORY
  private readonly raw = new Float32Array(HISTORY)
  private readonly bp = new Float32Array(HISTORY)
  private readonly der = new Float32Array(HISTORY)
  private readonly mwi = new Float32Array(HISTORY)

  // learning
  private learnMaxI = 0
  private learnSumI = 0
  private learnMaxF = 0
  private learnSumF = 0
  private learned = false
  private readonly pending = new Int32Array(MAX_CANDIDATES)
  private pendingCount = 0

  // thresholds
  private spki = 0
  private npki = 0
  private spkf = 0
  private npkf = 0

  // QRS history
  private lastQrs = -1 // internal index of the last QRS (MWI peak), −1 if none since reset
  private lastSlope = 0
  private readonly rr1 = new Float64Array(8)
  private rr1Count = 0
  private readonly rr2 = new Float64Array(8)
  private rr2Count = 0
  private rrMisses = 0
  // noise peaks since the last QRS, for search-back
  private readonly candIdx = new Int32Array(MAX_CANDIDATES)
  private readonly candI = new Float64Array(MAX_CANDIDATES)
  private readonly candF = new Float64Array(MAX_CANDIDATES)
  private readonly candSlope = new Float64Array(MAX_CANDIDATES)
  private candCount = 0

  // output
  private readonly beats: Float64Array
  private beatCount = 0
  private beatsSinceReset = 0
  private lastInputT = NaN

  /** Called with each detected R-peak time (s, input time base). */
  onBeat: ((t: number) => void) | undefined

  constructor(options: PanTompkinsOptions = {}) {
    this.fs = options.fs ?? 200
    this.dt = 1 / this.fs
    this.learnN = Math.round((options.learnS ?? 2) * this.fs)
    this.lookN = Math.round(0.2 * this.fs)
    this.winN = Math.round(0.15 * this.fs)
    this.rrCount = options.rrAverageCount ?? 8
    this.maxGapS = options.maxGapS ?? 0.5
    this.beats = new Float64Array(options.beatCapacity ?? 512)
    this.hp = biquad('high', 5, this.fs)
    this.lp = biquad('low', 15, this.fs)
    if (this.winN > this.sq.length) throw new RangeError('PanTompkins: fs too high for the integration window')
    if (this.learnN + 2 * this.lookN + this.winN >= HISTORY) throw new RangeError('PanTompkins: learning period too long')
  }

  /** Feed samples (times in s, values in mV), any chunk size. */
  push(times: ArrayLike<number>, values: ArrayLike<number>): void {
    const k = Math.min(times.length, values.length)
    for (let i = 0; i < k; i++) this.pushSample(times[i] as number, values[i] as number)
  }

  pushSample(t: number, x: number): void {
    if (!Number.isFinite(t) || !Number.isFinite(x)) return
    if (this.tBase !== this.tBase) {
      this.start(t, x)
      return
    }
    if (t <= this.lastInT) {
      // a repeated sample is skipped; time running backwards means a new time base
      if (this.lastInT - t > this.maxGapS) this.start(t, x)
      return
    }
    if (t - this.lastInT > this.maxGapS) {
      this.start(t, x)
      return
    }
    const t0 = this.lastInT
    const x0 = this.lastInX
    const span = t - t0
    for (;;) {
      const tk = this.tBase + this.n * this.dt
      if (tk > t) break
      this.process(x0 + ((x - x0) * (tk - t0)) / span)
    }
    this.lastInT = t
    this.lastInX = x
    this.lastInputT = t
  }

  /** Forget everything (thresholds, RR history, beats' rate); detected beats stay readable. */
  reset(): void {
    this.tBase = NaN
    this.lastInT = NaN
    this.lastInputT = NaN
    this.beatsSinceReset = 0
  }

  private start(t: number, x: number): void {
    this.tBase = t
    this.n = 0
    this.x0 = x
    this.lastInT = t
    this.lastInX = x
    this.lastInputT = t
    this.hp1 = this.hp2 = this.lp1 = this.lp2 = 0
    this.bpTail.fill(0)
    this.sq.fill(0)
    this.sqSum = 0
    this.learnMaxI = this.learnSumI = this.learnMaxF = this.learnSumF = 0
    this.learned = false
    this.pendingCount = 0
    this.spki = this.npki = this.spkf = this.npkf = 0
    this.lastQrs = -1
    this.lastSlope = 0
    this.rr1Count = this.rr2Count = this.rrMisses = 0
    this.candCount = 0
    this.beatsSinceReset = 0
    this.process(x)
  }

  /** One internal sample. */
  private process(xIn: number): void {
    const n = this.n++
    const h = n % HISTORY
    const x = xIn - this.x0 // remove the DC offset so the high-pass starts without a step

    // band-pass: 2nd-order Butterworth high-pass 5 Hz, then low-pass 15 Hz
    const hp = this.hp
    const y1 = (hp[0] as number) * x + this.hp1
    this.hp1 = (hp[1] as number) * x - (hp[3] as number) * y1 + this.hp2
    this.hp2 = (hp[2] as number) * x - (hp[4] as number) * y1
    const lp = this.lp
    const b = (lp[0] as number) * y1 + this.lp1
    this.lp1 = (lp[1] as number) * y1 - (lp[3] as number) * b + this.lp2
    this.lp2 = (lp[2] as number) * y1 - (lp[4] as number) * b

    // derivative (causal five-point, delay 2): (2x[n] + x[n−1] − x[n−3] − 2x[n−4]) / 8, in per-second units
    const tail = this.bpTail
    const d = ((2 * b + (tail[0] as number) - (tail[2] as number) - 2 * (tail[3] as number)) * this.fs) / 8
    tail[3] = tail[2] as number
    tail[2] = tail[1] as number
    tail[1] = tail[0] as number
    tail[0] = b

    // squaring and moving-window integration over winN samples
    const s = d * d
    const w = n % this.winN
    this.sqSum += s - (this.sq[w] as number)
    this.sq[w] = s
    if (this.sqSum < 0) this.sqSum = 0
    const m = this.sqSum / this.winN

    this.raw[h] = x
    this.bp[h] = b
    this.der[h] = d
    this.mwi[h] = m

    if (!this.learned) {
      // skip the filters' first 150 ms when seeding
      if (n >= this.winN) {
        if (m > this.learnMaxI) this.learnMaxI = m
        this.learnSumI += m
        const ab = Math.abs(b)
        if (ab > this.learnMaxF) this.learnMaxF = ab
        this.learnSumF += ab
      }
    }

    // a candidate is confirmed lookN samples later: it must be the maximum of the integrated signal ±lookN
    const c = n - this.lookN
    if (c >= this.lookN) this.examine(c)

    if (!this.learned && n >= this.learnN + this.lookN) this.finishLearning()
    if (this.learned) this.searchBack(n)
  }

  private examine(c: number): void {
    const mw = this.mwi
    const mc = mw[c % HISTORY] as number
    if (mc <= 0) return
    if (!(mc >= (mw[(c - 1) % HISTORY] as number) && mc > (mw[(c + 1) % HISTORY] as number))) return
    for (let j = c - this.lookN; j < c; j++) if ((mw[j % HISTORY] as number) > mc) return
    for (let j = c + 1; j <= c + this.lookN; j++) if ((mw[j % HISTORY] as number) >= mc) return
    if (!this.learned) {
      if (this.pendingCount < MAX_CANDIDATES) this.pending[this.pendingCount++] = c
      return
    }
    this.classify(c)
  }

  private finishLearning(): void {
    const count = Math.max(1, this.n - this.winN)
    this.spki = this.learnMaxI / 3
    this.npki = this.learnSumI / count / 2
    this.spkf = this.learnMaxF / 3
    this.npkf = this.learnSumF / count / 2
    this.learned = true
    for (let i = 0; i < this.pendingCount; i++) this.classify(this.pending[i] as number)
    this.pendingCount = 0
  }

  /** Band-pass peak (|value|, index) and the steepest slope in the integration window ending at c. */
  private windowPeaks(c: number, out: Float64Array): void {
    let pkF = 0
    let idxF = c
    let slope = 0
    for (let j = Math.max(0, c - this.winN - 4); j <= c; j++) {
      const k = j % HISTORY
      const ab = Math.abs(this.bp[k] as number)
      if (ab > pkF) {
        pkF = ab
        idxF = j
      }
      const sd = Math.abs(this.der[k] as number)
      if (sd > slope) slope = sd
    }
    out[0] = pkF
    out[1] = idxF
    out[2] = slope
  }

  private readonly scratch = new Float64Array(3)

  private classify(c: number): void {
    const pkI = this.mwi[c % HISTORY] as number
    this.windowPeaks(c, this.scratch)
    const pkF = this.scratch[0] as number
    const idxF = this.scratch[1] as number
    const slope = this.scratch[2] as number
    if (this.lastQrs >= 0 && c - this.lastQrs < this.lookN) return // refractory
    const thrI1 = this.npki + 0.25 * (this.spki - this.npki)
    const thrF1 = this.npkf + 0.25 * (this.spkf - this.npkf)
    if (pkI >= thrI1 && pkF >= thrF1) {
      // within 360 ms of the last QRS, a peak with less than half its slope is a T wave
      if (this.lastQrs >= 0 && c - this.lastQrs < 0.36 * this.fs && slope < 0.5 * this.lastSlope) {
        this.noisePeak(c, pkI, pkF, slope)
        return
      }
      this.spki = 0.125 * pkI + 0.875 * this.spki
      this.spkf = 0.125 * pkF + 0.875 * this.spkf
      this.acceptQrs(c, idxF, slope)
    } else {
      this.noisePeak(c, pkI, pkF, slope)
    }
  }

  private noisePeak(c: number, pkI: number, pkF: number, slope: number): void {
    this.npki = 0.125 * pkI + 0.875 * this.npki
    this.npkf = 0.125 * pkF + 0.875 * this.npkf
    if (this.candCount < MAX_CANDIDATES) {
      const k = this.candCount++
      this.candIdx[k] = c
      this.candI[k] = pkI
      this.candF[k] = pkF
      this.candSlope[k] = slope
    }
  }

  /** PT search-back: no QRS for 166 % of the regular RR average → take the largest noise peak above the lower threshold. */
  private searchBack(n: number): void {
    if (this.lastQrs < 0 || this.rr2Count === 0 || this.candCount === 0) return
    const rrAvg2 = mean(this.rr2, this.rr2Count)
    if (n - this.lookN - this.lastQrs <= 1.66 * rrAvg2) return
    const thrI2 = 0.5 * (this.npki + 0.25 * (this.spki - this.npki))
    const thrF2 = 0.5 * (this.npkf + 0.25 * (this.spkf - this.npkf))
    let best = -1
    for (let k = 0; k < this.candCount; k++) {
      const c = this.candIdx[k] as number
      if (c - this.lastQrs < this.lookN) continue
      // a T wave found on search-back is still a T wave
      if (c - this.lastQrs < 0.36 * this.fs && (this.candSlope[k] as number) < 0.5 * this.lastSlope) continue
      if ((this.candI[k] as number) >= thrI2 && (this.candF[k] as number) >= thrF2) {
        if (best < 0 || (this.candI[k] as number) > (this.candI[best] as number)) best = k
      }
    }
    if (best < 0) {
      this.candCount = 0
      return
    }
    const c = this.candIdx[best] as number
    const pkI = this.candI[best] as number
    const pkF = this.candF[best] as number
    this.spki = 0.25 * pkI + 0.75 * this.spki
    this.spkf = 0.25 * pkF + 0.75 * this.spkf
    this.windowPeaks(c, this.scratch)
    // keep the noise peaks after the recovered beat: one of them may be the next beat
    const later = this.candCount
    this.acceptQrs(c, this.scratch[1] as number, this.candSlope[best] as number)
    let w = 0
    for (let k = 0; k < later; k++) {
      const ck = this.candIdx[k] as number
      if (ck <= c) continue
      this.candIdx[w] = ck
      this.candI[w] = this.candI[k] as number
      this.candF[w] = this.candF[k] as number
      this.candSlope[w] = this.candSlope[k] as number
      w++
    }
    this.candCount = w
  }

  private acceptQrs(c: number, idxF: number, slope: number): void {
    if (this.lastQrs >= 0) {
      const rr = c - this.lastQrs
      pushAvg(this.rr1, this.rr1Count++, rr)
      if (this.rr2Count === 0) {
        pushAvg(this.rr2, this.rr2Count++, rr)
      } else {
        const avg2 = mean(this.rr2, this.rr2Count)
        if (rr >= 0.92 * avg2 && rr <= 1.16 * avg2) {
          pushAvg(this.rr2, this.rr2Count++, rr)
          this.rrMisses = 0
        } else if (++this.rrMisses >= 8) {
          // the rhythm changed for good: start the regular average again from the recent RRs
          this.rr2.set(this.rr1)
          this.rr2Count = Math.min(this.rr1Count, 8)
          this.rrMisses = 0
        }
      }
    }
    this.lastQrs = c
    this.lastSlope = slope
    this.candCount = 0
    this.emitBeat(idxF)
  }

  /**
   * Locate the R peak on the raw signal near the band-pass peak and report it: the extremum (maximum or minimum,
   * whichever stands further from the window's ends, so a negative QRS works too) of the raw signal.
   */
  private emitBeat(idxF: number): void {
    const from = Math.max(idxF - Math.round(0.12 * this.fs), this.n - HISTORY + 1, 1)
    const to = Math.min(idxF + Math.round(0.04 * this.fs), this.n - 2)
    const raw = this.raw
    let hi = from
    let lo = from
    for (let j = from; j <= to; j++) {
      const v = raw[j % HISTORY] as number
      if (v > (raw[hi % HISTORY] as number)) hi = j
      if (v < (raw[lo % HISTORY] as number)) lo = j
    }
    const base = 0.5 * ((raw[from % HISTORY] as number) + (raw[to % HISTORY] as number))
    const up = (raw[hi % HISTORY] as number) - base >= base - (raw[lo % HISTORY] as number)
    const sign = up ? 1 : -1
    const best = up ? hi : lo
    const bestV = sign * (raw[best % HISTORY] as number)
    let frac = 0
    if (best > from && best < to) {
      const a = sign * (raw[(best - 1) % HISTORY] as number)
      const c = sign * (raw[(best + 1) % HISTORY] as number)
      const den = a - 2 * bestV + c
      if (den < 0) frac = Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / den))
    }
    const t = this.tBase + (best + frac) * this.dt
    this.beats[this.beatCount % this.beats.length] = t
    this.beatCount++
    this.beatsSinceReset++
    this.onBeat?.(t)
  }

  /** Number of beats detected so far (all time). */
  get beatTotal(): number {
    return this.beatCount
  }

  /** Detected R-peak times (s), oldest first (at most beatCapacity). */
  beatTimes(): number[] {
    const cap = this.beats.length
    const k = Math.min(this.beatCount, cap)
    const out: number[] = []
    for (let i = this.beatCount - k; i < this.beatCount; i++) out.push(this.beats[i % cap] as number)
    return out
  }

  /** Time of the last detected beat, NaN if none. */
  get lastBeatTime(): number {
    return this.beatCount === 0 ? NaN : (this.beats[(this.beatCount - 1) % this.beats.length] as number)
  }

  /**
   * Heart rate (bpm): 60 / mean of the last rrAverageCount RR intervals since the last restart. NaN with fewer
   * than two beats, or when no beat came for max(3 s, 2 × the mean RR) of input (asystole or lost contact).
   */
  heartRate(): number {
    const k = Math.min(this.beatsSinceReset, this.rrCount + 1, this.beats.length)
    if (k < 2) return NaN
    const cap = this.beats.length
    const last = this.beats[(this.beatCount - 1) % cap] as number
    const firstT = this.beats[(this.beatCount - k) % cap] as number
    const meanRr = (last - firstT) / (k - 1)
    if (!(meanRr > 0)) return NaN
    if (this.lastInputT - last > Math.max(3, 2 * meanRr)) return NaN
    return 60 / meanRr
  }
}

function pushAvg(ring: Float64Array, count: number, v: number): void {
  ring[count % ring.length] = v
}

function mean(ring: Float64Array, count: number): number {
  const k = Math.min(count, ring.length)
  let s = 0
  for (let i = 0; i < k; i++) s += ring[i] as number
  return s / k
}
