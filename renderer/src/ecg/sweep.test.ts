import { describe, it, expect } from 'vitest'
import {
  CSS_PX_PER_MM,
  GAINS_MM_PER_MV,
  MAJOR_MM,
  MINOR_MM,
  SPEEDS_MM_PER_S,
  screenLayout,
  screenSeconds,
  scrollFrame,
  sweepFrame,
  traceFrame,
  yExtentMm,
} from './sweep.ts'

describe('display conventions (IEC 60601-2-27 style)', () => {
  it('offers the standard speeds and gains; 1 mm / 5 mm grid = 0.04 s / 0.2 s and 0.1 mV / 0.5 mV at 25 mm/s, 10 mm/mV', () => {
    expect([...SPEEDS_MM_PER_S]).toEqual([6.25, 12.5, 25, 50])
    expect(GAINS_MM_PER_MV).toContain(10)
    expect(MINOR_MM / 25).toBeCloseTo(0.04, 12)
    expect(MAJOR_MM / 25).toBeCloseTo(0.2, 12)
    expect(MINOR_MM / 10).toBeCloseTo(0.1, 12)
    expect(MAJOR_MM / 10).toBeCloseTo(0.5, 12)
  })

  it('fits about 6 s per screen at 25 mm/s when no calibration is given, whatever the width', () => {
    for (const widthPx of [320, 600, 1234]) {
      const l = screenLayout({ widthPx, heightPx: 200 })
      expect(screenSeconds(l)).toBeCloseTo(6, 9)
      expect(l.widthMm * l.pxPerMm).toBeCloseTo(widthPx, 9)
      // square grid: the same px/mm both ways
      expect(l.heightMm).toBeCloseTo(200 / l.pxPerMm, 9)
    }
    expect(screenSeconds(screenLayout({ widthPx: 600, heightPx: 200, speedMmPerS: 50 }))).toBeCloseTo(3, 9)
    expect(screenSeconds(screenLayout({ widthPx: 600, heightPx: 200, speedMmPerS: 12.5 }))).toBeCloseTo(12, 9)
  })

  it('uses a physical px/mm calibration when given (96 CSS px per inch)', () => {
    const l = screenLayout({ widthPx: 567, heightPx: 189, pxPerMm: CSS_PX_PER_MM })
    expect(l.widthMm).toBeCloseTo(150, 1)
    expect(l.heightMm).toBeCloseTo(50, 1)
    expect(screenSeconds(l)).toBeCloseTo(6, 1)
  })

  it('puts 0 mV at the baseline share of the height', () => {
    const l = screenLayout({ widthPx: 600, heightPx: 400, baselineShare: 0.25 })
    const y = yExtentMm(l)
    expect(y.max - y.min).toBeCloseTo(l.heightMm, 9)
    expect(-y.min / l.heightMm).toBeCloseTo(0.25, 9)
  })
})

describe('erase-bar sweep', () => {
  const layout = screenLayout({ widthPx: 600, heightPx: 200, eraseMm: 5 }) // 150 mm, 6 s
  const origin = 100

  it('during the first sweep draws only [origin, now] from the left edge', () => {
    const f = sweepFrame(layout, origin, 102, traceFrame())
    expect(f.segmentCount).toBe(1)
    expect(f.segments[0]).toEqual({ tFrom: 100, tTo: 102, t0: 100 })
    expect(f.writeMm).toBeCloseTo(50, 9)
    expect(f.eraseEndMm).toBeCloseTo(55, 9)
    expect([f.xMin, f.xMax]).toEqual([0, 150])
  })

  it('later shows the current sweep left of the write position and the previous one right of the erase bar', () => {
    const f = sweepFrame(layout, origin, 113.5, traceFrame()) // third sweep, 1.5 s in
    expect(f.writeMm).toBeCloseTo(37.5, 9)
    expect(f.eraseEndMm).toBeCloseTo(42.5, 9)
    expect(f.segmentCount).toBe(2)
    const [cur, prev] = f.segments
    expect(cur).toEqual({ tFrom: 112, tTo: 113.5, t0: 112 })
    expect(prev.t0).toBe(106)
    // the previous sweep resumes where the bar ends: x(tFrom) = eraseEnd
    expect((prev.tFrom - prev.t0) * 25).toBeCloseTo(42.5, 9)
    expect(prev.tTo).toBeLessThan(112)
    expect(prev.tTo).toBeGreaterThan(112 - 1e-5)
  })

  it('shows the whole previous sweep right of the erase bar on epoch time stamps too', () => {
    const epoch = 1_760_000_000.123
    const f = sweepFrame(layout, epoch, epoch + 9.7, traceFrame())
    const prev = f.segments[1]
    expect(f.segmentCount).toBe(2)
    expect((prev.tFrom - prev.t0) * 25).toBeCloseTo(f.eraseEndMm, 4)
    // it runs to the end of the previous sweep, i.e. to the right edge
    expect((prev.tTo - prev.t0) * 25).toBeCloseTo(150, 3)
    expect(prev.tTo).toBeLessThan(f.segments[0].tFrom)
  })

  it('clips the erase bar at the right edge (no wrap): the previous sweep is gone', () => {
    const f = sweepFrame(layout, origin, 111.9, traceFrame())
    expect(f.eraseEndMm).toBe(150)
    expect(f.segmentCount).toBe(1)
  })

  it('wraps exactly at the end of a screen', () => {
    const f = sweepFrame(layout, origin, 106, traceFrame())
    expect(f.writeMm).toBeCloseTo(0, 9)
    expect(f.segments[0].tFrom).toBe(106)
    expect(f.segmentCount).toBe(2)
  })

  it('draws nothing before the first sample or without a time', () => {
    expect(sweepFrame(layout, origin, 99, traceFrame()).segmentCount).toBe(0)
    expect(sweepFrame(layout, NaN, 99, traceFrame()).segmentCount).toBe(0)
    expect(sweepFrame(layout, origin, NaN, traceFrame()).segmentCount).toBe(0)
  })

  it('reuses the frame object it is given', () => {
    const f = traceFrame()
    expect(sweepFrame(layout, origin, 103, f)).toBe(f)
    expect(scrollFrame(layout, origin, 103, f)).toBe(f)
  })
})

describe('scrolling paper', () => {
  const layout = screenLayout({ widthPx: 600, heightPx: 200 })

  it('keeps the newest sample at the right edge and moves the axis with the paper', () => {
    const f = scrollFrame(layout, 100, 110, traceFrame())
    expect(f.mode).toBe('scroll')
    expect(f.xMax).toBeCloseTo(250, 9)
    expect(f.xMax - f.xMin).toBeCloseTo(150, 9)
    expect(f.segmentCount).toBe(1)
    expect(f.segments[0]).toEqual({ tFrom: 104, tTo: 110, t0: 100 })
  })

  it('draws nothing without data', () => {
    expect(scrollFrame(layout, NaN, NaN, traceFrame()).segmentCount).toBe(0)
  })
})
