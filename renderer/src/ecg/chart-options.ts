import type { ComposeOption } from 'echarts/core'
import type { LineSeriesOption } from 'echarts/charts'
import type { GridComponentOption } from 'echarts/components'
import { MAJOR_MM, MINOR_MM, yExtentMm } from './sweep.ts'
import type { ScreenLayout, TraceFrame } from './sweep.ts'
import type { TrendFrame } from './render-pipeline.ts'

/**
 * ECharts options for the monitor (line series and grids only: the smallest ECharts build), as plain data (no ECharts runtime here, so they are testable in Node).
 * The trace chart's axes are in millimetres: split lines every 5 units are the major grid (0.2 s, 0.5 mV at
 * 25 mm/s and 10 mm/mV), minor split lines every 1 unit the minor grid (0.04 s, 0.1 mV).
 */
export type EcgChartOption = ComposeOption<LineSeriesOption | GridComponentOption>

export interface EcgColors {
  background: string
  gridMinor: string
  gridMajor: string
  trace: string
  text: string
  rate: string
  drop: string
  rssi: string
  threshold: string
  controlDown: string
  controlUp: string
}

/** Classic monitor paper (light) and phosphor (dark); the component overrides them from CSS variables. */
export const LIGHT_COLORS: EcgColors = {
  background: '#fffdfd',
  gridMinor: '#f6d5da',
  gridMajor: '#e79aa6',
  trace: '#111418',
  text: '#1b1f24',
  rate: '#0a7c66',
  drop: '#b42318',
  rssi: '#3657c9',
  threshold: '#b42318',
  controlDown: '#c2410c',
  controlUp: '#0a7c66',
}

export const DARK_COLORS: EcgColors = {
  background: '#050807',
  gridMinor: '#15261f',
  gridMajor: '#2b4a3d',
  trace: '#43ff8e',
  text: '#e6e9ed',
  rate: '#3fd0ae',
  drop: '#ff8a80',
  rssi: '#8fb3ff',
  threshold: '#ff8a80',
  controlDown: '#ffb35c',
  controlUp: '#3fd0ae',
}

/** TypedArray line data: ECharts reads interleaved (x, y) pairs; its typings only list arrays. */
export function lineData(xy: Float64Array): LineSeriesOption['data'] {
  return xy as unknown as LineSeriesOption['data']
}

/** An axis in mm; with `paper`, its split lines draw the grid (5 mm major, 1 mm minor). */
function mmAxis(min: number, max: number, colors: EcgColors, paper: boolean) {
  return {
    type: 'value' as const,
    min,
    max,
    interval: MAJOR_MM,
    silent: true,
    animation: false,
    axisLine: { show: false },
    axisTick: { show: false },
    axisLabel: { show: false },
    splitLine: { show: paper, lineStyle: { color: colors.gridMajor, width: 1 } },
    minorTick: { show: false, splitNumber: MAJOR_MM / MINOR_MM },
    minorSplitLine: { show: paper, lineStyle: { color: colors.gridMinor, width: 1 } },
  }
}

const FULL_GRID = { left: 0, right: 0, top: 0, bottom: 0, containLabel: false, show: false }

/**
 * The paper under the trace: background and calibrated grid, in a chart of its own beneath the trace's.
 * Hundreds of grid lines cost ECharts more than the trace itself, so they are drawn when the layout,
 * settings or theme change (and, scrolling, when the paper moves), not every frame with the trace.
 */
export function paperChartOption(layout: ScreenLayout, frame: TraceFrame, colors: EcgColors): EcgChartOption {
  const y = yExtentMm(layout)
  return {
    animation: false,
    backgroundColor: colors.background,
    grid: FULL_GRID,
    xAxis: mmAxis(frame.xMin, frame.xMax, colors, true),
    yAxis: mmAxis(y.min, y.max, colors, true),
    series: [],
  }
}

/** The paper's per-frame change: scrolling moves it with the trace; a sweep leaves it still (undefined: nothing to set). */
export function paperFrameOption(frame: TraceFrame): EcgChartOption | undefined {
  return frame.mode === 'scroll' ? { xAxis: { min: frame.xMin, max: frame.xMax } } : undefined
}

/** The trace chart option for a layout (set on resize, settings or theme change, not per frame): transparent, over the paper. */
export function traceChartOption(layout: ScreenLayout, frame: TraceFrame, colors: EcgColors): EcgChartOption {
  const y = yExtentMm(layout)
  return {
    animation: false,
    backgroundColor: 'transparent',
    grid: FULL_GRID,
    xAxis: mmAxis(frame.xMin, frame.xMax, colors, false),
    yAxis: mmAxis(y.min, y.max, colors, false),
    series: [
      {
        id: 'ecg',
        type: 'line',
        data: [],
        showSymbol: false,
        symbol: 'none',
        silent: true,
        animation: false,
        connectNulls: false,
        clip: true,
        lineStyle: { color: colors.trace, width: 1.5, join: 'round' },
        emphasis: { disabled: true },
      },
    ],
  }
}

