import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { HISTORY_DEFAULT_POINTS, HISTORY_DEFAULT_SPAN_MS, HISTORY_MAX_POINTS, type HistoryResult, type HistorySeries } from '../../shared/api/history-schemas.ts'
import { fail, ok, type Result } from '../../shared/api/result.ts'
import type { RecordJson } from '../../shared/api/schemas.ts'
import { formatPath, pathDepth, tryParsePath } from '../../shared/lwm2m/path.ts'
import { RESOURCE_TYPES, type ResourceType } from '../../shared/lwm2m/values.ts'
import { MinMaxBuckets, type HistoryValue } from './min-max-buckets.ts'

/**
 * The value history: every observed and sent value with its time, in `node:sqlite`.
 *
 * Samples are kept in chunks — one row holds up to MAX_CHUNK_SAMPLES samples of one series spanning at
 * most MAX_CHUNK_SPAN_MS, as typed arrays (time offsets as Float32 from the chunk start, values as Int32
 * when all are 32-bit integers, else Float64; strings and booleans as a JSON array) — plus the chunk's
 * minimum and maximum with their times. Measured on this machine against one row per sample
 * (`(series, t) WITHOUT ROWID`): rows insert ~1.5 M samples/s but need ~200 ms just to group one hour of
 * 250 Hz in SQL (530 ms to iterate it); chunks insert tens of millions of samples/s and read the hour in
 * ~10 ms. The per-chunk min/max lets a zoomed-out query skip the samples of every chunk that falls
 * inside one bucket, so a day costs about as much as an hour.
 *
 * Appends go to per-series buffers; a timer (FLUSH_INTERVAL_MS) writes them in one transaction, so a
 * crash loses at most the samples of the last interval, and WAL leaves the database clean. Retention
 * by age and by size runs on another timer in small deletes that yield to the event loop between them.
 */

/** Most samples in one chunk row. */
const MAX_CHUNK_SAMPLES = 2048
/** Most time one chunk covers; queries look this far before `from` for chunks that reach into the range. */
const MAX_CHUNK_SPAN_MS = 10_000
/** Written in one transaction this often (a kill -9 loses at most this much). */
const FLUSH_INTERVAL_MS = 250
/** Buffered samples that trigger a flush before the timer. */
const FLUSH_AT_SAMPLES = 200_000
/** Buffered samples kept while the database refuses writes; beyond them new samples are dropped and counted. */
const MAX_BUFFERED_SAMPLES = 5_000_000
/** The longest string value stored (an opaque resource in hex could be a firmware image). */
const MAX_STRING_LENGTH = 65_536
/** Per-row bookkeeping counted into the size budget next to the sample bytes. */
const ROW_OVERHEAD_BYTES = 64
/** Device times before 2000 or after 2200 are clock errors: the receive time is used instead. */
const SANE_TIME_MS = { min: 946_684_800_000, max: 7_258_118_400_000 }

/** How a chunk's values are stored. */
const Encoding = { f64: 0, i32: 1, json: 2 } as const

export interface HistoryOptions {
  /** Keep samples this long (by their time); default 30 days. */
  readonly maxAgeMs?: number
  /** Keep at most this many bytes of samples, dropping the oldest first; default 2 GiB. */
  readonly maxBytes?: number
  /** Write buffered samples this often; default 250 ms. */
  readonly flushIntervalMs?: number
  /** Enforce retention this often; default 10 s. 0 turns the timer off (call `enforceRetention`). */
  readonly retentionIntervalMs?: number
  /** Chunks deleted per step of retention before yielding; default 500. */
  readonly retentionBatch?: number
  /** The clock for retention by age (tests move it). */
  readonly now?: () => number
  /** A flush or retention step failed (the samples stay buffered and are retried); each distinct message once. */
  readonly onError?: (message: string) => void
}

export interface HistoryQuery {
  /** Milliseconds since the epoch; default `to` minus one hour. */
  readonly from?: number
  /** Milliseconds since the epoch; default now. */
  readonly to?: number
  /** Most points to answer; more samples than this are decimated to per-bucket min/max. */
  readonly maxPoints?: number
}

