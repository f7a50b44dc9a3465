import { describe, expect, it } from 'vitest'
import { chartLine, coversAll, describeResult, fromLocalInput, mergeDetail, pointsForWidth, presetWindow, toLocalInput, zoomWindow } from './history.ts'

const NOW = Date.UTC(2026, 5, 1, 12)

describe('history view model', () => {
  it('turns presets into windows ending now', () => {
    expect(presetWindow('5m', NOW)).toEqual({ from: NOW - 300_000, to: NOW })
    expect(presetWindow('24h', NOW)).toEqual({ from: NOW - 86_400_000, to: NOW })
  })

  it('asks for a min/max pair per pixel column, within bounds', () => {
    expect(pointsForWidth(960)).toBe(1920)
    expect(pointsForWidth(10)).toBe(200)
    expect(pointsForWidth(50_000)).toBe(20_000)
    expect(pointsForWidth(NaN)).toBe(200)
  })

  it('maps dataZoom percentages to a window and knows when it is the whole range', () => {
    const full = { from: 1000, to: 2000 }
    expect(zoomWindow(full, 25, 50)).toEqual({ from: 1250, to: 1500 })
    expect(zoomWindow(full, 80, 10)).toEqual({ from: 1100, to: 1800 })
    expect(zoomWindow(full, -5, 140)).toEqual(full)
    expect(coversAll(full, { from: 1000.5, to: 1999.5 }, 1000)).toBe(true)
    expect(coversAll(full, { from: 1010, to: 2000 }, 1000)).toBe(false)
  })

  it('draws numbers and booleans, counts strings, and breaks the line over gaps', () => {
    const raw = chartLine({ times: [0, 10, 20, 30, 200, 210], values: [1, true, 'text', 3, 4, false], decimated: false })
    expect(raw.textValues).toBe(1)
    // Steps 10, 20 (over the string), 170, 10: five times the median (20) is 100, so the 170 ms hole breaks the line.
    expect(raw.points).toEqual([[0, 1], [10, 1], [30, 3], [115, null], [200, 4], [210, 0]])
    const decimated = chartLine({ times: [0, 50, 100, 150, 1000], values: [1, 2, 3, 4, 5], decimated: true, bucketMs: 100 })
    expect(decimated.points.filter(([, v]) => v === null)).toEqual([[575, null]])
    expect(chartLine({ times: [5], values: [1], decimated: false }).points).toEqual([[5, 1]])
  })

  it('puts the detail inside the zoom window and the overview around it, broken at the seams', () => {
    const overview: [number, number][] = [[0, 1], [100, 2], [200, 3], [300, 4]]
    const detail: [number, number][] = [[110, 5], [150, 6], [190, 7]]
    expect(mergeDetail(overview, detail, { from: 105, to: 195 })).toEqual([[0, 1], [100, 2], [105, null], [110, 5], [150, 6], [190, 7], [195, null], [200, 3], [300, 4]])
    expect(mergeDetail(overview, detail, { from: -1, to: 400 })).toEqual(detail)
  })

  it('reads and writes datetime-local values in local time', () => {
    const t = new Date(2026, 0, 2, 3, 4).getTime()
    expect(toLocalInput(t)).toBe('2026-01-02T03:04')
    expect(fromLocalInput('2026-01-02T03:04')).toBe(t)
    expect(fromLocalInput('')).toBeUndefined()
    expect(fromLocalInput('yesterday')).toBeUndefined()
  })

  it('describes an answer', () => {
    expect(describeResult({ total: 2500, decimated: false })).toBe('2,500 samples · every sample')
    expect(describeResult({ total: 900_000, decimated: true, bucketMs: 3600 })).toBe('900,000 samples · min/max per 3.6 s')
    expect(describeResult({ total: 1, decimated: false })).toBe('1 sample · every sample')
  })
})
