import { z } from 'zod'
import { RESOURCE_TYPES } from '../lwm2m/values.ts'

/**
 * The value history (electron/store/history-store.ts) as the API answers it. Times are milliseconds
 * since the epoch: the device's time where the payload carried one, else when the console received it.
 */

/** Most points one query may ask for; raw samples in bulk go through the CSV export. */
export const HISTORY_MAX_POINTS = 100_000
/** Points when the caller does not say (about a chart's width in min/max pairs). */
export const HISTORY_DEFAULT_POINTS = 2000
/** The range when the caller gives neither end: the last hour. */
export const HISTORY_DEFAULT_SPAN_MS = 3_600_000
/**
 * Most samples one exportHistoryCsv answer carries (about 7 MB of CSV): it crosses IPC as one string.
 * The streamed REST route (`…/history.csv`) has no such ceiling.
 */
export const HISTORY_CSV_MAX_SAMPLES = 200_000

export const HistoryValue = z.union([z.number(), z.string(), z.boolean()])

export const HistoryResult = z.object({
  endpoint: z.string(),
  path: z.string(),
  from: z.number(),
  to: z.number(),
  /** Samples stored in [from, to]. */
  total: z.number().int().min(0),
  /** True when `times`/`values` are per-bucket minima and maxima rather than every sample. */
  decimated: z.boolean(),
  /** Width of one bucket when decimated. */
  bucketMs: z.number().optional(),
  /** The resource type last seen for this series. */
  type: z.enum(RESOURCE_TYPES as [string, ...string[]]).optional(),
  /** Ascending; `values[i]` was taken at `times[i]`. */
  times: z.array(z.number()),
  values: z.array(HistoryValue),
})
export type HistoryResult = z.infer<typeof HistoryResult>

/** One resource with stored samples. */
export const HistorySeries = z.object({
  endpoint: z.string(),
  path: z.string(),
  type: z.enum(RESOURCE_TYPES as [string, ...string[]]).optional(),
  firstTime: z.number(),
  lastTime: z.number(),
})
export type HistorySeries = z.infer<typeof HistorySeries>

/** Every sample of a range as CSV text (`time,value`, ISO times), with the file name to save it under. */
export const HistoryCsv = z.object({
  filename: z.string(),
  samples: z.number().int().min(0),
  csv: z.string(),
})
export type HistoryCsv = z.infer<typeof HistoryCsv>