export interface HistoryStats {
  readonly bufferedSamples: number
  readonly storedBytes: number
  readonly storedSamples: number
  /** Values that are not storable: NaN or infinite numbers, over-long strings, bad paths. */
  readonly rejectedSamples: number
  /** Samples dropped because the database refused writes for too long. */
  readonly droppedSamples: number
  /** The failure of the last flush or retention step, until a flush succeeds. */
  readonly lastError?: string
}

export interface RetentionResult {
  readonly deletedChunks: number
  readonly deletedBytes: number
}

/** A page of raw samples in time order (the CSV export). */
export interface SamplePage {
  readonly times: number[]
  readonly values: HistoryValue[]
}

interface ChunkDataRow {
  id: number
  t_start: number
  count: number
  encoding: number
  times: Uint8Array
  vals: Uint8Array | null
  json: string | null
}

interface DecodedChunk {
  readonly tStart: number
  readonly offsets: Float32Array
  readonly numbers?: Int32Array | Float64Array
  readonly others?: readonly HistoryValue[]
}

const RESOURCE_TYPE_SET: ReadonlySet<string> = new Set(RESOURCE_TYPES)

/** Samples of one series waiting for the next flush; numbers in a typed array, others beside them. */
class SeriesBuffer {
  readonly endpoint: string
  readonly path: string
  id: number | undefined
  type: ResourceType | undefined
  times = new Float64Array(256)
  numbers = new Float64Array(256)
  /** Non-numeric values by index (their `numbers` slot is NaN). */
  others: Map<number, string | boolean> | undefined
  length = 0
  sorted = true

  constructor(endpoint: string, path: string) {
    this.endpoint = endpoint
    this.path = path
  }

  push(t: number, value: number | string | boolean): void {
    if (this.length === this.times.length) this.grow()
    const i = this.length++
    if (i > 0 && t < (this.times[i - 1] as number)) this.sorted = false
    this.times[i] = t
    if (typeof value === 'number') {
      this.numbers[i] = value
    } else {
      this.numbers[i] = NaN
      ;(this.others ??= new Map()).set(i, value)
    }
  }

  valueAt(i: number): HistoryValue {
    const n = this.numbers[i] as number
    return Number.isNaN(n) ? (this.others?.get(i) ?? '') : n
  }

  isNumeric(i: number): boolean {
    return !Number.isNaN(this.numbers[i] as number)
  }

  clear(): void {
    this.length = 0
    this.sorted = true
    this.others = undefined
    // Give back a burst's memory; keep a modest buffer for the steady state.
    if (this.times.length > 65_536) {
      this.times = new Float64Array(256)
      this.numbers = new Float64Array(256)
    }
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2)
    times.set(this.times)
    const numbers = new Float64Array(this.numbers.length * 2)
    numbers.set(this.numbers)
    this.times = times
    this.numbers = numbers
  }
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
}

/** A typed view of a BLOB, copied when SQLite's buffer is not aligned for it. */
function viewOf<T extends Float32Array | Int32Array | Float64Array>(blob: Uint8Array, count: number, Type: { new (buffer: ArrayBuffer, offset: number, length: number): T; BYTES_PER_ELEMENT: number }): T | undefined {
  if (blob.byteLength !== count * Type.BYTES_PER_ELEMENT) return undefined
  const aligned = blob.byteOffset % Type.BYTES_PER_ELEMENT === 0 ? blob : blob.slice()
  return new Type(aligned.buffer as ArrayBuffer, aligned.byteOffset, count)
}

function isHistoryValue(v: unknown): v is HistoryValue {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
}

/** Times to the microsecond: the Float32 offsets carry no more, and JSON stays short. */
function roundTime(t: number): number {
  return Math.round(t * 1000) / 1000
}

