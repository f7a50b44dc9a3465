import { mkdtempSync, rmSync } from 'node:fs'
import type { DatabaseSync } from 'node:sqlite'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../../electron/store/database.ts'
import { HistoryStore, type HistoryOptions } from '../../electron/store/history-store.ts'
import { MinMaxBuckets } from '../../electron/store/min-max-buckets.ts'

const T0 = Date.UTC(2026, 0, 1, 10, 0, 0)
const ECG = '/1031/0/1'

let dir: string
let file: string
const opened: { db: DatabaseSync; store: HistoryStore }[] = []

function open(options: HistoryOptions = {}): HistoryStore {
  const db = openDatabase(file)
  const store = new HistoryStore(db, { retentionIntervalMs: 0, ...options })
  opened.push({ db, store })
  return store
}

function closeAll(): void {
  for (const { db, store } of opened.splice(0)) {
    store.close()
    db.close()
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ot-history-'))
  file = join(dir, 'objecttwin.db')
})

afterEach(() => {
  closeAll()
  rmSync(dir, { recursive: true, force: true })
})

/** 250 Hz samples from T0: a small repeating wave. */
function appendEcg(store: HistoryStore, seconds: number, from = T0, endpoint = 'p1'): number {
  const n = seconds * 250
  for (let i = 0; i < n; i++) store.append(endpoint, ECG, from + i * 4, (i % 50) - 25, 'integer')
  return n
}

