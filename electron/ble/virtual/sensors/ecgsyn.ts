import { Prng } from '../prng.ts'
import { RrProcess } from './rr-process.ts'
import type { RrProcessOptions } from './rr-process.ts'

/**
 * ECGSYN (McSharry, Clifford, Tarassenko, Smith; IEEE TBME 50(3), 2003; REFERENCE.md §4): a trajectory on a
 * limit cycle in (x, y) with angular velocity ω = 2π/RR, and z pushed by five Gaussian events P, Q, R, S, T at
 * fixed angles:
 *   ẋ = αx − ωy,  ẏ = αy + ωx,  ż = −Σ aᵢ Δθᵢ exp(−Δθᵢ² / 2bᵢ²) − (z − z₀(t)),  α = 1 − √(x² + y²)
 * z₀ is the baseline wander (respiration, 0.25 Hz). RR changes once per beat (when θ passes ±π) following the RR
 * process (heart-rate variability, LF/HF). The ODE is integrated with RK4 at a fixed internal rate and resampled by
 * linear interpolation to whatever output rate the caller asks for, sample by sample, so the rate can change at
 * any time. The output is scaled to about −0.4 … 1.2 mV from a calibration run of the same seed.
 */
export interface EcgSynOptions extends RrProcessOptions {
  seed?: number
  /**
   * Baseline wander amplitude in the ODE's z units: ECGSYN's code uses 0.005, which is the paper's A = 0.15 mV after
   * scaling (the R wave rises by a·b²/ω ≈ 0.05 z units). Frequency: respirationHz.
   */
  baselineWander?: number
  respirationHz?: number
  /** Gaussian measurement noise, mV (standard deviation). Default 0. */
  noiseMv?: number
  /** Internal integration rate (Hz). Default 1000. */
  internalRateHz?: number
  /** Output range the signal is scaled to, mV. */
  minMv?: number
  maxMv?: number
}

/** P, Q, R, S, T. */
const THETA_DEG = [-70, -15, 0, 15, 100]
const AMPLITUDES = [1.2, -5, 30, -7.5, 0.75]
const WIDTHS = [0.25, 0.1, 0.1, 0.1, 0.4]
/** |θ| below which the R wave's maximum is searched (R width b = 0.1 rad; Q and S are minima). */
const R_WINDOW = 0.35
const CALIBRATION_S = 12
const R_PEAK_CAPACITY = 4096
const TWO_PI = 2 * Math.PI

/** The integrator: state, RR process, event parameters. */
class Trajectory {
  // Start at θ = π, between T and P, so the first beat is whole (ECGSYN starts at θ = 0, inside the R wave).
  x = -1
  y = 0
  z = 0
  t = 0
  omega: number
  private readonly h: number
  private readonly ti = new Float64Array(5)
  private readonly ai = new Float64Array(AMPLITUDES)
  private readonly bi = new Float64Array(5)
  private readonly rr: RrProcess
  private readonly wanderA: number
  private readonly wanderW: number
  private lastTheta = Math.PI
  // R-peak search
  private inR = false
  private rMaxZ = -Infinity
  private rMaxT = 0
  onRPeak: ((t: number) => void) | undefined

  constructor(o: EcgSynOptions) {
    const hr = o.heartRateBpm ?? 60
    // ECGSYN adapts the event angles and widths to the mean heart rate.
    const hrFact = Math.sqrt(hr / 60)
    const hrFact2 = Math.sqrt(hrFact)
    const angleScale = [hrFact2, hrFact, 1, hrFact, hrFact2]
    for (let i = 0; i < 5; i++) {
      this.ti[i] = ((THETA_DEG[i] as number) * Math.PI / 180) * (angleScale[i] as number)
      this.bi[i] = (WIDTHS[i] as number) * hrFact
    }
    this.rr = new RrProcess({ ...o, seed: o.seed ?? 1 })
    this.omega = TWO_PI / this.rr.nextRr()
    this.h = 1 / (o.internalRateHz ?? 1000)
    this.wanderA = o.baselineWander ?? 0.005
    this.wanderW = TWO_PI * (o.respirationHz ?? 0.25)
  }

  private dz(x: number, y: number, z: number, t: number): number {
    const theta = Math.atan2(y, x)
    let s = 0
    for (let i = 0; i < 5; i++) {
      let d = theta - (this.ti[i] as number)
      // Wrap to [−π, π]: the distance along the cycle.
      if (d > Math.PI) d -= TWO_PI
      else if (d < -Math.PI) d += TWO_PI
      const b = this.bi[i] as number
      s += (this.ai[i] as number) * d * Math.exp((-0.5 * d * d) / (b * b))
    }
    return -s - (z - this.wanderA * Math.sin(this.wanderW * t))
  }

