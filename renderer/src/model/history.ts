import type { HistoryResult } from '../../../shared/api/history-schemas.ts'

/** The History view's arithmetic: ranges, zoom windows, how many points to ask for, and the chart line. */

export type RangePreset = '5m' | '1h' | '24h' | 'custom'

export const RANGE_PRESETS: readonly { readonly id: Exclude<RangePreset, 'custom'>; readonly label: string; readonly ms: number }[] = [
  { id: '5m', label: 'Last 5 min', ms: 5 * 60_000 },
  { id: '1h', label: 'Last hour', ms: 3_600_000 },
  { id: '24h', label: 'Last 24 h', ms: 86_400_000 },
]

/** A time range in milliseconds since the epoch, both ends included. */
export interface TimeWindow {
  readonly from: number
  readonly to: number
}

export function presetWindow(preset: Exclude<RangePreset, 'custom'>, now: number): TimeWindow {
  const span = RANGE_PRESETS.find((p) => p.id === preset)?.ms ?? 3_600_000
  return { from: now - span, to: now }
}

/** A min/max pair per pixel column: what a line of that width can show, no more (bounded for huge screens). */
export function pointsForWidth(widthPx: number): number {
  const px = Number.isFinite(widthPx) ? Math.round(widthPx) : 0
  return Math.min(20_000, Math.max(200, 2 * px))
}

/** The part of `full` that a dataZoom shows, from its start and end percentages. */
export function zoomWindow(full: TimeWindow, startPct: number, endPct: number): TimeWindow {
  const clamp = (p: number): number => (Number.isFinite(p) ? Math.min(100, Math.max(0, p)) : 0)
  const [a, b] = [clamp(startPct), clamp(endPct)].sort((x, y) => x - y) as [number, number]
  const span = full.to - full.from
  return { from: full.from + (span * a) / 100, to: full.from + (span * b) / 100 }
}

/** Whether `window` is (within a pixel column) the whole of `full`, so the overview already serves it. */
export function coversAll(full: TimeWindow, window: TimeWindow, widthPx: number): boolean {
  const pixel = (full.to - full.from) / Math.max(1, widthPx)
  return window.from <= full.from + pixel && window.to >= full.to - pixel
}

/** [time, value] for the chart; null breaks the line where no data was stored. */
export type LinePoint = [number, number | null]

export interface ChartLine {
  readonly points: LinePoint[]
  /** Values the line cannot draw (strings). */
  readonly textValues: number
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

/**
 * The line of a history answer: numbers as they are, booleans as 1/0, strings left out (counted). A gap
 * wider than three buckets (decimated) or five typical sample intervals (raw) breaks the line, so a
 * disconnected sensor does not show as a straight ramp.
 */
export function chartLine(result: Pick<HistoryResult, 'times' | 'values' | 'decimated' | 'bucketMs'>): ChartLine {
  const kept: [number, number][] = []
  let textValues = 0
  result.values.forEach((v, i) => {
    const t = result.times[i] as number
    if (typeof v === 'number') kept.push([t, v])
    else if (typeof v === 'boolean') kept.push([t, v ? 1 : 0])
    else textValues++
  })
  const steps = kept.slice(1).map(([t], i) => t - (kept[i] as [number, number])[0])
  const gapMs = result.decimated && result.bucketMs ? 3 * result.bucketMs : steps.length >= 2 ? 5 * median(steps) : Infinity
  const points: LinePoint[] = []
  kept.forEach((p, i) => {
    const prev = kept[i - 1]
    if (prev && gapMs > 0 && p[0] - prev[0] > gapMs) points.push([(prev[0] + p[0]) / 2, null])
    points.push(p)
  })
  return { points, textValues }
}

/** The overview's points outside `window` around the detail's inside it: a zoom shows detail, a pan shows coarse data until the detail arrives. */
export function mergeDetail(overview: readonly LinePoint[], detail: readonly LinePoint[], window: TimeWindow): LinePoint[] {
  const before = overview.filter(([t]) => t < window.from)
  const after = overview.filter(([t]) => t > window.to)
  const gap = (t: number): LinePoint => [t, null]
  // Breaks at the seams: the two resolutions must not be joined by a misleading segment.
  return [...before, ...(before.length > 0 ? [gap(window.from)] : []), ...detail, ...(after.length > 0 ? [gap(window.to)] : []), ...after]
}

/** The value of an `<input type="datetime-local">` for a time (local clock, to the minute). */
export function toLocalInput(ms: number): string {
  const d = new Date(ms)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** A time from an `<input type="datetime-local">` value; undefined when it is empty or not a time. */
export function fromLocalInput(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) return undefined
  const t = new Date(value).getTime()
  return Number.isFinite(t) ? t : undefined
}

/** "2,500 samples · every sample" or "900,000 samples · min/max per 3.6 s". */
export function describeResult(result: Pick<HistoryResult, 'total' | 'decimated' | 'bucketMs'>): string {
  const total = `${result.total.toLocaleString('en-US')} sample${result.total === 1 ? '' : 's'}`
  if (!result.decimated || !result.bucketMs) return `${total} · every sample`
  const b = result.bucketMs
  const per = b >= 60_000 ? `${(b / 60_000).toFixed(1)} min` : b >= 1000 ? `${(b / 1000).toFixed(1)} s` : `${b.toFixed(b < 10 ? 1 : 0)} ms`
  return `${total} · min/max per ${per}`
}