function decodeChunk(row: ChunkDataRow): DecodedChunk | undefined {
  const offsets = viewOf(row.times, row.count, Float32Array)
  if (!offsets) return undefined
  if (row.encoding === Encoding.json) {
    let parsed: unknown
    try {
      parsed = JSON.parse(row.json ?? '')
    } catch {
      return undefined
    }
    if (!Array.isArray(parsed) || parsed.length !== row.count || !parsed.every(isHistoryValue)) return undefined
    return { tStart: row.t_start, offsets, others: parsed }
  }
  if (!row.vals) return undefined
  const numbers = row.encoding === Encoding.i32 ? viewOf(row.vals, row.count, Int32Array) : viewOf(row.vals, row.count, Float64Array)
  return numbers ? { tStart: row.t_start, offsets, numbers } : undefined
}

/** Calls `each` for every sample of the chunk in [from, to]; answers how many. */
function forEachInRange(chunk: DecodedChunk, from: number, to: number, each: (t: number, v: HistoryValue) => void): number {
  let n = 0
  const { offsets, numbers, others, tStart } = chunk
  for (let i = 0; i < offsets.length; i++) {
    const t = tStart + (offsets[i] as number)
    if (t < from || t > to) continue
    each(t, numbers ? (numbers[i] as number) : (others?.[i] as HistoryValue))
    n++
  }
  return n
}

/** Indices 0..n-1 ordered by time, equal times in arrival order. */
function timeOrder(times: Float64Array, n: number): Uint32Array {
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  return order.sort((a, b) => (times[a] as number) - (times[b] as number) || a - b)
}

function fitsInt32(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if ((values[i] as number) !== ((values[i] as number) | 0) || Object.is(values[i], -0)) return false
  return true
}

export class HistoryStore {
  private readonly db: DatabaseSync
  private readonly maxAgeMs: number
  private readonly maxBytes: number
  private readonly retentionBatch: number
  private readonly now: () => number
  private readonly onError: ((message: string) => void) | undefined
  private readonly buffers = new Map<string, SeriesBuffer>()
  private readonly flushTimer: ReturnType<typeof setInterval>
  private readonly retentionTimer: ReturnType<typeof setInterval> | undefined
  private buffered = 0
  private storedBytes: number
  private storedSamples: number
  private rejected = 0
  private dropped = 0
  private lastError: string | undefined
  private retentionRunning = false
  private closed = false

  private readonly upsertSeries: StatementSync
  private readonly touchSeries: StatementSync
  private readonly findSeries: StatementSync
  private readonly insertChunk: StatementSync
  private readonly countInside: StatementSync
  private readonly edgeChunks: StatementSync
  private readonly bucketMinima: StatementSync
  private readonly bucketMaxima: StatementSync
  private readonly unsummarised: StatementSync
  private readonly chunksInRange: StatementSync
  private readonly chunkPage: StatementSync
  private readonly deleteOlderThan: StatementSync
  private readonly oldestChunks: StatementSync
  private readonly deleteIds: StatementSync

