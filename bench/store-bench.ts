import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RecordJson } from '../shared/api/schemas.ts'
import { openDatabase } from '../electron/store/database.ts'
import { HistoryStore } from '../electron/store/history-store.ts'
import type { BenchReport } from './server-bench.ts'
import { Latencies, readable } from './stats.ts'

export interface StoreBenchOptions {
  /** Simulated patients streaming ECG at once. */
  readonly patients: number
  /** Samples per second per patient. */
  readonly rateHz: number
  /** Samples per notification. */
  readonly batch: number
  /** Wall-clock seconds spent inserting. */
  readonly durationS: number
  /** Samples per second of the hour that is queried back (900,000 at 250 Hz). */
  readonly hourRateHz: number
  /** Times the hour is queried (the median is reported). */
  readonly queries: number
}

const ECG_PATH = '/1031/0/1'
/** Flushes every 250 ms of data, as the store's timer does in the console. */
const FLUSH_EVERY_MS = 250
const HOUR_MS = 3_600_000
const POINTS = 2000

/** An ECG-looking integer trace: a beat every 0.8 s on a slow wander, with a little deterministic noise. */
function ecgValue(i: number, rateHz: number): number {
  const phase = (i / rateHz) % 0.8
  const beat = phase < 0.04 ? 900 * Math.sin((phase / 0.04) * Math.PI) : 0
  return Math.round(beat + 60 * Math.sin(i / rateHz) + ((i * 7919) % 23) - 11)
}

/** One second of notifications of every patient, as the server hands them on (RecordJson with device times). */
function secondOfNotifications(options: StoreBenchOptions, second: number, t0s: number): { endpoint: string; records: RecordJson[] }[] {
  const out: { endpoint: string; records: RecordJson[] }[] = []
  for (let first = 0; first < options.rateHz; first += options.batch) {
    for (let p = 0; p < options.patients; p++) {
      const records: RecordJson[] = []
      for (let j = first; j < Math.min(first + options.batch, options.rateHz); j++) {
        const i = second * options.rateHz + j
        records.push({ path: ECG_PATH, type: 'integer', value: ecgValue(i + p * 1000, options.rateHz), time: t0s + i / options.rateHz })
      }
      out.push({ endpoint: `patient-${p}`, records })
    }
  }
  return out
}

/**
 * `bench store`: the value history on a temporary file database. Insert: every patient's ECG
 * notifications go through `HistoryStore.appendRecords` and a flush per 250 ms of data, for a
 * wall-clock duration (building the notifications is not timed). Query: one hour of one resource,
 * decimated by the store to 2,000 points.
 */
export async function runStoreBench(options: StoreBenchOptions, progress: (line: string) => void): Promise<BenchReport> {
  const dir = mkdtempSync(join(tmpdir(), 'objecttwin-bench-store-'))
  const file = join(dir, 'history.db')
  const db = openDatabase(file)
  const store = new HistoryStore(db, { retentionIntervalMs: 0, flushIntervalMs: 3_600_000 })
  try {
    const t0s = Date.UTC(2026, 0, 1) / 1000
    progress(`inserting: ${options.patients} patients × ${options.rateHz} Hz in batches of ${options.batch}, for ${options.durationS} s`)
    const flushesPerSecond = 1000 / FLUSH_EVERY_MS
    let insertMs = 0
    let inserted = 0
    const flushMs = new Latencies()
    for (let second = 0; insertMs < options.durationS * 1000; second++) {
      const notifications = secondOfNotifications(options, second, t0s)
      const perFlush = Math.ceil(notifications.length / flushesPerSecond)
      const started = performance.now()
      for (let k = 0; k < notifications.length; k++) {
        const n = notifications[k] as { endpoint: string; records: RecordJson[] }
        inserted += store.appendRecords(n.endpoint, n.records, 0)
        if ((k + 1) % perFlush === 0 || k === notifications.length - 1) {
          const f = performance.now()
          store.flush()
          flushMs.add(performance.now() - f)
        }
      }
      insertMs += performance.now() - started
      // Let the rest of the process breathe between simulated seconds, as the event loop would.
      await new Promise((resolve) => setImmediate(resolve))
    }
    const insertPerS = inserted / (insertMs / 1000)
    const bytesPerSample = store.stats().storedBytes / Math.max(1, store.stats().storedSamples)

    progress(`building one hour of ${options.hourRateHz} Hz (${readable(options.hourRateHz * 3600)} samples)`)
    const hourStart = Date.UTC(2026, 1, 1)
    const hourSamples = options.hourRateHz * 3600
    const perChunk = Math.round((options.hourRateHz * FLUSH_EVERY_MS) / 1000)
    for (let i = 0; i < hourSamples; i++) {
      store.append('holter', ECG_PATH, hourStart + (i * 1000) / options.hourRateHz, ecgValue(i, options.hourRateHz), 'integer')
      if ((i + 1) % perChunk === 0) store.flush()
    }
    store.flush()
    const queryMs = new Latencies()
    let points = 0
    let total = 0
    for (let q = 0; q < options.queries; q++) {
      const started = performance.now()
      const r = store.query('holter', ECG_PATH, { from: hourStart, to: hourStart + HOUR_MS, maxPoints: POINTS })
      queryMs.add(performance.now() - started)
      if (!r.ok) throw new Error(`the hour query failed: ${r.error.message}`)
      points = r.value.times.length
      total = r.value.total
    }
    const zoomStarted = performance.now()
    const zoom = store.query('holter', ECG_PATH, { from: hourStart + 1_800_000, to: hourStart + 1_810_000, maxPoints: POINTS })
    const zoomMs = performance.now() - zoomStarted
    const fileBytes = statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0)

    const hourQueryMs = queryMs.percentile(50)
    const rows: string[][] = [
      ['measure', 'value', 'detail'],
      ['insert rate', `${readable(insertPerS)} samples/s`, `${options.patients} patients × ${options.rateHz} Hz, ${options.batch} per notification, a transaction per 250 ms of data; ${readable(inserted)} samples in ${readable(insertMs / 1000)} s of store time`],
      ['flush p99', `${readable(flushMs.percentile(99))} ms`, `${readable(flushMs.count)} transactions, ${readable(inserted / Math.max(1, flushMs.count))} samples each`],
      ['stored size', `${readable(bytesPerSample)} B/sample`, 'Float32 time offsets + Int32 values per chunk, with per-chunk min/max'],
      ['hour query', `${readable(hourQueryMs)} ms`, `${readable(total)} samples (${options.hourRateHz} Hz) → ${readable(points)} points, min/max per bucket; median of ${options.queries}, max ${readable(queryMs.percentile(100))} ms`],
      ['10 s zoom', `${readable(zoomMs)} ms`, zoom.ok ? `${readable(zoom.value.total)} samples, ${zoom.value.decimated ? 'decimated' : 'every sample'}` : zoom.error.message],
      ['database file', `${readable(fileBytes / 1048576)} MiB`, 'database + WAL after both phases'],
    ]
    return { rows, summary: { insert_per_s: insertPerS, hour_query_ms: hourQueryMs, bytes_per_sample: bytesPerSample } }
  } finally {
    store.close()
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
