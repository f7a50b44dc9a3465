import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { ShellHandlers } from '../console/api-dispatch.ts'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import { fail, ok, type Result } from '../../shared/api/result.ts'
import { UpdatePreferences, type UpdateProgress, type UpdateStatus } from '../../shared/api/update-schemas.ts'

/**
 * The desktop app's self-update over electron-updater (GitHub releases, as build/electron-builder.yml
 * publishes them): checks on demand and, when the user opted in, at start; downloads on request with
 * progress as `update` events; installs on quit (or at once, restarting). Free of Electron: index.ts
 * hands in electron-updater's `autoUpdater`, tests a stand-in.
 */

/** What the updater says, as electron-updater emits it (only the fields used here). */
export interface UpdaterEvents {
  'checking-for-update': () => void
  'update-available': (info: { version: string; releaseDate?: string }) => void
  'update-not-available': (info: { version: string }) => void
  'download-progress': (progress: { percent: number; transferred: number; total: number; bytesPerSecond: number }) => void
  'update-downloaded': (info: { version: string; releaseDate?: string }) => void
  error: (error: Error) => void
}

/** The part of electron-updater's `autoUpdater` (AppUpdater) this module drives. */
export interface AutoUpdaterLike {
  autoDownload: boolean
  autoInstallOnAppQuit: boolean
  on<E extends keyof UpdaterEvents>(event: E, listener: UpdaterEvents[E]): unknown
  checkForUpdates(): Promise<unknown>
  downloadUpdate(): Promise<unknown>
  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void
}

export type UpdateSupport = { readonly supported: true } | { readonly supported: false; readonly reason: string }

/** What decides whether this copy of the app can update itself. */
export interface UpdateHost {
  readonly isPackaged: boolean
  readonly platform: NodeJS.Platform
  /** Electron's process.resourcesPath: app.asar, app-update.yml and (Linux packages) package-type sit there. */
  readonly resourcesPath: string | undefined
  readonly env: Readonly<Record<string, string | undefined>>
  readonly readText?: (file: string) => string | undefined
}

function readTextFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/**
 * Whether the running app may update itself: only an installed build with an update feed
 * (electron-builder writes `app-update.yml` when it publishes). On Linux only the AppImage: a deb
 * (electron-builder writes `package-type` = `deb`) belongs to the package manager, which updates it.
 */
export function updateSupport(host: UpdateHost): UpdateSupport {
  const read = host.readText ?? readTextFile
  if (!host.isPackaged || !host.resourcesPath) return { supported: false, reason: 'this is a development build (npm start); only an installed app updates itself' }
  if (read(join(host.resourcesPath, 'app-update.yml')) === undefined) return { supported: false, reason: 'this build has no update feed (app-update.yml is missing from its resources)' }
  if (host.platform !== 'linux') return { supported: true }
  const packageType = read(join(host.resourcesPath, 'package-type'))?.trim()
  if (packageType) return { supported: false, reason: `installed as a ${packageType} package: the package manager updates it (e.g. sudo apt install ./objecttwin-console_<version>_amd64.deb)` }
  if (!host.env['APPIMAGE']) return { supported: false, reason: 'only the AppImage updates itself on Linux, and this copy was not started from one' }
  return { supported: true }
}

const DEFAULT_PREFERENCES: UpdatePreferences = { checkOnStart: false }

/** The stored preferences; the defaults (no check at start) when the file is absent or damaged. */
export function loadUpdatePreferences(file: string, warn: (message: string) => void): UpdatePreferences {
  if (!existsSync(file)) return DEFAULT_PREFERENCES
  let json: unknown
  try {
    json = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    warn(`update preferences: ${file} is not JSON (${e instanceof Error ? e.message : String(e)}); using the defaults`)
    return DEFAULT_PREFERENCES
  }
  const parsed = UpdatePreferences.safeParse(json)
  if (parsed.success) return parsed.data
  warn(`update preferences: ${file} has an unexpected shape; using the defaults`)
  return DEFAULT_PREFERENCES
}

/** Written whole through a temporary file and a rename, so a crash never leaves half a file. */
export function saveUpdatePreferences(file: string, preferences: UpdatePreferences): void {
  mkdirSync(dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(preferences))
  renameSync(tmp, file)
}

export interface AppUpdaterOptions {
  readonly support: UpdateSupport
  readonly currentVersion: string
  /** Where the preferences are kept (userData/update-preferences.json). */
  readonly preferencesFile: string
  /** Loads electron-updater's autoUpdater; called once, and only when updates are supported. */
  readonly loadUpdater: () => Promise<AutoUpdaterLike>
  readonly log: { info(message: string): void; warn(message: string): void }
  readonly now?: () => number
}

