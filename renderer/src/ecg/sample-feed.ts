import { PanTompkins } from './pan-tompkins.ts'
import { SampleRing } from './ring-buffer.ts'

/**
 * Everything one ECG monitor shows, fed by the UI's event handler and read by the monitor once per frame:
 * - the ECG samples (ring buffer, mV) and the R-peak detector that runs on them as they arrive;
 * - trends for the panel under the trace: sampling rate, packet drop ratio, RSSI;
 * - the adaptive control's decisions (issue 7).
 *
 * Units: every time is in seconds. ECG sample times are whatever the twin sends (SenML times: seconds since the
 * epoch); only differences matter to the trace. Trend and control times are seconds since the epoch (a console
 * event's `time` is in ms: divide by 1000), because the trend panel runs on the wall clock. ECG values arrive as
 * the ECG twin sends them, in µV/10 (0.01 mV) units, and are stored in mV.
 *
 * Plain class, no Vue: the monitor keeps it outside deep reactivity and polls `revision` once per animation frame.
 */
export interface EcgFeedOptions {
  /** Seconds of ECG kept (the previous sweep at 6.25 mm/s needs the most). Default 50. */
  windowS?: number
  /** Highest sampling rate expected (Hz): with windowS, sizes the ring. Default 500. */
  maxRateHz?: number
  /** Trend points kept per series. Default 4096 (over an hour of 1 s RSSI readings). */
  trendCapacity?: number
  /** Control decisions kept. Default 512. */
  controlCapacity?: number
  /** ECG units per mV. Default 100 (the payload's µV/10). */
  unitsPerMv?: number
  /** Time running backwards by more than this (s) means a new time base (sensor restart): the trace restarts. */
  restartBackS?: number
}

export interface LinkQuality {
  /** Share of packets lost in the last window, 0 … 1. */
  dropRatio?: number
  /** Received signal strength, dBm. */
  rssi?: number
}

export interface ControlDecision {
  oldRate: number
  newRate: number
  dropRatio: number
}

/** Control decisions in typed arrays (they come every 5 s; kept like the other series for symmetry and bounds). */
export class ControlLog {
  readonly capacity: number
  private readonly times: Float64Array
  private readonly oldRates: Float32Array
  private readonly newRates: Float32Array
  private readonly dropRatios: Float32Array
  private count = 0

  constructor(capacity: number) {
    this.capacity = capacity
    this.times = new Float64Array(capacity)
    this.oldRates = new Float32Array(capacity)
    this.newRates = new Float32Array(capacity)
    this.dropRatios = new Float32Array(capacity)
  }

  push(time: number, d: ControlDecision): void {
    const i = this.count % this.capacity
    this.times[i] = time
    this.oldRates[i] = d.oldRate
    this.newRates[i] = d.newRate
    this.dropRatios[i] = d.dropRatio
    this.count++
  }

  get length(): number {
    return Math.min(this.count, this.capacity)
  }

  /** Decision i, 0 = oldest held. */
  at(i: number): ControlDecision & { time: number } {
    const p = (this.count - this.length + i) % this.capacity
    return {
      time: this.times[p] as number,
      oldRate: this.oldRates[p] as number,
      newRate: this.newRates[p] as number,
      dropRatio: this.dropRatios[p] as number,
    }
  }

  /** The newest decision, if any. */
  last(): (ControlDecision & { time: number }) | undefined {
    return this.length === 0 ? undefined : this.at(this.length - 1)
  }

  clear(): void {
    this.count = 0
  }
}

export class EcgFeed {
  /** ECG in mV. */
  readonly ecg: SampleRing
  /** Sampling rate (Hz), one point per change or report. */
  readonly rate: SampleRing
  readonly dropRatio: SampleRing
  readonly rssi: SampleRing
  readonly controls: ControlLog
  readonly detector: PanTompkins
  /** Bumped on every change; the monitor redraws only when it moved. */
  revision = 0
  /** Time of the first ECG sample since the last restart: sweeps and the scrolling paper are anchored to it. */
  origin = NaN
  /** Samples dropped as duplicates or out of order (diagnostics). */
  rejected = 0
  /** Samples taken into the trace since the feed was made (diagnostics; the chart bench's proof that data flowed). */
  accepted = 0

  private readonly unitsPerMv: number
  private readonly restartBackS: number