/** The per-frame change: the decimated trace and, when scrolling, the moving x extent. */
export function traceFrameOption(xy: Float64Array, frame: TraceFrame): EcgChartOption {
  if (frame.mode === 'scroll') {
    return { xAxis: { min: frame.xMin, max: frame.xMax }, series: [{ id: 'ecg', data: lineData(xy) }] }
  }
  return { series: [{ id: 'ecg', data: lineData(xy) }] }
}

const TREND_GRIDS = [
  { top: '6%', height: '22%' },
  { top: '37%', height: '22%' },
  { top: '68%', height: '20%' },
]

/** The link panel: sampling rate (step) with control markers, packet drop ratio with its threshold, RSSI. */
export function trendChartOption(colors: EcgColors, dropThreshold: number, compact: boolean): EcgChartOption {
  const fontSize = compact ? 10 : 12
  const timeAxis = (gridIndex: number, labels: boolean) => ({
    type: 'time' as const,
    gridIndex,
    silent: true,
    axisLine: { lineStyle: { color: colors.gridMajor } },
    axisTick: { show: labels },
    axisLabel: { show: labels, color: colors.text, fontSize, hideOverlap: true },
    splitLine: { show: true, lineStyle: { color: colors.gridMinor } },
  })
  const valueAxis = (gridIndex: number, name: string, extra: object) => ({
    type: 'value' as const,
    gridIndex,
    name,
    nameLocation: 'middle' as const,
    nameRotate: 90,
    nameGap: 36,
    nameTextStyle: { color: colors.text, fontSize },
    silent: true,
    splitNumber: 2,
    axisLabel: { color: colors.text, fontSize },
    splitLine: { show: true, lineStyle: { color: colors.gridMinor } },
    ...extra,
  })
  const line = (id: string, index: number, color: string, step: false | 'end') => ({
    id,
    type: 'line' as const,
    xAxisIndex: index,
    yAxisIndex: index,
    data: [],
    step,
    showSymbol: !step,
    symbol: 'circle',
    symbolSize: 3,
    silent: true,
    animation: false,
    connectNulls: false,
    lineStyle: { color, width: 1.5 },
    itemStyle: { color },
    emphasis: { disabled: true },
  })
  // decision markers: symbols of a line series without its line (keeps the scatter chart out of the bundle)
  const marker = (id: string, color: string, symbol: string, rotate: number) => ({
    id,
    type: 'line' as const,
    xAxisIndex: 0,
    yAxisIndex: 0,
    data: [],
    symbol,
    symbolRotate: rotate,
    symbolSize: compact ? 8 : 10,
    showSymbol: true,
    showAllSymbol: true,
    silent: true,
    animation: false,
    lineStyle: { width: 0, opacity: 0 },
    itemStyle: { color },
    emphasis: { disabled: true },
    z: 5,
  })
  return {
    animation: false,
    backgroundColor: 'transparent',
    grid: TREND_GRIDS.map((g) => ({ left: 52, right: 12, top: g.top, height: g.height, containLabel: false })),
    xAxis: [timeAxis(0, false), timeAxis(1, false), timeAxis(2, true)],
    yAxis: [
      valueAxis(0, 'Hz', { scale: true, minInterval: 5 }),
      valueAxis(1, 'drop', {
        min: 0,
        max: (v: { max: number }) => Math.max(2 * dropThreshold, Math.ceil(v.max * 20) / 20),
        axisLabel: { color: colors.text, fontSize, formatter: (v: number) => `${+(v * 100).toFixed(1)} %` },
      }),
      valueAxis(2, 'dBm', { scale: true }),
    ],
    series: [
      line('rate', 0, colors.rate, 'end'),
      line('drop', 1, colors.drop, false),
      // the control threshold, as a two-point dashed line across the window (no mark-line component needed)
      { ...line('threshold', 1, colors.threshold, false), showSymbol: false, lineStyle: { color: colors.threshold, width: 1, type: 'dashed' as const } },
      line('rssi', 2, colors.rssi, false),
      marker('down', colors.controlDown, 'triangle', 180),
      marker('up', colors.controlUp, 'triangle', 0),
      marker('hold', colors.text, 'circle', 0),
    ],
  }
}

/** The per-update change of the link panel. */
export function trendUpdateOption(d: TrendFrame, dropThreshold: number): EcgChartOption {
  const axis = { min: d.fromS * 1000, max: d.toS * 1000 }
  const threshold: Array<[number, number]> = [
    [axis.min, dropThreshold],
    [axis.max, dropThreshold],
  ]
  return {
    xAxis: [axis, axis, axis],
    series: [
      { id: 'rate', data: lineData(d.rate) },
      { id: 'drop', data: lineData(d.drop) },
      { id: 'threshold', data: threshold },
      { id: 'rssi', data: lineData(d.rssi) },
      { id: 'down', data: d.down },
      { id: 'up', data: d.up },
      { id: 'hold', data: d.hold },
    ],
  }
}