  constructor(db: DatabaseSync, options: HistoryOptions = {}) {
    this.db = db
    this.maxAgeMs = options.maxAgeMs ?? 30 * 86_400_000
    this.maxBytes = options.maxBytes ?? 2 * 1024 ** 3
    this.retentionBatch = Math.max(1, options.retentionBatch ?? 500)
    this.now = options.now ?? Date.now
    this.onError = options.onError

    this.upsertSeries = db.prepare(
      `INSERT INTO history_series (endpoint, path, type) VALUES (?, ?, ?)
       ON CONFLICT(endpoint, path) DO UPDATE SET type = COALESCE(excluded.type, history_series.type) RETURNING id`,
    )
    this.touchSeries = db.prepare('UPDATE history_series SET last_time = MAX(COALESCE(last_time, ?), ?), type = COALESCE(?, type) WHERE id = ?')
    this.findSeries = db.prepare('SELECT id, type FROM history_series WHERE endpoint = ? AND path = ?')
    this.insertChunk = db.prepare(
      `INSERT INTO history_chunks (series_id, t_start, t_end, count, encoding, v_min, t_at_min, v_max, t_at_max, bytes, times, vals, json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const inRange = 'series_id = ? AND t_start BETWEEN ? AND ? AND t_end >= ?'
    this.countInside = db.prepare(`SELECT COALESCE(SUM(count), 0) AS n FROM history_chunks WHERE ${inRange} AND t_start >= ? AND t_end <= ?`)
    this.edgeChunks = db.prepare(`SELECT id, t_start, count, encoding, times, vals, json FROM history_chunks WHERE ${inRange} AND (t_start < ? OR t_end > ?)`)
    // Chunks wholly inside [from, to] and inside one bucket are reduced in SQL from their stored
    // extremes (the covering index has them); only the others are read sample by sample.
    const bucket = (column: string): string => `MIN(CAST((${column} - $from) * $perMs AS INTEGER), $last)`
    const oneBucket = `t_start >= $from AND t_end <= $to AND encoding != ${Encoding.json} AND ${bucket('t_start')} = ${bucket('t_end')}`
    const summarised = `FROM history_chunks WHERE series_id = $id AND t_start BETWEEN $from AND $to AND ${oneBucket} GROUP BY ${bucket('t_start')}`
    // A single min() or max() makes SQLite take the bare column (its time) from the row that holds it.
    this.bucketMinima = db.prepare(`SELECT MIN(v_min) AS v, t_at_min AS t, SUM(count) AS n ${summarised}`)
    this.bucketMaxima = db.prepare(`SELECT MAX(v_max) AS v, t_at_max AS t ${summarised}`)
    this.unsummarised = db.prepare(
      `SELECT id, t_start, count, encoding, times, vals, json FROM history_chunks
       WHERE series_id = $id AND t_start BETWEEN $lower AND $to AND t_end >= $from AND NOT (${oneBucket})`,
    )
    this.chunksInRange = db.prepare(`SELECT id, t_start, count, encoding, times, vals, json FROM history_chunks WHERE ${inRange} ORDER BY t_start, id`)
    this.chunkPage = db.prepare(
      `SELECT id, t_start, count, encoding, times, vals, json FROM history_chunks WHERE ${inRange} AND (t_start, id) > (?, ?) ORDER BY t_start, id LIMIT ?`,
    )
    this.deleteOlderThan = db.prepare('DELETE FROM history_chunks WHERE id IN (SELECT id FROM history_chunks WHERE t_end < ? ORDER BY t_end LIMIT ?) RETURNING bytes, count')
    this.oldestChunks = db.prepare('SELECT id, bytes FROM history_chunks ORDER BY t_end LIMIT ?')
    this.deleteIds = db.prepare('DELETE FROM history_chunks WHERE id IN (SELECT value FROM json_each(?)) RETURNING bytes, count')

    const totals = db.prepare('SELECT COALESCE(SUM(bytes), 0) AS bytes, COALESCE(SUM(count), 0) AS samples FROM history_chunks').get() as { bytes: number; samples: number }
    this.storedBytes = totals.bytes
    this.storedSamples = totals.samples

    this.flushTimer = setInterval(() => this.flush(), options.flushIntervalMs ?? FLUSH_INTERVAL_MS)
    this.flushTimer.unref()
    const retentionMs = options.retentionIntervalMs ?? 10_000
    if (retentionMs > 0) {
      this.retentionTimer = setInterval(() => void this.enforceRetention(), retentionMs)
      this.retentionTimer.unref()
    }
  }

  // ---- writing ----------------------------------------------------------------------------------

  /**
   * Appends the values of a notification or Send: each at its device time (`time`, seconds) where it
   * has a sane one, else at `receivedAt` (ms). Answers how many were taken; the rest are counted as rejected.
   */
  appendRecords(endpoint: string, records: readonly RecordJson[], receivedAt: number): number {
    let taken = 0
    let buffer: SeriesBuffer | undefined
    for (const r of records) {
      // An ECG batch is many records of one path: look the series up once per run.
      if (buffer === undefined || buffer.path !== r.path) buffer = this.bufferFor(endpoint, r.path)
      const deviceTime = typeof r.time === 'number' ? r.time * 1000 : NaN
      const t = deviceTime >= SANE_TIME_MS.min && deviceTime <= SANE_TIME_MS.max ? deviceTime : receivedAt
      if (this.pushSample(buffer, t, r.value, r.type)) taken++
    }
    return taken
  }

  /** Appends one value at `t` (ms since the epoch). False when it is not storable. */
  append(endpoint: string, path: string, t: number, value: unknown, type?: string): boolean {
    return this.pushSample(this.bufferFor(endpoint, path), t, value, type)
  }

  private bufferFor(endpoint: string, path: string): SeriesBuffer | undefined {
    const key = `${endpoint}\u0000${path}`
    const held = this.buffers.get(key)
    if (held) return held
    if (typeof endpoint !== 'string' || endpoint.length === 0 || endpoint.length > 256) return undefined
    const parsed = typeof path === 'string' ? tryParsePath(path) : undefined
    // Values live at resources and resource instances; a bad path is refused, not stored under a guess.
    if (!parsed || pathDepth(parsed) < 3 || formatPath(parsed) !== path) return undefined
    const created = new SeriesBuffer(endpoint, path)
    this.buffers.set(key, created)
    return created
  }

  private pushSample(buffer: SeriesBuffer | undefined, t: number, value: unknown, type: string | undefined): boolean {
    const storable =
      buffer !== undefined &&
      Number.isFinite(t) &&
      (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value.length <= MAX_STRING_LENGTH))
    if (!storable) {
      this.rejected++
      return false
    }
    if (this.buffered >= MAX_BUFFERED_SAMPLES) {
      this.dropped++
      return false
    }
    buffer.push(t, value as number | string | boolean)
    if (type !== undefined && RESOURCE_TYPE_SET.has(type)) buffer.type = type as ResourceType
    if (++this.buffered >= FLUSH_AT_SAMPLES) this.flush()
    return true
  }

  /** Writes every buffered sample in one transaction. On failure they stay buffered for the next try. */
  flush(): void {
    if (this.buffered === 0 || this.closedDb()) return
    let bytes = 0
    let samples = 0
    const created: SeriesBuffer[] = []
    try {
      this.db.exec('BEGIN IMMEDIATE')
      for (const buffer of this.buffers.values()) {
        if (buffer.length === 0) continue
        if (buffer.id === undefined) {
          buffer.id = (this.upsertSeries.get(buffer.endpoint, buffer.path, buffer.type ?? null) as { id: number }).id
          created.push(buffer)
        }
        bytes += this.writeSeries(buffer, buffer.id)
        samples += buffer.length
      }
      this.db.exec('COMMIT')
    } catch (e) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK')
      // The ids came from the rolled-back transaction.
      for (const buffer of created) buffer.id = undefined
      this.report(`history: writing samples failed, keeping them in memory to retry: ${(e as Error).message}`)
      return
    }
    for (const buffer of this.buffers.values()) buffer.clear()
    this.buffered = 0
    this.lastError = undefined
    this.storedBytes += bytes
    this.storedSamples += samples
  }

  /** Cuts a series' buffer into chunks (time order, same kind of value, bounded count and span); answers the bytes written. */
  private writeSeries(buffer: SeriesBuffer, seriesId: number): number {
    const n = buffer.length
    const order = buffer.sorted ? undefined : timeOrder(buffer.times, n)
    const at = (k: number): number => (order ? (order[k] as number) : k)
    let bytes = 0
    let lastTime = -Infinity
    for (let start = 0; start < n; ) {
      const first = at(start)
      const tStart = buffer.times[first] as number
      const numeric = buffer.isNumeric(first)
      let end = start + 1
      while (end < n && end - start < MAX_CHUNK_SAMPLES) {
        const k = at(end)
        if ((buffer.times[k] as number) - tStart > MAX_CHUNK_SPAN_MS || buffer.isNumeric(k) !== numeric) break
        end++
      }
      const indices = Array.from({ length: end - start }, (_, j) => at(start + j))
      bytes += this.writeChunk(buffer, seriesId, indices, numeric)
      lastTime = Math.max(lastTime, buffer.times[at(end - 1)] as number)
      start = end
    }
    this.touchSeries.run(lastTime, lastTime, buffer.type ?? null, seriesId)
    return bytes
  }

  private writeChunk(buffer: SeriesBuffer, seriesId: number, indices: readonly number[], numeric: boolean): number {
    const count = indices.length
    const tStart = buffer.times[indices[0] as number] as number
    const offsets = new Float32Array(count)
    for (let j = 0; j < count; j++) offsets[j] = (buffer.times[indices[j] as number] as number) - tStart
    const tEnd = tStart + (offsets[count - 1] as number)
    const timesBlob = bytesOf(offsets)
    if (!numeric) {
      const json = JSON.stringify(indices.map((i) => buffer.valueAt(i)))
      const size = timesBlob.byteLength + Buffer.byteLength(json) + ROW_OVERHEAD_BYTES
      this.insertChunk.run(seriesId, tStart, tEnd, count, Encoding.json, null, null, null, null, size, timesBlob, null, json)
      return size
    }
    const values = new Float64Array(count)
    let lo = 0
    let hi = 0
    for (let j = 0; j < count; j++) {
      const v = buffer.numbers[indices[j] as number] as number
      values[j] = v
      if (v < (values[lo] as number)) lo = j
      if (v > (values[hi] as number)) hi = j
    }
    const asInt = fitsInt32(values)
    const valuesBlob = bytesOf(asInt ? Int32Array.from(values) : values)
    const size = timesBlob.byteLength + valuesBlob.byteLength + ROW_OVERHEAD_BYTES
    this.insertChunk.run(
      seriesId, tStart, tEnd, count, asInt ? Encoding.i32 : Encoding.f64,
      values[lo] as number, tStart + (offsets[lo] as number), values[hi] as number, tStart + (offsets[hi] as number),
      size, timesBlob, valuesBlob, null,
    )
    return size
  }

  // ---- reading ----------------------------------------------------------------------------------

  /**
   * Samples of one resource in [from, to]: all of them when they are no more than `maxPoints`, else
   * per-bucket min and max (maxPoints/2 buckets), so the answer stays small whatever the range.
   */
  query(endpoint: string, path: string, options: HistoryQuery = {}): Result<HistoryResult> {
    const checked = this.checkRange(endpoint, path, options)
    if (!checked.ok) return checked
    const { from, to, maxPoints } = checked.value
    const normalized = checked.value.path
    this.flush()
    const series = this.findSeries.get(endpoint, normalized) as { id: number; type: string | null } | undefined
    const head = { endpoint, path: normalized, from, to, ...(series?.type ? { type: series.type } : {}) }
    if (!series) return ok({ ...head, total: 0, decimated: false, times: [], values: [] })
    const range = [series.id, from - MAX_CHUNK_SPAN_MS, to, from] as const
    if (this.countInRange(range, from, to) <= maxPoints) {
      const samples: SamplePage = { times: [], values: [] }
      for (const row of this.chunksInRange.iterate(...range) as Iterable<ChunkDataRow>) this.collect(row, from, to, samples)
      const sorted = sortPage(samples)
      return ok({ ...head, total: sorted.times.length, decimated: false, times: sorted.times.map(roundTime), values: sorted.values })
    }
    const buckets = new MinMaxBuckets(from, to, Math.floor(maxPoints / 2))
    const params = { id: series.id, from, to, perMs: buckets.perMs, last: buckets.count - 1 }
    let total = 0
    for (const m of this.bucketMinima.all(params) as { v: number; t: number; n: number }[]) {
      buckets.add(m.t, m.v)
      total += m.n
    }
    for (const m of this.bucketMaxima.all(params) as { v: number; t: number }[]) buckets.add(m.t, m.v)
    const add = (t: number, v: HistoryValue): void => (typeof v === 'number' ? buckets.add(t, v) : buckets.addOther(t, v))
    for (const row of this.unsummarised.iterate({ ...params, lower: from - MAX_CHUNK_SPAN_MS }) as Iterable<ChunkDataRow>) {
      const chunk = decodeChunk(row)
      if (chunk) total += forEachInRange(chunk, from, to, add)
    }
    const points = buckets.points()
    return ok({ ...head, total, decimated: true, bucketMs: buckets.bucketMs, times: points.times.map(roundTime), values: points.values })
  }

  /**
   * Every sample of one resource in [from, to], in time order, a page at a time (for streaming: no
   * cursor stays open between pages, so writes go on meanwhile). Validate with `checkRange` first.
   */
  *samples(endpoint: string, path: string, from: number, to: number, chunksPerPage = 256): Generator<SamplePage> {
    this.flush()
    const series = this.findSeries.get(endpoint, path) as { id: number } | undefined
    if (!series) return
    let after: [number, number] = [-Infinity, 0]
    let carry: SamplePage = { times: [], values: [] }
    for (;;) {
      const rows = this.chunkPage.all(series.id, from - MAX_CHUNK_SPAN_MS, to, from, after[0], after[1], chunksPerPage) as unknown as ChunkDataRow[]
      for (const row of rows) this.collect(row, from, to, carry)
      const last = rows.at(-1)
      if (!last || rows.length < chunksPerPage) break
      after = [last.t_start, last.id]
      // Later chunks start at or after this one: samples before its start are final.
      const sorted = sortPage(carry)
      const cut = lowerBound(sorted.times, last.t_start)
      carry = { times: sorted.times.slice(cut), values: sorted.values.slice(cut) }
      if (cut > 0) yield { times: sorted.times.slice(0, cut).map(roundTime), values: sorted.values.slice(0, cut) }
    }
    const rest = sortPage(carry)
    if (rest.times.length > 0) yield { times: rest.times.map(roundTime), values: rest.values }
  }

  /** Samples in [from, to]: chunks inside by their count, the few at the edges sample by sample. */
  private countInRange(range: readonly [number, number, number, number], from: number, to: number): number {
    let n = (this.countInside.get(...range, from, to) as { n: number }).n
    for (const row of this.edgeChunks.iterate(...range, from, to) as Iterable<ChunkDataRow>) {
      const chunk = decodeChunk(row)
      if (chunk) n += forEachInRange(chunk, from, to, () => undefined)
    }
    return n
  }

  private collect(row: ChunkDataRow, from: number, to: number, into: SamplePage): void {
    const chunk = decodeChunk(row)
    if (!chunk) return
    forEachInRange(chunk, from, to, (t, v) => {
      into.times.push(t)
      into.values.push(v)
    })
  }

  /** Validates and completes a query: a resource path, finite times with from ≤ to, maxPoints in range. */
  checkRange(endpoint: string, path: string, options: HistoryQuery = {}): Result<{ path: string; from: number; to: number; maxPoints: number }> {
    if (typeof endpoint !== 'string' || endpoint.length === 0) return fail('invalid_input', 'history: the endpoint is empty')
    const parsed = typeof path === 'string' ? tryParsePath(path) : undefined
    if (!parsed || pathDepth(parsed) < 3) return fail('invalid_input', `history: "${String(path)}" is not a resource path such as /3303/0/5700`)
    for (const key of ['from', 'to', 'maxPoints'] as const) {
      const v = options[key]
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) return fail('invalid_input', `history: ${key} must be a finite number`)
    }
    const to = options.to ?? (options.from !== undefined ? Math.max(options.from, this.now()) : this.now())
    const from = options.from ?? to - HISTORY_DEFAULT_SPAN_MS
    if (from > to) return fail('invalid_input', `history: from (${from}) is after to (${to})`)
    const maxPoints = options.maxPoints ?? HISTORY_DEFAULT_POINTS
    if (!Number.isInteger(maxPoints) || maxPoints < 2 || maxPoints > HISTORY_MAX_POINTS) return fail('invalid_input', `history: maxPoints must be a whole number from 2 to ${HISTORY_MAX_POINTS}`)
    return ok({ path: formatPath(parsed), from, to, maxPoints })
  }

  /** The resources with stored samples, of one endpoint or of all. */
  series(endpoint?: string): HistorySeries[] {
    this.flush()
    const rows = this.db
      .prepare(
        `SELECT s.endpoint, s.path, s.type, s.last_time,
                (SELECT MIN(c.t_start) FROM history_chunks c WHERE c.series_id = s.id) AS first_time
         FROM history_series s ${endpoint === undefined ? '' : 'WHERE s.endpoint = ?'} ORDER BY s.endpoint, s.path`,
      )
      .all(...(endpoint === undefined ? [] : [endpoint])) as { endpoint: string; path: string; type: string | null; last_time: number | null; first_time: number | null }[]
    return rows
      .filter((r) => r.first_time !== null && r.last_time !== null)
      .map((r) => ({ endpoint: r.endpoint, path: r.path, ...(r.type ? { type: r.type } : {}), firstTime: roundTime(r.first_time as number), lastTime: roundTime(r.last_time as number) }))
  }

  // ---- retention --------------------------------------------------------------------------------

  /**
   * Deletes chunks older than the age limit, then the oldest chunks while the size is over its limit,
   * a batch per transaction with a turn of the event loop between batches.
   */
  async enforceRetention(): Promise<RetentionResult> {
    let deletedChunks = 0
    let deletedBytes = 0
    if (this.retentionRunning) return { deletedChunks, deletedBytes }
    this.retentionRunning = true
    const account = (rows: { bytes: number; count: number }[]): number => {
      for (const r of rows) {
        deletedBytes += r.bytes
        this.storedBytes -= r.bytes
        this.storedSamples -= r.count
      }
      deletedChunks += rows.length
      return rows.length
    }
    try {
      const cutoff = this.now() - this.maxAgeMs
      while (!this.closedDb()) {
        const n = account(this.deleteOlderThan.all(cutoff, this.retentionBatch) as unknown as { bytes: number; count: number }[])
        if (n < this.retentionBatch) break
        await turn()
      }
      while (!this.closedDb() && this.storedBytes > this.maxBytes) {
        let excess = this.storedBytes - this.maxBytes
        const ids: number[] = []
        for (const row of this.oldestChunks.all(this.retentionBatch) as { id: number; bytes: number }[]) {
          if (excess <= 0) break
          ids.push(row.id)
          excess -= row.bytes
        }
        if (ids.length === 0 || account(this.deleteIds.all(JSON.stringify(ids)) as unknown as { bytes: number; count: number }[]) === 0) break
        await turn()
      }
    } catch (e) {
      this.report(`history: retention failed: ${(e as Error).message}`)
    } finally {
      this.retentionRunning = false
    }
    return { deletedChunks, deletedBytes }
  }

  stats(): HistoryStats {
    return {
      bufferedSamples: this.buffered,
      storedBytes: this.storedBytes,
      storedSamples: this.storedSamples,
      rejectedSamples: this.rejected,
      droppedSamples: this.dropped,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    }
  }

  /** Writes what is buffered and stops the timers; the database stays open (its owner closes it). */
  close(): void {
    if (this.closed) return
    clearInterval(this.flushTimer)
    if (this.retentionTimer) clearInterval(this.retentionTimer)
    this.flush()
    this.closed = true
  }

  private closedDb(): boolean {
    return this.closed || !this.db.isOpen
  }

  /** Each distinct failure once: a full disk would otherwise repeat it every flush. */
  private report(message: string): void {
    if (message !== this.lastError) this.onError?.(message)
    this.lastError = message
  }
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** The page in time order (stable: equal times keep their stored order). */
function sortPage(page: SamplePage): SamplePage {
  const { times, values } = page
  let sorted = true
  for (let i = 1; i < times.length && sorted; i++) if ((times[i] as number) < (times[i - 1] as number)) sorted = false
  if (sorted) return page
  const order = timeOrder(Float64Array.from(times), times.length)
  return { times: Array.from(order, (i) => times[i] as number), values: Array.from(order, (i) => values[i] as HistoryValue) }
}

/** The first index whose time is at least `t` (times ascending). */
function lowerBound(times: readonly number[], t: number): number {
  let lo = 0
  let hi = times.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((times[mid] as number) < t) lo = mid + 1
    else hi = mid
  }
  return lo
}