  constructor(options: EcgFeedOptions = {}) {
    const capacity = Math.ceil((options.windowS ?? 50) * (options.maxRateHz ?? 500))
    const trend = options.trendCapacity ?? 4096
    this.ecg = new SampleRing(capacity)
    this.rate = new SampleRing(trend)
    this.dropRatio = new SampleRing(trend)
    this.rssi = new SampleRing(trend)
    this.controls = new ControlLog(options.controlCapacity ?? 512)
    this.detector = new PanTompkins()
    this.unitsPerMv = options.unitsPerMv ?? 100
    this.restartBackS = options.restartBackS ?? 2
  }

  /** Samples of one notification: times (s) and values in µV/10, pairwise. */
  push(times: Float64Array | ArrayLike<number>, values: Float32Array | ArrayLike<number>): void {
    const k = Math.min(times.length, values.length)
    const scale = 1 / this.unitsPerMv
    for (let i = 0; i < k; i++) this.sampleMv(times[i] as number, (values[i] as number) * scale)
    if (k > 0) this.revision++
  }

  /** Samples already in mV (synthetic data, history). */
  pushMv(times: Float64Array | ArrayLike<number>, valuesMv: Float32Array | ArrayLike<number>): void {
    const k = Math.min(times.length, valuesMv.length)
    for (let i = 0; i < k; i++) this.sampleMv(times[i] as number, valuesMv[i] as number)
    if (k > 0) this.revision++
  }

  /** One sample in µV/10 (for callers walking records one by one); bump `revision` with `touch()` afterwards. */
  pushSample(t: number, units: number): void {
    this.sampleMv(t, units / this.unitsPerMv)
  }

  touch(): void {
    this.revision++
  }

  private sampleMv(t: number, mv: number): void {
    if (!Number.isFinite(t) || !Number.isFinite(mv)) {
      this.rejected++
      return
    }
    const last = this.ecg.lastTime
    if (t <= last) {
      // a repeated notification, or a new time base (the sensor restarted its clock)
      if (last - t > this.restartBackS) this.restart()
      else {
        this.rejected++
        return
      }
    }
    if (this.origin !== this.origin) this.origin = t
    this.ecg.push(t, mv)
    this.detector.pushSample(t, mv)
    this.accepted++
  }

  /** Start the trace again (new time base); trends and decisions stay. */
  restart(): void {
    this.ecg.clear()
    this.detector.reset()
    this.origin = NaN
    this.revision++
  }

  /**
   * The sampling rate (Hz) in force from `time` (s since the epoch). A step line only needs the changes: a repeat of
   * the current rate (every notification of the whole ECG instance carries it) adds nothing.
   */
  pushRate(time: number, hz: number): void {
    if (!Number.isFinite(time) || !Number.isFinite(hz)) return
    if (this.rate.lastValue === Math.fround(hz)) return
    pushTrend(this.rate, time, hz)
    this.revision++
  }

  /** Link quality measured at `time` (s since the epoch); either field may be absent. */
  pushLink(time: number, link: LinkQuality): void {
    if (!Number.isFinite(time)) return
    if (link.dropRatio !== undefined && Number.isFinite(link.dropRatio)) pushTrend(this.dropRatio, time, link.dropRatio)
    if (link.rssi !== undefined && Number.isFinite(link.rssi)) pushTrend(this.rssi, time, link.rssi)
    this.revision++
  }

  /**
   * An adaptive-control decision at `time` (s since the epoch). The new rate also enters the rate series, so the
   * step line follows the decisions even when the rate resource is not observed.
   */
  pushControl(time: number, decision: ControlDecision): void {
    if (!Number.isFinite(time)) return
    this.controls.push(time, decision)
    if (Number.isFinite(decision.dropRatio)) pushTrend(this.dropRatio, time, decision.dropRatio)
    if (Number.isFinite(decision.newRate) && this.rate.lastValue !== Math.fround(decision.newRate)) {
      pushTrend(this.rate, time, decision.newRate)
    }
    this.revision++
  }

  /** Heart rate (bpm) from the R-peak detector, NaN when unknown. */
  heartRate(): number {
    return this.detector.heartRate()
  }

  /** The newest sampling rate reported, NaN if none. */
  get currentRate(): number {
    return this.rate.lastValue
  }

  clear(): void {
    this.restart()
    this.rate.clear()
    this.dropRatio.clear()
    this.rssi.clear()
    this.controls.clear()
  }
}

/**
 * Trend points are few and may come from two sources (a notification and a control event) slightly out of order:
 * keep the ring sorted by dropping a point older than the newest, and a same-time repeat replaces nothing.
 */
function pushTrend(ring: SampleRing, time: number, value: number): void {
  const last = ring.lastTime
  if (time < last) return
  if (time === last && ring.lastValue === Math.fround(value)) return
  ring.push(time, value)
}
