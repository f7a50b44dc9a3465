import { describe, expect, it } from 'vitest'
import { UPDATE_STATES, type UpdateStatus } from '../../../shared/api/update-schemas.ts'
import { updateView } from './update.ts'

const base: UpdateStatus = { state: 'idle', currentVersion: '0.1.0', checkOnStart: false }

describe('the update as the About view shows it', () => {
  it('offers the one next step of each state', () => {
    const actions = Object.fromEntries(UPDATE_STATES.map((state) => [state, updateView({ ...base, state, availableVersion: '0.2.0' }).action]))
    expect(actions).toEqual({ unsupported: 'none', idle: 'check', checking: 'none', 'not-available': 'check', available: 'download', downloading: 'none', downloaded: 'install', error: 'download' })
    expect(updateView({ ...base, state: 'error', detail: 'offline' })).toEqual({ headline: 'The update failed: offline.', action: 'check' })
  })

  it('shows the download in percent and megabytes', () => {
    const view = updateView({ ...base, state: 'downloading', availableVersion: '0.2.0', progress: { percent: 41.6, transferredBytes: 35_400_000, totalBytes: 85_000_000, bytesPerSecond: 2_100_000 } })
    expect(view).toEqual({ headline: 'Downloading version 0.2.0… 42 %', action: 'none', percent: 42, transfer: '35.4 of 85.0 MB · 2.1 MB/s' })
    expect(updateView({ ...base, state: 'downloading', progress: { percent: 0, transferredBytes: 0, totalBytes: 0, bytesPerSecond: 0 } })).toEqual({ headline: 'Downloading the new version… 0 %', action: 'none', percent: 0 })
  })

  it('says why a copy cannot update itself', () => {
    expect(updateView({ ...base, state: 'unsupported', detail: 'installed as a deb package: the package manager updates it' }).headline).toBe(
      'Updates are not available here: installed as a deb package: the package manager updates it.',
    )
  })
})
