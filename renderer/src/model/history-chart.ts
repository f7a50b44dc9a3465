import type { LineSeriesOption } from 'echarts/charts'
import type { DataZoomComponentOption, GridComponentOption, TooltipComponentOption } from 'echarts/components'
import type { ComposeOption } from 'echarts/core'
import type { LinePoint, TimeWindow } from './history.ts'

/** ECharts options of the History chart, as plain data (no ECharts runtime here, so they are testable in Node). */
export type HistoryChartOption = ComposeOption<LineSeriesOption | GridComponentOption | DataZoomComponentOption | TooltipComponentOption>

export interface HistoryChartColors {
  readonly line: string
  readonly text: string
  readonly muted: string
  readonly grid: string
}

/**
 * The whole chart for a range: a time axis fixed to the range (so zooming is relative to it), wheel
 * and drag zoom inside the plot plus a slider under it. `filterMode: 'none'` because the data is
 * re-queried for each window rather than filtered by ECharts.
 */
export function historyChartOption(range: TimeWindow, points: readonly LinePoint[], colors: HistoryChartColors, unit?: string): HistoryChartOption {
  return {
    animation: false,
    grid: { left: 64, right: 24, top: 24, bottom: 72 },
    tooltip: { trigger: 'axis', axisPointer: { type: 'line' } },
    xAxis: {
      type: 'time',
      min: range.from,
      max: range.to,
      axisLabel: { color: colors.text, hideOverlap: true },
      // At the bottom, not across the plot at value 0.
      axisLine: { onZero: false, lineStyle: { color: colors.muted } },
      splitLine: { show: true, lineStyle: { color: colors.grid } },
    },
    yAxis: {
      type: 'value',
      scale: true,
      ...(unit ? { name: unit, nameTextStyle: { color: colors.muted } } : {}),
      axisLabel: { color: colors.text },
      splitLine: { lineStyle: { color: colors.grid } },
    },
    dataZoom: [
      { type: 'inside', xAxisIndex: 0, filterMode: 'none', start: 0, end: 100 },
      // No data shadow: ECharts spreads it by point index, which misplaces data that covers part of the range.
      { type: 'slider', xAxisIndex: 0, filterMode: 'none', start: 0, end: 100, bottom: 16, height: 28, showDataShadow: false, textStyle: { color: colors.muted } },
    ],
    series: [historySeries(points, colors.line)],
  }
}

/** Just the line, for updates that keep the zoom. */
export function historySeries(points: readonly LinePoint[], color: string): LineSeriesOption {
  return {
    type: 'line',
    // The store already decimated with min/max; ECharts' own sampling would drop the spikes it kept.
    showSymbol: false,
    connectNulls: false,
    lineStyle: { width: 1, color },
    itemStyle: { color },
    // [time, value | null] pairs; ECharts' typings do not list the null breaks.
    data: points as unknown as LineSeriesOption['data'],
  }
}
