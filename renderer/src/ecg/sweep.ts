/**
 * ECG display geometry (REFERENCE.md §4, the conventions of monitors claiming IEC 60601-2-27): paper speed 25 mm/s
 * (also 6.25, 12.5 and 50), gain 10 mm/mV (also 5 and 20), grid of 1 mm minor and 5 mm major lines, about 6 s per
 * screen at 25 mm/s. Everything is laid out in millimetres on a screen whose size in mm comes from its size in
 * pixels and a px/mm calibration; the chart's axes are in mm, so the grid lines are simply every 1 and 5 units.
 *
 * Two modes:
 * - sweep (erase bar): the write position moves left to right and wraps; new samples overwrite the previous
 *   sweep, with a small erased gap just ahead of the write position so the eye finds the newest sample.
 * - scroll: the newest sample sits at the right edge and the trace (and its paper grid) moves left.
 * Per frame, `sweepFrame` / `scrollFrame` say which time ranges go where; the render pipeline decimates them.
 */
export const SPEEDS_MM_PER_S = [6.25, 12.5, 25, 50] as const
export const GAINS_MM_PER_MV = [5, 10, 20] as const
export const MINOR_MM = 1
export const MAJOR_MM = 5
/** Screen length of the conventional monitor at 25 mm/s. */
export const DEFAULT_SCREEN_S = 6
/** CSS pixels per millimetre by definition (96 px per inch): exact on a display whose scale is right. */
export const CSS_PX_PER_MM = 96 / 25.4

export type TraceMode = 'sweep' | 'scroll'

export interface ScreenLayout {
  widthMm: number
  heightMm: number
  speedMmPerS: number
  gainMmPerMv: number
  /** Width of the erased gap ahead of the write position (mm). */
  eraseMm: number
  /** Height of the 0 mV baseline above the bottom, as a share of the height. */
  baselineShare: number
  /** Pixels per mm the layout was computed with (columns for decimation are pixels). */
  pxPerMm: number
}

export interface LayoutInput {
  widthPx: number
  heightPx: number
  speedMmPerS?: number
  gainMmPerMv?: number
  /**
   * Physical calibration, px per mm. When absent the screen is scaled so that it holds `screenS` seconds at
   * 25 mm/s (the paper stays "25 mm/s" in proportion: grid squares are squares, 5 mm = 0.2 s = 0.5 mV).
   */
  pxPerMm?: number
  screenS?: number
  eraseMm?: number
  baselineShare?: number
}

/** The screen in mm for an element of the given size. */
export function screenLayout(input: LayoutInput): ScreenLayout {
  const widthPx = Math.max(1, input.widthPx)
  const heightPx = Math.max(1, input.heightPx)
  const pxPerMm =
    input.pxPerMm !== undefined && input.pxPerMm > 0 ? input.pxPerMm : widthPx / (25 * (input.screenS ?? DEFAULT_SCREEN_S))
  const widthMm = widthPx / pxPerMm
  return {
    widthMm,
    heightMm: heightPx / pxPerMm,
    speedMmPerS: input.speedMmPerS ?? 25,
    gainMmPerMv: input.gainMmPerMv ?? 10,
    // the classic erase bar is a few mm; keep it visible on narrow screens too
    eraseMm: input.eraseMm ?? Math.max(4, widthMm * 0.03),
    baselineShare: input.baselineShare ?? 0.4,
    pxPerMm,
  }
}

/** Seconds shown across the screen. */
export function screenSeconds(layout: ScreenLayout): number {
  return layout.widthMm / layout.speedMmPerS
}

/** y axis extent (mm) with 0 mV at baselineShare of the height. */
export function yExtentMm(layout: ScreenLayout): { min: number; max: number } {
  const min = -layout.heightMm * layout.baselineShare
  return { min, max: min + layout.heightMm }
}

/** One contiguous stretch of samples to draw: times [tFrom, tTo], placed with x(mm) = (t − t0) · speed. */
export interface TraceSegment {
  tFrom: number
  tTo: number
  t0: number
}

export interface TraceFrame {
  mode: TraceMode
  /** x axis extent (mm). Sweep: 0 … width. Scroll: moves with the paper. */
  xMin: number
  xMax: number
  /** Sweep: the write position and the end of the erased gap (mm); scroll: both at the right edge. */
  writeMm: number
  eraseEndMm: number
  /** segments[0] is the current sweep (or the whole scroll window), segments[1] the previous sweep's remainder. */
  segments: [TraceSegment, TraceSegment]
  segmentCount: number
}

export function traceFrame(): TraceFrame {
  return {
    mode: 'sweep',
    xMin: 0,
    xMax: 1,
    writeMm: 0,
    eraseEndMm: 0,
    segments: [
      { tFrom: 0, tTo: 0, t0: 0 },
      { tFrom: 0, tTo: 0, t0: 0 },
    ],
    segmentCount: 0,
  }
}

/**
 * Erase-bar sweep at display time `now`; sweeps start at `origin` (the first sample) and every screenSeconds after.
 * The current sweep holds [sweepStart, now] at x = 0 … writeMm; the previous one is visible from the end of the
 * erased gap to the right edge. The gap is clipped at the right edge (the bar does not wrap), as on monitors.
 */
export function sweepFrame(layout: ScreenLayout, origin: number, now: number, out: TraceFrame): TraceFrame {
  const speed = layout.speedMmPerS
  const screen = layout.widthMm / speed
  out.mode = 'sweep'
  out.xMin = 0
  out.xMax = layout.widthMm
  if (!(now >= origin) || !(screen > 0)) {
    out.writeMm = out.eraseEndMm = 0
    out.segmentCount = 0
    return out
  }
  const k = Math.floor((now - origin) / screen)
  const sweepStart = origin + k * screen
  const writeMm = (now - sweepStart) * speed
  const eraseEndMm = Math.min(layout.widthMm, writeMm + layout.eraseMm)
  out.writeMm = writeMm
  out.eraseEndMm = eraseEndMm
  const cur = out.segments[0]
  cur.tFrom = sweepStart
  cur.tTo = now
  cur.t0 = sweepStart
  out.segmentCount = 1
  if (k > 0 && eraseEndMm < layout.widthMm) {
    const prevStart = sweepStart - screen
    const prev = out.segments[1]
    prev.tFrom = prevStart + eraseEndMm / speed
    // exclusive of the current sweep's first sample: stop a microsecond before sweepStart (well above the
    // resolution of epoch seconds in a double, ~2e-7 s, and far below any sample interval)
    prev.tTo = sweepStart - 1e-6
    prev.t0 = prevStart
    out.segmentCount = 2
  }
  return out
}

/**
 * Scrolling paper: x(mm) = (t − origin) · speed, so samples and grid lines move together and a sample keeps its
 * pixel column from frame to frame; the axis shows [now − screen, now].
 */
export function scrollFrame(layout: ScreenLayout, origin: number, now: number, out: TraceFrame): TraceFrame {
  const speed = layout.speedMmPerS
  const screen = layout.widthMm / speed
  out.mode = 'scroll'
  if (!(now >= origin) || !(screen > 0)) {
    out.xMin = 0
    out.xMax = layout.widthMm
    out.writeMm = out.eraseEndMm = layout.widthMm
    out.segmentCount = 0
    return out
  }
  const xNow = (now - origin) * speed
  out.xMin = xNow - layout.widthMm
  out.xMax = xNow
  out.writeMm = out.eraseEndMm = xNow
  const seg = out.segments[0]
  seg.tFrom = now - screen
  seg.tTo = now
  seg.t0 = origin
  out.segmentCount = 1
  return out
}
