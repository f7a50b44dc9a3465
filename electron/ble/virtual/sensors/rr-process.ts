import { Prng } from '../prng.ts'

/**
 * Beat-to-beat RR intervals with heart-rate variability, after ECGSYN's RR process (McSharry et al. 2003):
 * a bimodal spectrum — Mayer waves (LF, 0.1 Hz) and respiratory sinus arrhythmia (HF, 0.25 Hz), each a Gaussian
 * of width 0.01 Hz, power ratio LF/HF — scaled to the requested standard deviation.
 *
 * The spectrum is realised as a sum of cosines whose frequencies are drawn from those Gaussians (equal
 * amplitudes, random phases): its expected power spectrum is the bimodal one, it never repeats, and it costs a few
 * dozen cosines per beat. Beats are computed in blocks into a typed array.
 */
export interface RrProcessOptions {
  seed?: number
  /** Mean heart rate, bpm (ECGSYN: 60). */
  heartRateBpm?: number
  /** Standard deviation of the heart rate, bpm (ECGSYN: 1). */
  heartRateStdBpm?: number
  /** LF/HF power ratio (ECGSYN: 0.5). */
  lfHfRatio?: number
  lfHz?: number
  hfHz?: number
  lfStdHz?: number
  hfStdHz?: number
  /** Cosines per band. */
  componentsPerBand?: number
}

const BLOCK = 256

export class RrProcess {
  readonly meanRrS: number
  readonly stdRrS: number
  private readonly freqs: Float64Array
  private readonly amps: Float64Array
  private readonly phases: Float64Array
  private readonly block = new Float64Array(BLOCK)
  private blockIndex = BLOCK
  /** Time (s) at which the next beat of the block starts. */
  private beatTime = 0

  constructor(options: RrProcessOptions = {}) {
    const rng = new Prng(options.seed ?? 1)
    const hr = options.heartRateBpm ?? 60
    const hrStd = options.heartRateStdBpm ?? 1
    const ratio = options.lfHfRatio ?? 0.5
    const n = options.componentsPerBand ?? 32
    this.meanRrS = 60 / hr
    // ECGSYN: rrstd = 60 · hrstd / hrmean².
    this.stdRrS = (60 * hrStd) / (hr * hr)
    const varLf = (this.stdRrS * this.stdRrS * ratio) / (1 + ratio)
    const varHf = (this.stdRrS * this.stdRrS) / (1 + ratio)
    this.freqs = new Float64Array(2 * n)
    this.amps = new Float64Array(2 * n)
    this.phases = new Float64Array(2 * n)
    const bands: Array<[number, number, number]> = [
      [options.lfHz ?? 0.1, options.lfStdHz ?? 0.01, varLf],
      [options.hfHz ?? 0.25, options.hfStdHz ?? 0.01, varHf],
    ]
    let k = 0
    for (const [f, sd, variance] of bands) {
      // n cosines of amplitude A have variance n·A²/2.
      const a = Math.sqrt((2 * variance) / n)
      for (let i = 0; i < n; i++, k++) {
        this.freqs[k] = Math.abs(f + sd * rng.gaussian())
        this.amps[k] = a
        this.phases[k] = rng.uniform(0, 2 * Math.PI)
      }
    }
  }

  /** RR (s) of a beat starting at time t: the mean plus the variability signal at t, kept physiological. */
  rrAt(t: number): number {
    let v = this.meanRrS
    const f = this.freqs
    const a = this.amps
    const p = this.phases
    for (let k = 0; k < f.length; k++) v += (a[k] as number) * Math.cos(2 * Math.PI * (f[k] as number) * t + (p[k] as number))
    return Math.min(2, Math.max(0.3, v))
  }

  /** The next beat's RR interval (s); beats follow each other in time. */
  nextRr(): number {
    if (this.blockIndex >= BLOCK) {
      for (let i = 0; i < BLOCK; i++) {
        const rr = this.rrAt(this.beatTime)
        this.block[i] = rr
        this.beatTime += rr
      }
      this.blockIndex = 0
    }
    return this.block[this.blockIndex++] as number
  }
}