  /** One RK4 step of length h. */
  step(): void {
    const h = this.h
    const w = this.omega
    const { x, y, z, t } = this
    const a1 = 1 - Math.sqrt(x * x + y * y)
    const k1x = a1 * x - w * y
    const k1y = a1 * y + w * x
    const k1z = this.dz(x, y, z, t)
    let xs = x + 0.5 * h * k1x
    let ys = y + 0.5 * h * k1y
    let zs = z + 0.5 * h * k1z
    const a2 = 1 - Math.sqrt(xs * xs + ys * ys)
    const k2x = a2 * xs - w * ys
    const k2y = a2 * ys + w * xs
    const k2z = this.dz(xs, ys, zs, t + 0.5 * h)
    xs = x + 0.5 * h * k2x
    ys = y + 0.5 * h * k2y
    zs = z + 0.5 * h * k2z
    const a3 = 1 - Math.sqrt(xs * xs + ys * ys)
    const k3x = a3 * xs - w * ys
    const k3y = a3 * ys + w * xs
    const k3z = this.dz(xs, ys, zs, t + 0.5 * h)
    xs = x + h * k3x
    ys = y + h * k3y
    zs = z + h * k3z
    const a4 = 1 - Math.sqrt(xs * xs + ys * ys)
    const k4x = a4 * xs - w * ys
    const k4y = a4 * ys + w * xs
    const k4z = this.dz(xs, ys, zs, t + h)
    this.x = x + (h / 6) * (k1x + 2 * k2x + 2 * k3x + k4x)
    this.y = y + (h / 6) * (k1y + 2 * k2y + 2 * k3y + k4y)
    this.z = z + (h / 6) * (k1z + 2 * k2z + 2 * k3z + k4z)
    this.t = t + h
    const theta = Math.atan2(this.y, this.x)
    // A new beat starts when θ passes ±π (between T and P): take its RR.
    if (this.lastTheta > 2 && theta < -2) this.omega = TWO_PI / this.rr.nextRr()
    this.lastTheta = theta
    if (theta > -R_WINDOW && theta < R_WINDOW) {
      if (!this.inR) {
        this.inR = true
        this.rMaxZ = -Infinity
      }
      if (this.z > this.rMaxZ) {
        this.rMaxZ = this.z
        this.rMaxT = this.t
      }
    } else if (this.inR) {
      this.inR = false
      this.onRPeak?.(this.rMaxT)
    }
  }
}

export class EcgSyn {
  /** Mean RR (s) of the RR process. */
  readonly meanRrS: number
  private readonly traj: Trajectory
  private readonly noise: Prng
  private readonly noiseMv: number
  private readonly scale: number
  private readonly offset: number
  private prevT = 0
  private prevZ: number
  private outT = 0
  private started = false
  private readonly peaks = new RecentTimes(R_PEAK_CAPACITY)

  constructor(options: EcgSynOptions = {}) {
    const o = { ...options, seed: options.seed ?? 1 }
    this.traj = new Trajectory(o)
    this.meanRrS = 60 / (o.heartRateBpm ?? 60)
    this.noise = new Prng((o.seed ^ 0x5eed) >>> 0)
    this.noiseMv = o.noiseMv ?? 0
    // Calibrate the scale on an identical trajectory (same seed, so the same signal) over the first seconds.
    const cal = new Trajectory(o)
    const steps = Math.round(CALIBRATION_S * (o.internalRateHz ?? 1000))
    let lo = Infinity
    let hi = -Infinity
    for (let i = 0; i < steps; i++) {
      cal.step()
      if (cal.z < lo) lo = cal.z
      if (cal.z > hi) hi = cal.z
    }
    const minMv = o.minMv ?? -0.4
    const maxMv = o.maxMv ?? 1.2
    this.scale = (maxMv - minMv) / (hi - lo)
    this.offset = minMv - lo * this.scale
    this.prevZ = this.traj.z
    this.traj.onRPeak = (t) => {
      this.peaks.push(t)
      this.onRPeak?.(t)
    }
  }

  /** Called with the time (s, output time base) of each R peak as the integration passes it. */
  onRPeak: ((t: number) => void) | undefined

  /** Time (s) of the last sample returned. */
  get time(): number {
    return this.outT
  }

  /** The next sample (mV), 1/rateHz after the previous one (the first one is at t = 0). */
  next(rateHz: number): number {
    if (this.started) this.outT += 1 / rateHz
    else this.started = true
    const traj = this.traj
    while (traj.t < this.outT) {
      this.prevT = traj.t
      this.prevZ = traj.z
      traj.step()
    }
    const span = traj.t - this.prevT
    const z = span > 0 ? this.prevZ + ((traj.z - this.prevZ) * (this.outT - this.prevT)) / span : traj.z
    const mv = z * this.scale + this.offset
    return this.noiseMv > 0 ? mv + this.noiseMv * this.noise.gaussian() : mv
  }

  /** The next sample in the ECG payload's unit, µV/10 (int16). */
  nextUnits(rateHz: number): number {
    const u = Math.round(this.next(rateHz) * 100)
    return u > 32767 ? 32767 : u < -32768 ? -32768 : u
  }

  /** Fill `out` with consecutive samples (mV) at rateHz. */
  fill(out: Float32Array | Float64Array, rateHz: number): void {
    for (let i = 0; i < out.length; i++) out[i] = this.next(rateHz)
  }

  /** True R-peak times (s) seen so far, oldest first (the last 4096). */
  rPeakTimes(): number[] {
    return this.peaks.values()
  }

  /** Number of R peaks seen so far. */
  get rPeakCount(): number {
    return this.peaks.count
  }
}

/** The last `capacity` of a series of times, oldest first, and how many there were in all. */
export class RecentTimes {
  private readonly ring: Float64Array
  private total = 0

  constructor(capacity: number) {
    this.ring = new Float64Array(capacity)
  }

  get count(): number {
    return this.total
  }

  push(t: number): void {
    this.ring[this.total % this.ring.length] = t
    this.total++
  }

  values(): number[] {
    const n = Math.min(this.total, this.ring.length)
    const out: number[] = []
    for (let i = this.total - n; i < this.total; i++) out.push(this.ring[i % this.ring.length] as number)
    return out
  }
}
