import { z } from 'zod'

/**
 * The desktop app's self-update (electron-updater, from the GitHub releases). Only the Electron main
 * process has an updater: `objecttwin serve` and the HTTP API answer its methods with `unavailable`.
 */

/**
 * - `unsupported`: this copy cannot update itself (a development build, a deb the package manager
 *   owns, a build without an update feed); `detail` says which.
 * - `idle` → `checking` → `available` | `not-available` → (download) `downloading` → `downloaded`
 *   (installed on quit, or at once by `installUpdate`); `error` keeps the last failure in `detail`.
 */
export const UPDATE_STATES = ['unsupported', 'idle', 'checking', 'available', 'not-available', 'downloading', 'downloaded', 'error'] as const
export const UpdateState = z.enum(UPDATE_STATES)
export type UpdateState = z.infer<typeof UpdateState>

export const UpdateProgress = z.object({
  percent: z.number().min(0).max(100),
  transferredBytes: z.number().min(0),
  totalBytes: z.number().min(0),
  bytesPerSecond: z.number().min(0),
})
export type UpdateProgress = z.infer<typeof UpdateProgress>

export const UpdateStatus = z.object({
  state: UpdateState,
  /** The running app's version. */
  currentVersion: z.string(),
  /** The newer release a check found (kept while it downloads and once downloaded). */
  availableVersion: z.string().optional(),
  /** Its publication date (ISO 8601), as the release feed gives it. */
  releaseDate: z.string().optional(),
  /** While downloading, and 100 % once downloaded. */
  progress: UpdateProgress.optional(),
  /** Why updates are unsupported here, or the last failure. */
  detail: z.string().optional(),
  /** Check for a new release each time the app starts (opt-in; stored by the app in userData). */
  checkOnStart: z.boolean(),
  /** When the last check finished (ms since the epoch). */
  lastCheckedAt: z.number().optional(),
})
export type UpdateStatus = z.infer<typeof UpdateStatus>

export const UpdatePreferences = z.object({ checkOnStart: z.boolean() }).strict()
export type UpdatePreferences = z.infer<typeof UpdatePreferences>
