import { describe, expect, it } from 'vitest'
import { historyChartOption } from './history-chart.ts'

const COLORS = { line: '#111', text: '#222', muted: '#333', grid: '#444' }

describe('history chart option', () => {
  it('fixes the time axis to the range, zooms inside and with a slider without filtering, and draws the points as given', () => {
    const points: [number, number | null][] = [[1000, 1], [1500, null], [2000, 3]]
    const option = historyChartOption({ from: 1000, to: 3000 }, points, COLORS, 'mV')
    expect(option.xAxis).toMatchObject({ type: 'time', min: 1000, max: 3000 })
    expect(option.yAxis).toMatchObject({ name: 'mV', scale: true })
    expect(option.dataZoom).toEqual([
      expect.objectContaining({ type: 'inside', filterMode: 'none', start: 0, end: 100 }),
      expect.objectContaining({ type: 'slider', filterMode: 'none' }),
    ])
    expect(option.series).toEqual([expect.objectContaining({ type: 'line', connectNulls: false, showSymbol: false, data: points })])
    expect(JSON.stringify(option.series)).not.toContain('sampling')
  })
})
