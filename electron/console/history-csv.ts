import { HISTORY_CSV_MAX_SAMPLES, type HistoryCsv } from '../../shared/api/history-schemas.ts'
import { fail, ok, type Result } from '../../shared/api/result.ts'
import type { SamplePage } from '../store/history-store.ts'
import type { HistoryValue } from '../store/min-max-buckets.ts'

/**
 * The one CSV writer of the value history: `time,value` lines (ISO time, ms precision). The REST
 * route streams it a page at a time (history-http.ts); the API method exportHistoryCsv answers it as
 * one string, which is why that form has a ceiling.
 */

const HEADER = 'time,value\n'

/** A CSV field: strings quoted, and those a spreadsheet would run as a formula defused. */
function csvValue(v: HistoryValue): string {
  if (typeof v !== 'string') return String(v)
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v
  return `"${safe.replaceAll('"', '""')}"`
}

function csvLines(page: SamplePage): string {
  let text = ''
  for (let i = 0; i < page.times.length; i++) text += `${new Date(page.times[i] as number).toISOString()},${csvValue(page.values[i] as HistoryValue)}\n`
  return text
}

/** The header, then one piece of text per page. */
export function* csvChunks(pages: Iterable<SamplePage>): Generator<string> {
  yield HEADER
  for (const page of pages) yield csvLines(page)
}

/** "ecg-7_1031_0_1.csv": safe in a Content-Disposition header and as a file name. */
export function csvFileName(endpoint: string, path: string): string {
  return `${endpoint}${path.replaceAll('/', '_')}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 120) + '.csv'
}

/**
 * The whole CSV of one resource's samples as one string (exportHistoryCsv). Past `maxSamples` it is
 * refused rather than cut short: a partial export would pass for a complete one.
 */
export function historyCsv(endpoint: string, path: string, pages: Iterable<SamplePage>, maxSamples = HISTORY_CSV_MAX_SAMPLES): Result<HistoryCsv> {
  const parts = [HEADER]
  let samples = 0
  for (const page of pages) {
    samples += page.times.length
    if (samples > maxSamples) {
      return fail('invalid_input', `exportHistoryCsv: ${endpoint} ${path} has more than ${maxSamples.toLocaleString('en')} samples in this range, more than one export carries: narrow the range (zoom in) and export it in parts`)
    }
    parts.push(csvLines(page))
  }
  return ok({ filename: csvFileName(endpoint, path), samples, csv: parts.join('') })
}
