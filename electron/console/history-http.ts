import { Readable } from 'node:stream'
import { fail, ok, type Result } from '../../shared/api/result.ts'
import type { HistoryQuery, SamplePage } from '../store/history-store.ts'
import { csvChunks } from './history-csv.ts'

/** The history routes' query string: times in ms since the epoch or ISO 8601, maxPoints a whole number. */
export function historyQueryFrom(query: Readonly<Record<string, string | undefined>>): Result<HistoryQuery> {
  const out: { from?: number; to?: number; maxPoints?: number } = {}
  for (const key of ['from', 'to'] as const) {
    const raw = query[key]
    if (raw === undefined || raw === '') continue
    const t = parseTime(raw)
    if (t === undefined) return fail('invalid_input', `${key} must be milliseconds since the epoch or an ISO 8601 time such as 2026-01-01T10:00:00Z, not "${raw.slice(0, 64)}"`)
    out[key] = t
  }
  const points = query['maxPoints']
  if (points !== undefined && points !== '') {
    if (!/^\d{1,9}$/.test(points)) return fail('invalid_input', `maxPoints must be a whole number, not "${points.slice(0, 64)}"`)
    out.maxPoints = Number(points)
  }
  if (out.from !== undefined && out.to !== undefined && out.from > out.to) return fail('invalid_input', `from (${new Date(out.from).toISOString()}) is after to (${new Date(out.to).toISOString()})`)
  return ok(out)
}

function parseTime(raw: string): number | undefined {
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw)
  // Only full dates: Date.parse would also take "5" or "May" and guess.
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw)) return undefined
  const t = Date.parse(raw)
  return Number.isFinite(t) ? t : undefined
}

/** The CSV of history-csv.ts, streamed a page at a time (an export of any size). */
export function csvStream(pages: Iterable<SamplePage>): Readable {
  return Readable.from(csvChunks(pages), { objectMode: false })
}
