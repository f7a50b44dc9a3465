import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { HistoryCsv, HistoryResult, HistorySeries } from '../../../shared/api/history-schemas.ts'
import { useApi } from '../api/api-context.ts'
import { chartLine, coversAll, mergeDetail, pointsForWidth, presetWindow, type ChartLine, type RangePreset, type TimeWindow } from '../model/history.ts'

/**
 * The History view's state: the series the store holds, the chosen device and resource, the range,
 * and two answers — the overview of the whole range and the detail of the zoomed window — each
 * already decimated by the console to about one min/max pair per pixel column. A newer request makes
 * an older one's answer stale, so a fast zoom never shows an outdated window.
 */
export const useHistoryStore = defineStore('history', () => {
  const series = shallowRef<readonly HistorySeries[]>([])
  const endpoint = ref('')
  const path = ref('')
  const preset = ref<RangePreset>('1h')
  const range = shallowRef<TimeWindow>(presetWindow('1h', Date.now()))
  const overview = shallowRef<HistoryResult>()
  const detail = shallowRef<HistoryResult>()
  const loading = ref(false)
  const exporting = ref(false)
  const error = ref('')
  let latest = 0

  const endpoints = computed(() => [...new Set(series.value.map((s) => s.endpoint))])
  const resources = computed(() => series.value.filter((s) => s.endpoint === endpoint.value))
  /** What the chart shows: the detail when zoomed, else the overview. */
  const shown = computed(() => detail.value ?? overview.value)
  /** The window the chart shows, for the CSV export. */
  const shownWindow = computed<TimeWindow>(() => (detail.value ? { from: detail.value.from, to: detail.value.to } : range.value))

  const line = computed<ChartLine>(() => {
    const base = overview.value ? chartLine(overview.value) : { points: [], textValues: 0 }
    if (!detail.value) return base
    const zoomed = chartLine(detail.value)
    return { points: mergeDetail(base.points, zoomed.points, { from: detail.value.from, to: detail.value.to }), textValues: zoomed.textValues }
  })

  /** Fetches the list of series; keeps the choice when it still exists, else takes the first. */
  async function refreshSeries(): Promise<void> {
    const r = await useApi().historySeries({})
    if (!r.ok) {
      error.value = r.error.message
      return
    }
    series.value = r.value
    if (!endpoints.value.includes(endpoint.value)) endpoint.value = endpoints.value[0] ?? ''
    if (!resources.value.some((s) => s.path === path.value)) path.value = resources.value[0]?.path ?? ''
  }

  /** Picks a device (and a resource of it: the given one if it has values, else its first). */
  function choose(nextEndpoint: string, nextPath?: string): void {
    endpoint.value = nextEndpoint
    const own = resources.value
    path.value = nextPath !== undefined && own.some((s) => s.path === nextPath) ? nextPath : (own[0]?.path ?? nextPath ?? '')
    overview.value = detail.value = undefined
  }

  function setPreset(next: Exclude<RangePreset, 'custom'>, now = Date.now()): void {
    preset.value = next
    range.value = presetWindow(next, now)
  }

  /** A custom range; false (with `error` set) when it is empty or reversed. */
  function setCustom(from: number | undefined, to: number | undefined): boolean {
    if (from === undefined || to === undefined || !(from < to)) {
      error.value = 'choose a start before the end'
      return false
    }
    preset.value = 'custom'
    range.value = { from, to }
    error.value = ''
    return true
  }

  /**
   * Loads `window` (default: the whole range) at the chart's width. The whole range becomes the
   * overview and clears the detail; a narrower window becomes the detail.
   */
  async function load(widthPx: number, window?: TimeWindow): Promise<void> {
    if (endpoint.value === '' || path.value === '') return
    const whole = window === undefined || coversAll(range.value, window, widthPx)
    const target = whole ? range.value : (window as TimeWindow)
    const mine = ++latest
    loading.value = true
    const r = await useApi().history({ endpoint: endpoint.value, path: path.value, from: target.from, to: target.to, maxPoints: pointsForWidth(widthPx) })
    if (mine !== latest) return
    loading.value = false
    if (!r.ok) {
      error.value = r.error.message
      return
    }
    error.value = ''
    if (whole) {
      overview.value = r.value
      detail.value = undefined
    } else {
      detail.value = r.value
    }
  }

  /**
   * Every sample of the window shown as one CSV text (the desktop app's export: a browser follows the
   * streamed link instead). Undefined, with `error` set, when the console refuses it (e.g. too many samples).
   */
  async function exportCsv(): Promise<HistoryCsv | undefined> {
    if (endpoint.value === '' || path.value === '' || exporting.value) return undefined
    const { from, to } = shownWindow.value
    exporting.value = true
    try {
      // Whole milliseconds outward, as the link's range: no sample at an edge is lost.
      const r = await useApi().exportHistoryCsv({ endpoint: endpoint.value, path: path.value, from: Math.floor(from), to: Math.ceil(to) })
      if (!r.ok) {
        error.value = `Export failed: ${r.error.message}`
        return undefined
      }
      error.value = ''
      return r.value
    } finally {
      exporting.value = false
    }
  }

  return { series, endpoint, path, preset, range, overview, detail, loading, exporting, error, endpoints, resources, shown, shownWindow, line, refreshSeries, choose, setPreset, setCustom, load, exportCsv }
})