export interface AppUpdater {
  /** The handlers of the update methods (SHELL_METHODS) for the IPC bridge. */
  readonly handlers: ShellHandlers
  status(): UpdateStatus
  /** `update` events, one per change of the status; returns the unsubscribe. */
  onEvent(listener: (event: ConsoleEvent) => void): () => void
  /** Checks once in the background when the user opted in; a failure is logged and shown in the status. */
  checkOnStartIfWanted(): Promise<void>
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

export function createAppUpdater(options: AppUpdaterOptions): AppUpdater {
  const { support, log } = options
  const now = options.now ?? Date.now
  let preferences = loadUpdatePreferences(options.preferencesFile, (m) => log.warn(m))
  let current: Omit<UpdateStatus, 'checkOnStart' | 'currentVersion'> = support.supported ? { state: 'idle' } : { state: 'unsupported', detail: support.reason }
  const listeners = new Set<(event: ConsoleEvent) => void>()
  let updater: Promise<AutoUpdaterLike> | undefined
  let checking: Promise<Result<UpdateStatus>> | undefined

  const status = (): UpdateStatus => ({ ...current, currentVersion: options.currentVersion, checkOnStart: preferences.checkOnStart })
  const set = (next: Omit<UpdateStatus, 'checkOnStart' | 'currentVersion'>): void => {
    current = next
    const event: ConsoleEvent = { kind: 'update', time: now(), status: status() }
    for (const listener of [...listeners]) listener(event)
  }
  const found = (info: { version: string; releaseDate?: string | undefined }): Pick<UpdateStatus, 'availableVersion' | 'releaseDate'> => ({
    availableVersion: info.version,
    ...(info.releaseDate ? { releaseDate: info.releaseDate } : {}),
  })
  const unsupported = (): Result<never> => fail('unavailable', `updates: ${support.supported ? 'not available' : support.reason}`)

  /** electron-updater, loaded and wired once: its events drive the status. */
  function instance(): Promise<AutoUpdaterLike> {
    updater ??= options.loadUpdater().then((u) => {
      // Downloading is the user's choice (a clinic's network may be metered); a downloaded update installs on quit.
      u.autoDownload = false
      u.autoInstallOnAppQuit = true
      // check() says `checking` itself (the updater may answer without a word); this covers checks started elsewhere.
      u.on('checking-for-update', () => {
        if (current.state !== 'checking') set({ state: 'checking' })
      })
      u.on('update-available', (info) => set({ state: 'available', ...found(info), lastCheckedAt: now() }))
      u.on('update-not-available', () => set({ state: 'not-available', lastCheckedAt: now() }))
      u.on('download-progress', (p) => {
        const progress: UpdateProgress = { percent: Math.min(100, Math.max(0, p.percent)), transferredBytes: p.transferred, totalBytes: p.total, bytesPerSecond: p.bytesPerSecond }
        set({ ...current, state: 'downloading', progress })
      })
      u.on('update-downloaded', (info) => {
        const total = current.progress?.totalBytes ?? 0
        set({ ...current, state: 'downloaded', ...found(info), progress: { percent: 100, transferredBytes: total, totalBytes: total, bytesPerSecond: 0 } })
        log.info(`update ${info.version} downloaded; it installs when the app quits`)
      })
      u.on('error', (e) => {
        log.warn(`update: ${e.message}`)
        set({ ...current, state: 'error', detail: e.message })
      })
      return u
    })
    return updater
  }

  async function check(): Promise<Result<UpdateStatus>> {
    if (!support.supported) return unsupported()
    // A download under way or done already answers the question.
    if (current.state === 'downloading' || current.state === 'downloaded') return ok(status())
    checking ??= (async () => {
      try {
        const u = await instance()
        set({ state: 'checking' })
        await u.checkForUpdates()
        if (current.state === 'checking') set({ state: 'not-available', lastCheckedAt: now() })
        return ok(status())
      } catch (e) {
        set({ state: 'error', detail: `the update check failed: ${message(e)}`, lastCheckedAt: now() })
        return fail<UpdateStatus>('unreachable', `checkForUpdates: ${message(e)}`)
      } finally {
        checking = undefined
      }
    })()
    return checking
  }

  async function download(): Promise<Result<UpdateStatus>> {
    if (!support.supported) return unsupported()
    if (current.state === 'downloading' || current.state === 'downloaded') return ok(status())
    if (current.availableVersion === undefined || (current.state !== 'available' && current.state !== 'error')) {
      return fail('conflict', 'downloadUpdate: no update to download; check for updates first')
    }
    const u = await instance()
    // A new attempt: the last failure is no longer the news.
    const { detail: _lastFailure, ...withoutFailure } = current
    set({ ...withoutFailure, state: 'downloading', progress: { percent: 0, transferredBytes: 0, totalBytes: 0, bytesPerSecond: 0 } })
    // Runs on: the answer is "started", and progress, completion or failure follow as events.
    u.downloadUpdate().catch((e: unknown) => {
      if (current.state === 'downloading') set({ ...current, state: 'error', detail: `the download failed: ${message(e)}` })
    })
    return ok(status())
  }

  async function install(): Promise<Result<UpdateStatus>> {
    if (!support.supported) return unsupported()
    if (current.state !== 'downloaded') return fail('conflict', 'installUpdate: no update has been downloaded yet')
    const u = await instance()
    log.info(`installing update ${current.availableVersion ?? ''} and restarting`)
    // Silent install, then start the new version. The app quits through its usual graceful shutdown.
    u.quitAndInstall(true, true)
    return ok(status())
  }

  function configure(next: UpdatePreferences): Result<UpdateStatus> {
    try {
      saveUpdatePreferences(options.preferencesFile, next)
    } catch (e) {
      return fail('internal', `configureUpdates: could not store the preferences in ${options.preferencesFile}: ${message(e)}`)
    }
    preferences = next
    set(current)
    return ok(status())
  }

  return {
    handlers: {
      updateStatus: () => ok(status()),
      checkForUpdates: () => check(),
      downloadUpdate: () => download(),
      installUpdate: () => install(),
      configureUpdates: (input) => configure(input),
    },
    status,
    onEvent(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    async checkOnStartIfWanted() {
      if (!preferences.checkOnStart || !support.supported) return
      const result = await check()
      if (!result.ok) log.warn(`update check at start: ${result.error.message}`)
    },
  }
}