describe('history store', () => {
  it('keeps numbers, strings and booleans at their times, in time order, across a reopen', () => {
    const store = open()
    store.append('p1', '/3303/0/5700', T0 + 20, 21.5, 'float')
    store.append('p1', '/3303/0/5700', T0 + 10, 21.25, 'float')
    store.append('p1', '/3303/0/5700', T0 + 30, 2 ** 40 + 0.5, 'float')
    store.append('p1', '/3/0/0', T0, 'Acme "ECG" patch', 'string')
    store.append('p1', '/3/0/0', T0 + 5, true)
    expect(store.appendRecords('p1', [
      { path: '/3303/0/5700', value: 22, time: (T0 + 40) / 1000 },
      // No device time: the receive time is used.
      { path: '/3303/0/5700', value: 23 },
      // A device clock in 1970 is a clock error, not a time to file the sample under.
      { path: '/3303/0/5700', value: 24, time: 12 },
    ], T0 + 50)).toBe(3)
    store.close()

    const reopened = open()
    const temp = reopened.query('p1', '/3303/0/5700', { from: T0, to: T0 + 100 })
    expect(temp).toEqual({
      ok: true,
      value: { endpoint: 'p1', path: '/3303/0/5700', from: T0, to: T0 + 100, type: 'float', total: 6, decimated: false, times: [T0 + 10, T0 + 20, T0 + 30, T0 + 40, T0 + 50, T0 + 50], values: [21.25, 21.5, 2 ** 40 + 0.5, 22, 23, 24] },
    })
    expect(reopened.query('p1', '/3/0/0', { from: T0, to: T0 + 100 })).toMatchObject({ ok: true, value: { times: [T0, T0 + 5], values: ['Acme "ECG" patch', true] } })
    expect(reopened.series('p1').map((s) => [s.path, s.firstTime, s.lastTime])).toEqual([['/3/0/0', T0, T0 + 5], ['/3303/0/5700', T0 + 10, T0 + 50]])
    expect(reopened.stats()).toMatchObject({ storedSamples: 8, bufferedSamples: 0 })
  })

  it('refuses what it cannot store without losing what it has', () => {
    const store = open()
    store.append('p1', ECG, T0, 1)
    store.flush()
    const bad: [string, string, number, unknown][] = [
      ['p1', ECG, T0 + 1, NaN],
      ['p1', ECG, T0 + 2, Infinity],
      ['p1', ECG, T0 + 3, { nested: 1 }],
      ['p1', ECG, T0 + 4, null],
      ['p1', ECG, T0 + 5, 'x'.repeat(70_000)],
      ['p1', ECG, NaN, 5],
      ['p1', '/1031', T0, 5],
      ['p1', '/1031/0/x', T0, 5],
      ['p1', '1031/0/1', T0, 5],
      ['p1', '/1031/0/1/', T0, 5],
      ['', ECG, T0, 5],
    ]
    for (const [ep, path, t, v] of bad) expect(store.append(ep, path, t, v), `${ep} ${path} ${String(v).slice(0, 20)}`).toBe(false)
    expect(store.appendRecords('p1', [{ path: 'garbage', value: 1 }, { path: ECG, value: NaN }, { path: ECG, value: 2, time: NaN }], T0 + 9)).toBe(1)
    expect(store.stats().rejectedSamples).toBe(bad.length + 2)
    expect(store.query('p1', ECG, { from: T0, to: T0 + 10 })).toMatchObject({ ok: true, value: { times: [T0, T0 + 9], values: [1, 2] } })

    for (const [query, message] of [
      [{ from: T0 + 10, to: T0 }, /from .* is after to/],
      [{ maxPoints: 1 }, /maxPoints must be a whole number from 2/],
      [{ maxPoints: 2.5 }, /maxPoints/],
      [{ from: NaN }, /from must be a finite number/],
      [{ to: Infinity }, /to must be a finite number/],
    ] as const) {
      expect(store.query('p1', ECG, query)).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringMatching(message) } })
    }
    expect(store.query('p1', '/1031/0', {})).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringContaining('not a resource path') } })
    expect(store.query('', ECG, {})).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
    // A series never seen is empty, not an error: its history starts when it is first observed.
    expect(store.query('nobody', ECG, { from: T0, to: T0 + 10 })).toMatchObject({ ok: true, value: { total: 0, times: [] } })
  })

  it('keeps samples in memory while the database refuses writes, and writes them once it takes them again', () => {
    const errors: string[] = []
    const store = open({ onError: (message) => errors.push(message) })
    const db = opened.at(-1)?.db as DatabaseSync
    store.append('p1', ECG, T0, 1)
    store.flush()
    db.exec('PRAGMA query_only = ON')
    store.append('p1', ECG, T0 + 1, 2)
    store.append('p2', ECG, T0 + 2, 3)
    store.flush()
    store.flush()
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^history: writing samples failed, keeping them in memory to retry: .*readonly/)
    expect(store.stats()).toMatchObject({ bufferedSamples: 2, storedSamples: 1, lastError: errors[0] })
    db.exec('PRAGMA query_only = OFF')
    expect(store.query('p1', ECG, { from: T0, to: T0 + 10 })).toMatchObject({ ok: true, value: { values: [1, 2] } })
    expect(store.query('p2', ECG, { from: T0, to: T0 + 10 })).toMatchObject({ ok: true, value: { values: [3] } })
    expect(store.stats()).toMatchObject({ bufferedSamples: 0, storedSamples: 3 })
    expect(store.stats().lastError).toBeUndefined()
  })

  it('decimates an hour of 250 Hz to at most maxPoints, keeping a spike one sample wide', () => {
    const store = open()
    const n = 900_000
    const spikeAt = 512_345
    for (let i = 0; i < n; i++) {
      // Flushing every 62 samples makes chunks as the 250 ms timer does at 250 Hz.
      store.append('p1', ECG, T0 + i * 4, i === spikeAt ? 5000 : (i % 50) - 25, 'integer')
      if (i % 62 === 61) store.flush()
    }
    const hour = store.query('p1', ECG, { from: T0, to: T0 + 3_600_000, maxPoints: 2000 })
    if (!hour.ok) throw new Error(hour.error.message)
    expect(hour.value).toMatchObject({ total: n, decimated: true, bucketMs: 3600 })
    expect(hour.value.times.length).toBeLessThanOrEqual(2000)
    expect(hour.value.times.length).toBeGreaterThan(1900)
    const top = hour.value.values.indexOf(5000)
    expect(top).toBeGreaterThanOrEqual(0)
    expect(hour.value.times[top]).toBe(T0 + spikeAt * 4)
    expect(Math.min(...(hour.value.values as number[]))).toBe(-25)
    expect([...hour.value.times].sort((a, b) => a - b)).toEqual(hour.value.times)

    // Zoomed in around the spike: every sample, no decimation.
    const zoom = store.query('p1', ECG, { from: T0 + spikeAt * 4 - 400, to: T0 + spikeAt * 4 + 400, maxPoints: 2000 })
    expect(zoom).toMatchObject({ ok: true, value: { total: 201, decimated: false } })
    if (zoom.ok) expect(zoom.value.values[100]).toBe(5000)
  })

  it('decimates exactly as min/max over every sample would, whatever the chunking and range', () => {
    const store = open()
    const times: number[] = []
    const values: number[] = []
    for (let i = 0; i < 60_000; i++) {
      const t = T0 + i * 3 + (i % 7)
      // Distinct values in a scrambled order, some fractional: no ties to argue about.
      const v = ((i * 2_654_435_761) % 1_000_003) / 7 - 70_000
      times.push(t)
      values.push(v)
      store.append('p1', ECG, t, v)
      if ((i * 31) % 97 === 0) store.flush()
    }
    for (const [from, to, maxPoints] of [[T0, T0 + 180_000, 500], [T0 + 12_345.5, T0 + 99_999, 77], [T0 - 50_000, T0 + 500_000, 2000], [T0 + 1000, T0 + 9000, 2000]] as const) {
      const r = store.query('p1', ECG, { from, to, maxPoints })
      if (!r.ok) throw new Error(r.error.message)
      const reference = new MinMaxBuckets(from, to, Math.floor(maxPoints / 2))
      let total = 0
      times.forEach((t, i) => {
        if (t < from || t > to) return
        reference.add(t, values[i] as number)
        total++
      })
      const expected = total > maxPoints ? reference.points() : { times: times.filter((t) => t >= from && t <= to), values: values.filter((_, i) => (times[i] as number) >= from && (times[i] as number) <= to) }
      expect(r.value.total, `${from}…${to}`).toBe(total)
      expect(r.value.decimated).toBe(total > maxPoints)
      expect(r.value.values, `${from}…${to}`).toEqual(expected.values)
      expect(r.value.times).toEqual(expected.times.map((t) => Math.round(t * 1000) / 1000))
    }
  })

  it('streams raw samples in time order even when chunks overlap', () => {
    const store = open()
    // Two batches that arrive out of order overlap in time.
    for (let i = 0; i < 100; i++) store.append('p1', ECG, T0 + 1000 + i * 10, i)
    store.flush()
    for (let i = 0; i < 100; i++) store.append('p1', ECG, T0 + 5 + i * 10, 1000 + i)
    store.flush()
    for (let i = 0; i < 100; i++) store.append('p1', ECG, T0 + 2000 + i * 10, 2000 + i)
    store.flush()
    const pages = [...store.samples('p1', ECG, T0, T0 + 10_000, 1)]
    const times = pages.flatMap((p) => p.times)
    expect(times).toHaveLength(300)
    expect([...times].sort((a, b) => a - b)).toEqual(times)
    expect(pages.length).toBeGreaterThan(1)
  })

  it('deletes samples older than the age limit, and only those', async () => {
    let now = T0 + 10 * 60_000
    const store = open({ maxAgeMs: 5 * 60_000, retentionBatch: 2, now: () => now })
    for (let minute = 0; minute < 10; minute++) {
      appendEcg(store, 1, T0 + minute * 60_000)
      store.flush()
    }
    const before = store.stats()
    const result = await store.enforceRetention()
    expect(result.deletedChunks).toBeGreaterThan(0)
    const left = store.series('p1')[0]
    // Minutes 0–4 ended before now − 5 min; minute 5 ends just after the cutoff and stays.
    expect(left?.firstTime).toBe(T0 + 5 * 60_000)
    expect(store.stats().storedSamples).toBe(5 * 250)
    expect(store.stats().storedBytes).toBe(before.storedBytes - result.deletedBytes)
    now += 60 * 60_000
    await store.enforceRetention()
    expect(store.series()).toEqual([])
  })

  it('deletes the oldest samples while the size is over its limit, across series', async () => {
    const store = open({ retentionBatch: 3 })
    for (let second = 0; second < 40; second++) {
      appendEcg(store, 1, T0 + second * 1000, second % 2 === 0 ? 'p1' : 'p2')
      store.flush()
    }
    const full = store.stats().storedBytes
    closeAll()
    const limited = open({ maxBytes: Math.floor(full / 4), retentionBatch: 3, now: () => T0 + 60_000 })
    expect(limited.stats().storedBytes).toBe(full)
    await limited.enforceRetention()
    const { storedBytes } = limited.stats()
    expect(storedBytes).toBeLessThanOrEqual(full / 4)
    expect(storedBytes).toBeGreaterThan(full / 4 - full / 40)
    // What is left is the newest: the last second of each series.
    const lastP1 = limited.query('p1', ECG, { from: T0 + 38_000, to: T0 + 39_000 })
    const lastP2 = limited.query('p2', ECG, { from: T0 + 39_000, to: T0 + 40_000 })
    expect(lastP1.ok && lastP1.value.total).toBe(250)
    expect(lastP2.ok && lastP2.value.total).toBe(250)
    expect(limited.query('p1', ECG, { from: T0, to: T0 + 1000 })).toMatchObject({ ok: true, value: { total: 0 } })
  })
})
