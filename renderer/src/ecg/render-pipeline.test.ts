import { describe, it, expect } from 'vitest'
import { EcgSyn } from '../../../electron/ble/virtual/sensors/ecgsyn.ts'
import { paperChartOption, paperFrameOption, traceChartOption, traceFrameOption, trendChartOption, trendUpdateOption, LIGHT_COLORS } from './chart-options.ts'
import { TracePipeline, TrendAssembler } from './render-pipeline.ts'
import { EcgFeed } from './sample-feed.ts'
import { screenLayout } from './sweep.ts'

const EPOCH = 1_760_000_000

/** A feed filled the way the UI fills it: notification-sized batches of µV/10 samples with epoch times. */
function syntheticFeed(seconds: number, rate: number, seed = 1): { feed: EcgFeed; gen: EcgSyn } {
  const gen = new EcgSyn({ seed })
  const feed = new EcgFeed()
  const batch = Math.max(1, Math.round(rate / 10))
  const times = new Float64Array(batch)
  const values = new Float32Array(batch)
  for (let done = 0; done < seconds * rate; done += batch) {
    for (let i = 0; i < batch; i++) {
      values[i] = gen.nextUnits(rate)
      times[i] = EPOCH + gen.time
    }
    feed.push(times, values)
  }
  return { feed, gen }
}

function pairs(xy: Float64Array): Array<[number, number]> {
  const p: Array<[number, number]> = []
  for (let i = 0; i < xy.length; i += 2) p.push([xy[i] as number, xy[i + 1] as number])
  return p
}

