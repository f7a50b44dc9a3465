import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import type { ConsoleApi, ExportHistoryCsvInput, HistoryInput } from '../../../shared/api/console-api.ts'
import type { HistoryCsv, HistoryResult, HistorySeries } from '../../../shared/api/history-schemas.ts'
import { fail, ok, type Result } from '../../../shared/api/result.ts'
import { provideApi } from '../api/api-context.ts'
import { useHistoryStore } from './history.ts'

const T = Date.UTC(2026, 0, 1)

/** A console API whose history answers the test releases one by one, in any order. */
function fakeApi(series: HistorySeries[]): { api: ConsoleApi; calls: HistoryInput[]; answer(index: number, result?: Result<HistoryResult>): void } {
  const calls: HistoryInput[] = []
  const pending: ((r: Result<HistoryResult>) => void)[] = []
  const api = {
    historySeries: () => Promise.resolve(ok(series)),
    history: (input: HistoryInput) => {
      calls.push(input)
      return new Promise<Result<HistoryResult>>((resolve) => pending.push(resolve))
    },
  } as unknown as ConsoleApi
  const answer = (index: number, result?: Result<HistoryResult>): void => {
    const input = calls[index] as HistoryInput
    const from = input.from ?? 0
    const to = input.to ?? 0
    pending[index]?.(result ?? ok({ endpoint: input.endpoint, path: input.path, from, to, total: 2, decimated: false, times: [from, to], values: [index, index] }))
  }
  return { api, calls, answer }
}

const flush = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

const SERIES: HistorySeries[] = [
  { endpoint: 'ecg-1', path: '/1031/0/1', type: 'integer', firstTime: T, lastTime: T + 1000 },
  { endpoint: 'ecg-1', path: '/3303/0/5700', type: 'float', firstTime: T, lastTime: T + 1000 },
  { endpoint: 'thermo', path: '/3303/0/5700', type: 'float', firstTime: T, lastTime: T + 1000 },
]

describe('history store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('lists devices and their resources, and keeps a choice that still exists', async () => {
    const f = fakeApi(SERIES)
    provideApi(f.api)
    const store = useHistoryStore()
    await store.refreshSeries()
    expect(store.endpoints).toEqual(['ecg-1', 'thermo'])
    expect([store.endpoint, store.path]).toEqual(['ecg-1', '/1031/0/1'])
    store.choose('thermo')
    expect(store.path).toBe('/3303/0/5700')
    store.choose('ecg-1', '/3303/0/5700')
    await store.refreshSeries()
    expect([store.endpoint, store.path]).toEqual(['ecg-1', '/3303/0/5700'])
    store.choose('ecg-1', '/9/9/9')
    expect(store.path).toBe('/1031/0/1')
  })

  it('loads the range as the overview and a zoom as the detail, asking for a pair per pixel', async () => {
    const f = fakeApi(SERIES)
    provideApi(f.api)
    const store = useHistoryStore()
    await store.refreshSeries()
    store.setPreset('5m', T + 300_000)
    const whole = store.load(800)
    f.answer(0)
    await whole
    expect(f.calls[0]).toEqual({ endpoint: 'ecg-1', path: '/1031/0/1', from: T, to: T + 300_000, maxPoints: 1600 })
    expect(store.overview?.from).toBe(T)
    expect(store.detail).toBeUndefined()

    const zoom = store.load(800, { from: T + 1000, to: T + 2000 })
    f.answer(1)
    await zoom
    expect(store.detail).toMatchObject({ from: T + 1000, to: T + 2000 })
    expect(store.shownWindow).toEqual({ from: T + 1000, to: T + 2000 })
    // The detail sits inside the overview, broken from it at both seams.
    expect(store.line.points).toEqual([[T, 0], [T + 1000, null], [T + 1000, 1], [T + 2000, 1], [T + 2000, null], [T + 300_000, 0]])

    // Zooming back out to everything drops the detail.
    const out = store.load(800, { from: T, to: T + 300_000 })
    f.answer(2)
    await out
    expect(store.detail).toBeUndefined()
    expect(store.shownWindow).toEqual({ from: T, to: T + 300_000 })
  })

  it('drops an answer that a newer request has overtaken', async () => {
    const f = fakeApi(SERIES)
    provideApi(f.api)
    const store = useHistoryStore()
    await store.refreshSeries()
    const first = store.load(400, { from: T + 10, to: T + 20 })
    const second = store.load(400, { from: T + 30, to: T + 40 })
    f.answer(1)
    await second
    f.answer(0)
    await first
    await flush()
    expect(store.detail).toMatchObject({ from: T + 30, to: T + 40 })
    expect(store.loading).toBe(false)
  })

  it('shows the console\'s error and refuses an empty custom range', async () => {
    const f = fakeApi(SERIES)
    provideApi(f.api)
    const store = useHistoryStore()
    await store.refreshSeries()
    const load = store.load(400)
    f.answer(0, fail('invalid_input', 'history: maxPoints must be a whole number from 2 to 100000'))
    await load
    expect(store.error).toContain('maxPoints')
    expect(store.setCustom(T + 10, T)).toBe(false)
    expect(store.setCustom(undefined, T)).toBe(false)
    expect(store.error).toBe('choose a start before the end')
    expect(store.setCustom(T, T + 10)).toBe(true)
    expect([store.preset, store.range]).toEqual(['custom', { from: T, to: T + 10 }])
  })

  it('exports the window shown, in whole milliseconds outward, and shows why the console refused', async () => {
    const f = fakeApi(SERIES)
    const exports: ExportHistoryCsvInput[] = []
    let answer: Result<HistoryCsv> = ok({ filename: 'ecg-1_1031_0_1.csv', samples: 1, csv: 'time,value\n2026-01-01T00:00:01.000Z,5\n' })
    const api = Object.assign(f.api, {
      exportHistoryCsv: (input: ExportHistoryCsvInput) => {
        exports.push(input)
        return Promise.resolve(answer)
      },
    })
    provideApi(api)
    const store = useHistoryStore()
    expect(await store.exportCsv()).toBeUndefined()
    expect(exports).toEqual([])

    await store.refreshSeries()
    const zoom = store.load(800, { from: T + 1000.4, to: T + 1999.6 })
    f.answer(0)
    await zoom
    const pending = store.exportCsv()
    expect(store.exporting).toBe(true)
    expect(await pending).toEqual(answer.ok && answer.value)
    expect(exports).toEqual([{ endpoint: 'ecg-1', path: '/1031/0/1', from: T + 1000, to: T + 2000 }])
    expect([store.exporting, store.error]).toEqual([false, ''])

    answer = fail('invalid_input', 'exportHistoryCsv: ecg-1 /1031/0/1 has more than 200,000 samples in this range, more than one export carries: narrow the range')
    expect(await store.exportCsv()).toBeUndefined()
    expect(store.error).toBe(`Export failed: ${answer.ok ? '' : answer.error.message}`)
    expect(store.exporting).toBe(false)
  })
})
