import { decimateMinMax, decimateSpec } from './decimate.ts'
import type { SampleRing } from './ring-buffer.ts'
import { scrollFrame, sweepFrame, traceFrame } from './sweep.ts'
import type { ScreenLayout, TraceFrame, TraceMode } from './sweep.ts'

/**
 * Buffer → sweep → decimate: what the ECG chart gets each frame. The output is one interleaved Float64Array of
 * (x mm, y mm) pairs — ECharts takes a typed array as line data directly — with NaN pairs where the line breaks
 * (between the current and the previous sweep, and across gaps in the data). The array is allocated once per
 * screen width; each frame returns a view of the filled part.
 */
export class TracePipeline {
  readonly frame: TraceFrame = traceFrame()
  private readonly spec = decimateSpec()
  private out = new Float64Array(0)
  private columns = 0

  /**
   * Decimate the ring for display time `now`. `origin` anchors sweeps (and the scrolling paper): the feed's first
   * sample time. `maxGapS` breaks the line where samples are further apart (a lost link).
   */
  render(ring: SampleRing, layout: ScreenLayout, mode: TraceMode, origin: number, now: number, maxGapS = 0.25): Float64Array {
    const columns = Math.max(1, Math.ceil(layout.widthMm * layout.pxPerMm))
    if (columns !== this.columns) {
      this.columns = columns
      // two points per column, plus the break between sweeps and slack for the partial columns at segment ends
      this.out = new Float64Array(2 * (2 * columns + 8))
    }
    const frame = mode === 'sweep' ? sweepFrame(layout, origin, now, this.frame) : scrollFrame(layout, origin, now, this.frame)
    const spec = this.spec
    const speed = layout.speedMmPerS
    spec.columnS = 1 / (layout.pxPerMm * speed)
    spec.xPerS = speed
    spec.x0 = 0
    spec.yScale = layout.gainMmPerMv
    spec.y0 = 0
    spec.maxGapS = maxGapS
    let n = 0
    for (let i = 0; i < frame.segmentCount; i++) {
      const seg = frame.segments[i] as (typeof frame.segments)[0]
      if (n > 0) n = breakLine(this.out, n)
      spec.t0 = seg.t0
      spec.tFrom = seg.tFrom
      spec.tTo = seg.tTo
      n = decimateMinMax(ring, spec, this.out, n)
    }
    return this.out.subarray(0, 2 * n)
  }

  /** Pixel columns across the screen (the decimation target). */
  get columnCount(): number {
    return this.columns
  }
}

function breakLine(out: Float64Array, n: number): number {
  if (2 * n + 1 >= out.length) return n
  out[2 * n] = NaN
  out[2 * n + 1] = NaN
  return n + 1
}

/**
 * Trend series for the panels under the trace (sampling rate, drop ratio, RSSI): the samples in [from, to] as
 * interleaved (time ms, value) pairs for an ECharts time axis, with the last value before `from` carried to the
 * left edge and, for step lines, the last value carried to `to` (a rate holds until it changes). Small series
 * (a point per second or per 5 s window), so a plain copy into a reusable array.
 */
export class TrendPipeline {
  private out = new Float64Array(64)

  render(ring: SampleRing, from: number, to: number, holdToEnd: boolean): Float64Array {
    const first = ring.lowerBound(from)
    const end = ring.upperBound(to)
    const need = 2 * (end - first + 2)
    if (need > this.out.length) this.out = new Float64Array(Math.max(need, 2 * this.out.length))
    const out = this.out
    let n = 0
    if (first > 0 && holdToEnd) {
      out[n++] = from * 1000
      out[n++] = ring.valueAt(first - 1)
    }
    for (let i = first; i < end; i++) {
      out[n++] = ring.timeAt(i) * 1000
      out[n++] = ring.valueAt(i)
    }
    if (holdToEnd && n >= 2 && (out[n - 2] as number) < to * 1000) {
      out[n] = to * 1000
      out[n + 1] = out[n - 1] as number
      n += 2
    }
    return out.subarray(0, n)
  }
}

/** What the link panel shows for a window of the feed's trends. */
export interface TrendFrame {
  fromS: number
  toS: number
  rate: Float64Array
  drop: Float64Array
  rssi: Float64Array
  down: Array<[number, number]>
  up: Array<[number, number]>
  hold: Array<[number, number]>
}

/** Trend rings and control decisions → the link panel's series for the window ending at `toS`. */
export class TrendAssembler {
  private readonly rate = new TrendPipeline()
  private readonly drop = new TrendPipeline()
  private readonly rssi = new TrendPipeline()

  render(
    feed: {
      rate: SampleRing
      dropRatio: SampleRing
      rssi: SampleRing
      controls: { length: number; at(i: number): { time: number; oldRate: number; newRate: number } }
    },
    toS: number,
    windowS: number,
  ): TrendFrame {
    const fromS = toS - windowS
    const down: Array<[number, number]> = []
    const up: Array<[number, number]> = []
    const hold: Array<[number, number]> = []
    for (let i = feed.controls.length - 1; i >= 0; i--) {
      const c = feed.controls.at(i)
      if (c.time < fromS) break
      if (c.time > toS) continue
      const point: [number, number] = [c.time * 1000, c.newRate]
      if (c.newRate < c.oldRate) down.push(point)
      else if (c.newRate > c.oldRate) up.push(point)
      else hold.push(point)
    }
    return {
      fromS,
      toS,
      rate: this.rate.render(feed.rate, fromS, toS, true),
      drop: this.drop.render(feed.dropRatio, fromS, toS, false),
      rssi: this.rssi.render(feed.rssi, fromS, toS, false),
      down,
      up,
      hold,
    }
  }
}