describe('render pipeline: ring buffer → sweep → min/max decimation → ECharts data', () => {
  const widthPx = 800
  const layout = screenLayout({ widthPx, heightPx: 240 }) // 6 s at 25 mm/s
  const { feed, gen } = syntheticFeed(20, 500)
  const now = feed.ecg.lastTime

  it('sweep: ≤ 2 points per pixel column, x on the screen, one break between the sweeps, nothing in the erase bar', () => {
    const pipe = new TracePipeline()
    const xy = pipe.render(feed.ecg, layout, 'sweep', feed.origin, now)
    const f = pipe.frame
    expect(pipe.columnCount).toBe(widthPx)
    expect(xy.length % 2).toBe(0)
    expect(xy.length / 2).toBeLessThanOrEqual(2 * widthPx + 2)
    const p = pairs(xy)
    const breaks = p.filter((q) => Number.isNaN(q[0]))
    expect(f.segmentCount).toBe(2)
    expect(breaks.length).toBe(1)
    const drawn = p.filter((q) => !Number.isNaN(q[0]))
    for (const [x] of drawn) {
      expect(x).toBeGreaterThanOrEqual(0)
      expect(x).toBeLessThanOrEqual(layout.widthMm + 1e-9)
      expect(x <= f.writeMm + 1e-9 || x >= f.eraseEndMm - 1e-9).toBe(true)
    }
    // the previous sweep fills the screen from the erase bar to the right edge
    const breakAt = p.findIndex((q) => Number.isNaN(q[0]))
    const previous = p.slice(breakAt + 1)
    expect((previous[0] as [number, number])[0]).toBeLessThanOrEqual(f.eraseEndMm + 1 / layout.pxPerMm)
    expect((previous[previous.length - 1] as [number, number])[0]).toBeGreaterThan(layout.widthMm - 1 / layout.pxPerMm)
    expect(previous.length).toBeGreaterThan(((layout.widthMm - f.eraseEndMm) * layout.pxPerMm) / 2)
    // the current sweep ends at the write position (within the last pixel column)
    const beforeBreak = p[p.findIndex((q) => Number.isNaN(q[0])) - 1] as [number, number]
    expect(f.writeMm - beforeBreak[0]).toBeGreaterThanOrEqual(0)
    expect(f.writeMm - beforeBreak[0]).toBeLessThanOrEqual(1 / layout.pxPerMm)
  })

  it('keeps every visible R peak at full height (y in mm = mV × 10)', () => {
    const pipe = new TracePipeline()
    const xy = pipe.render(feed.ecg, layout, 'sweep', feed.origin, now)
    const f = pipe.frame
    const drawn = pairs(xy).filter((q) => !Number.isNaN(q[0]))
    let checked = 0
    for (const r of gen.rPeakTimes()) {
      const t = EPOCH + r
      for (let s = 0; s < f.segmentCount; s++) {
        const seg = f.segments[s] as (typeof f.segments)[0]
        if (t < seg.tFrom + 0.02 || t > seg.tTo - 0.02) continue
        const x = (t - seg.t0) * layout.speedMmPerS
        // the sample at the peak, as stored (µV/10 → mV, float32)
        const i = feed.ecg.lowerBound(t - 0.001)
        let peak = -Infinity
        for (let k = i - 3; k <= i + 3; k++) peak = Math.max(peak, feed.ecg.valueAt(k))
        const near = drawn.filter((q) => Math.abs(q[0] - x) < 0.5)
        expect(Math.max(...near.map((q) => q[1]))).toBeCloseTo(peak * 10, 4)
        checked++
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4)
  })

  it('scroll: x runs over [xMin, xMax] without going back, the newest sample at the right edge', () => {
    const pipe = new TracePipeline()
    const xy = pipe.render(feed.ecg, layout, 'scroll', feed.origin, now)
    const f = pipe.frame
    const p = pairs(xy)
    expect(p.length).toBeGreaterThan(widthPx)
    expect(p.length).toBeLessThanOrEqual(2 * widthPx + 2)
    for (let i = 0; i < p.length; i++) {
      const [x] = p[i] as [number, number]
      expect(x).toBeGreaterThanOrEqual(f.xMin - 1e-6)
      expect(x).toBeLessThanOrEqual(f.xMax + 1e-6)
      if (i > 0) expect(x).toBeGreaterThanOrEqual((p[i - 1] as [number, number])[0])
    }
    const lastX = (p[p.length - 1] as [number, number])[0]
    expect(f.xMax - lastX).toBeGreaterThanOrEqual(0)
    expect(f.xMax - lastX).toBeLessThanOrEqual(1 / layout.pxPerMm)
  })

  it('reuses its output array from frame to frame (a view per frame, no new buffer)', () => {
    const pipe = new TracePipeline()
    const a = pipe.render(feed.ecg, layout, 'sweep', feed.origin, now - 1)
    const b = pipe.render(feed.ecg, layout, 'sweep', feed.origin, now)
    const c = pipe.render(feed.ecg, layout, 'scroll', feed.origin, now)
    expect(b.buffer).toBe(a.buffer)
    expect(c.buffer).toBe(a.buffer)
    // a new width is a new buffer
    const d = pipe.render(feed.ecg, screenLayout({ widthPx: 400, heightPx: 240 }), 'sweep', feed.origin, now)
    expect(d.buffer).not.toBe(a.buffer)
  })

  it('a frame of 4 patients × 500 Hz × 10 s window stays bounded by the pixel columns', () => {
    const patients = [1, 2, 3, 4].map((seed) => syntheticFeed(10, 500, seed).feed)
    const small = screenLayout({ widthPx: 480, heightPx: 180 })
    const pipes = patients.map(() => new TracePipeline())
    // several consecutive frames 1/60 s apart, as the render loop would ask
    for (let frame = 0; frame < 10; frame++) {
      patients.forEach((p, i) => {
        const xy = (pipes[i] as TracePipeline).render(p.ecg, small, 'sweep', p.origin, p.ecg.lastTime - 0.5 + frame / 60)
        expect(xy.length / 2).toBeLessThanOrEqual(2 * 480 + 2)
        expect(xy.length / 2).toBeGreaterThan(480)
      })
    }
    expect(patients[0]?.ecg.length).toBe(5000)
  })

  it('produces the ECharts options the monitor sets: mm axes with 5 mm major / 1 mm minor grid, typed-array data', () => {
    const pipe = new TracePipeline()
    const xy = pipe.render(feed.ecg, layout, 'scroll', feed.origin, now)
    // The trace is drawn over the paper on the same axes: no grid and no background of its own.
    const trace = traceChartOption(layout, pipe.frame, LIGHT_COLORS) as { backgroundColor: string; xAxis: { min: number; max: number; minorSplitLine: { show: boolean }; splitLine: { show: boolean } } }
    expect(trace.backgroundColor).toBe('transparent')
    expect([trace.xAxis.splitLine.show, trace.xAxis.minorSplitLine.show]).toEqual([false, false])
    const full = paperChartOption(layout, pipe.frame, LIGHT_COLORS) as Record<string, unknown>
    expect(full.backgroundColor).toBe(LIGHT_COLORS.background)
    const xAxis = full.xAxis as { interval: number; minorTick: { splitNumber: number }; min: number; max: number; minorSplitLine: { show: boolean } }
    expect([xAxis.min, xAxis.max]).toEqual([trace.xAxis.min, trace.xAxis.max])
    expect(xAxis.interval).toBe(5)
    expect(xAxis.minorTick.splitNumber).toBe(5)
    expect(xAxis.minorSplitLine.show).toBe(true)
    expect(xAxis.max - xAxis.min).toBeCloseTo(layout.widthMm, 6)
    const yAxis = full.yAxis as { interval: number; min: number; max: number }
    expect(yAxis.interval).toBe(5)
    expect(yAxis.max - yAxis.min).toBeCloseTo(layout.heightMm, 6)
    const update = traceFrameOption(xy, pipe.frame) as { series: Array<{ data: unknown }>; xAxis?: { min: number } }
    expect(update.series[0]?.data).toBe(xy)
    expect(update.xAxis?.min).toBe(pipe.frame.xMin)
    expect(paperFrameOption(pipe.frame)).toEqual({ xAxis: { min: pipe.frame.xMin, max: pipe.frame.xMax } })
    pipe.render(feed.ecg, layout, 'sweep', feed.origin, now)
    expect((traceFrameOption(xy, pipe.frame) as { xAxis?: unknown }).xAxis).toBeUndefined()
    expect(paperFrameOption(pipe.frame)).toBeUndefined()
  })
})

describe('link panel: trends and control decisions', () => {
  it('carries the rate as a step to both window edges and places the decisions', () => {
    const feed = new EcgFeed()
    feed.pushRate(EPOCH, 150)
    feed.pushControl(EPOCH + 50, { oldRate: 150, newRate: 145, dropRatio: 0.04 })
    feed.pushControl(EPOCH + 55, { oldRate: 145, newRate: 140, dropRatio: 0.03 })
    feed.pushControl(EPOCH + 60, { oldRate: 140, newRate: 145, dropRatio: 0.01 })
    feed.pushControl(EPOCH + 65, { oldRate: 145, newRate: 145, dropRatio: 0.02 })
    for (let s = 0; s < 70; s++) feed.pushLink(EPOCH + s, { rssi: -60 - (s % 5) })
    const trends = new TrendAssembler()
    const f = trends.render(feed, EPOCH + 70, 40) // window 30 … 70
    const rate = pairs(f.rate)
    expect(rate[0]).toEqual([(EPOCH + 30) * 1000, 150])
    expect(rate[rate.length - 1]).toEqual([(EPOCH + 70) * 1000, 145])
    expect(rate.map((q) => q[1])).toEqual([150, 145, 140, 145, 145])
    expect(f.down.map((d) => d[1])).toEqual([140, 145])
    expect(f.up).toEqual([[(EPOCH + 60) * 1000, 145]])
    expect(f.hold.length).toBe(1)
    expect(pairs(f.drop).map((q) => q[1])).toEqual([0.04, 0.03, 0.01, 0.02].map(Math.fround))
    expect(pairs(f.rssi).length).toBe(40)
    const option = trendUpdateOption(f, 0.02) as { xAxis: Array<{ min: number; max: number }>; series: Array<{ id: string }> }
    expect(option.xAxis[0]).toEqual({ min: (EPOCH + 30) * 1000, max: (EPOCH + 70) * 1000 })
    const base = trendChartOption(LIGHT_COLORS, 0.02, false) as { series: Array<{ id: string }> }
    expect(option.series.map((s) => s.id).sort()).toEqual(base.series.map((s) => s.id).sort())
  })

  it('shows an empty panel for an empty feed', () => {
    const f = new TrendAssembler().render(new EcgFeed(), EPOCH, 120)
    expect([f.rate.length, f.drop.length, f.rssi.length, f.down.length]).toEqual([0, 0, 0, 0])
  })
})
