import type { UpdateStatus } from '../../../shared/api/update-schemas.ts'

/** What the About view offers next for the desktop app's update. */
export type UpdateAction = 'check' | 'download' | 'install' | 'none'

export interface UpdateView {
  /** One line: what the updater is doing or found. */
  readonly headline: string
  readonly action: UpdateAction
  /** 0–100 while downloading. */
  readonly percent?: number
  /** "12.3 of 85.0 MB · 2.1 MB/s" while downloading. */
  readonly transfer?: string
}

const MB = 1_000_000

function megabytes(bytes: number): string {
  return (bytes / MB).toFixed(1)
}

/** The status as the About view shows it: a headline, the one button that makes sense now, and the download's progress. */
export function updateView(status: UpdateStatus): UpdateView {
  const version = status.availableVersion ? `version ${status.availableVersion}` : 'the new version'
  switch (status.state) {
    case 'unsupported':
      return { headline: `Updates are not available here: ${status.detail ?? 'this copy cannot update itself'}.`, action: 'none' }
    case 'idle':
      return { headline: 'Not checked for updates yet.', action: 'check' }
    case 'checking':
      return { headline: 'Checking for updates…', action: 'none' }
    case 'not-available':
      return { headline: `Version ${status.currentVersion} is the newest.`, action: 'check' }
    case 'available':
      return { headline: `Update available: ${version} (this is ${status.currentVersion}).`, action: 'download' }
    case 'downloading': {
      const p = status.progress
      const percent = Math.round(p?.percent ?? 0)
      const transfer = p && p.totalBytes > 0 ? `${megabytes(p.transferredBytes)} of ${megabytes(p.totalBytes)} MB · ${megabytes(p.bytesPerSecond)} MB/s` : undefined
      return { headline: `Downloading ${version}… ${percent} %`, action: 'none', percent, ...(transfer ? { transfer } : {}) }
    }
    case 'downloaded':
      return { headline: `Update ready: ${version} installs when the app quits, or now with a restart.`, action: 'install', percent: 100 }
    case 'error':
      // After a failed download the found version is still there to fetch again; otherwise check again.
      return { headline: `The update failed: ${status.detail ?? 'unknown error'}.`, action: status.availableVersion ? 'download' : 'check' }
  }
}
