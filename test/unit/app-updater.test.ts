import { EventEmitter } from 'node:events'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPinia, setActivePinia } from 'pinia'
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { API_METHODS, NO_UPDATER_MESSAGE, SHELL_METHODS } from '../../shared/api/console-api.ts'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import type { Result } from '../../shared/api/result.ts'
import type { UpdateStatus } from '../../shared/api/update-schemas.ts'
import { dispatchApi } from '../../electron/console/api-dispatch.ts'
import type { ConsoleService } from '../../electron/console/console-service.ts'
import { createAppUpdater, loadUpdatePreferences, updateSupport, type AppUpdater, type AutoUpdaterLike, type UpdateSupport } from '../../electron/main/app-updater.ts'
import { forwardEvents, registerApiHandlers } from '../../electron/main/ipc-bridge.ts'
import { createPreloadBridge } from '../../electron/preload/bridge.ts'
import { provideApi } from '../../renderer/src/api/api-context.ts'
import { createIpcTransport } from '../../renderer/src/api/ipc-transport.ts'
import { updateView } from '../../renderer/src/model/update.ts'
import { useUpdatesStore } from '../../renderer/src/stores/updates.ts'
import { ipcPair } from '../support/ipc-pair.ts'

/**
 * The desktop app's updater (electron/main/app-updater.ts) over a stand-in for electron-updater's
 * autoUpdater that emits what the real one does, in the same order: where updates are possible at all,
 * check → available → download with progress → downloaded → install, the opt-in check at start, and
 * the update methods over the IPC bridge (answered by the updater) and without it (`unavailable`).
 */

const dir = mkdtempSync(join(tmpdir(), 'ot-updater-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** What electron-updater does on a check and a download, driven by what the "feed" holds. */
class FakeAutoUpdater extends EventEmitter {
  autoDownload = true
  autoInstallOnAppQuit = false
  /** The feed's newest version; undefined: the running one is the newest. */
  feedVersion: string | undefined = '0.2.0'
  failCheck: Error | undefined
  installs: Array<[boolean | undefined, boolean | undefined]> = []
  checks = 0
  private finishDownload: (() => void) | undefined

  async checkForUpdates(): Promise<unknown> {
    this.checks++
    this.emit('checking-for-update')
    await Promise.resolve()
    if (this.failCheck) {
      this.emit('error', this.failCheck)
      throw this.failCheck
    }
    if (this.feedVersion) this.emit('update-available', { version: this.feedVersion, releaseDate: '2026-11-20T10:00:00.000Z' })
    else this.emit('update-not-available', { version: '0.1.0' })
    return { updateInfo: { version: this.feedVersion ?? '0.1.0' } }
  }

  downloadUpdate(): Promise<unknown> {
    return new Promise((resolve) => {
      this.finishDownload = () => resolve(['/tmp/installer'])
    })
  }

  /** The download's chunks arriving, then its end. */
  progress(percent: number): void {
    this.emit('download-progress', { percent, transferred: (percent / 100) * 80_000_000, total: 80_000_000, bytesPerSecond: 5_000_000, delta: 1000 })
  }

  complete(): void {
    this.emit('update-downloaded', { version: this.feedVersion, releaseDate: '2026-11-20T10:00:00.000Z', downloadedFile: '/tmp/installer' })
    this.finishDownload?.()
  }

  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void {
    this.installs.push([isSilent, isForceRunAfter])
  }
}

interface Harness {
  updater: AppUpdater
  fake: FakeAutoUpdater
  events: UpdateStatus[]
  loads: number
  logged: string[]
}

let prefsCount = 0
function harness(support: UpdateSupport = { supported: true }, preferencesFile = join(dir, `prefs-${++prefsCount}.json`)): Harness {
  const fake = new FakeAutoUpdater()
  const logged: string[] = []
  const h: Harness = {
    fake,
    events: [],
    loads: 0,
    logged,
    updater: createAppUpdater({
      support,
      currentVersion: '0.1.0',
      preferencesFile,
      loadUpdater: async () => {
        h.loads++
        return fake as AutoUpdaterLike
      },
      log: { info: (m) => logged.push(`info ${m}`), warn: (m) => logged.push(`warn ${m}`) },
      now: () => 1_000,
    }),
  }
  h.updater.onEvent((e: ConsoleEvent) => {
    if (e.kind === 'update') h.events.push(e.status)
  })
  return h
}

const value = <T>(result: Result<T>): T => {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`)
  return result.value
}

describe('where the app may update itself', () => {
  const resources = join(dir, 'resources')
  beforeEach(() => {
    rmSync(resources, { recursive: true, force: true })
    mkdirSync(resources, { recursive: true })
    writeFileSync(join(resources, 'app-update.yml'), 'provider: github\nowner: o\nrepo: r\n')
  })
  const host = { isPackaged: true, resourcesPath: resources, env: {} }

  it('an installed Windows or macOS app with an update feed', () => {
    expect(updateSupport({ ...host, platform: 'win32' })).toEqual({ supported: true })
    expect(updateSupport({ ...host, platform: 'darwin' })).toEqual({ supported: true })
  })

  it('on Linux only the AppImage, never a deb (its package manager updates it)', () => {
    expect(updateSupport({ ...host, platform: 'linux', env: { APPIMAGE: '/home/a/ObjectTwin-Console.AppImage' } })).toEqual({ supported: true })
    expect(updateSupport({ ...host, platform: 'linux' })).toMatchObject({ supported: false, reason: expect.stringContaining('only the AppImage') })
    writeFileSync(join(resources, 'package-type'), 'deb\n')
    expect(updateSupport({ ...host, platform: 'linux', env: { APPIMAGE: '/x' } })).toMatchObject({ supported: false, reason: expect.stringMatching(/^installed as a deb package: the package manager updates it/) })
  })

  it('not a development build, nor a build without app-update.yml', () => {
    expect(updateSupport({ ...host, isPackaged: false, platform: 'win32' })).toMatchObject({ supported: false, reason: expect.stringContaining('development build') })
    rmSync(join(resources, 'app-update.yml'))
    expect(updateSupport({ ...host, platform: 'darwin' })).toMatchObject({ supported: false, reason: expect.stringContaining('app-update.yml is missing') })
  })
})

describe('the updater', () => {
  it('checks, downloads with progress events, and installs silently, restarting', async () => {
    const h = harness()
    expect(value(await h.updater.handlers.updateStatus({}))).toEqual({ state: 'idle', currentVersion: '0.1.0', checkOnStart: false })
    const checked = value(await h.updater.handlers.checkForUpdates({}))
    expect(checked).toMatchObject({ state: 'available', availableVersion: '0.2.0', releaseDate: '2026-11-20T10:00:00.000Z', lastCheckedAt: 1_000 })
    // Downloading waits for the user: electron-updater is told not to download by itself, and to install on quit.
    expect(h.fake.autoDownload).toBe(false)
    expect(h.fake.autoInstallOnAppQuit).toBe(true)
    expect(await h.updater.handlers.installUpdate({})).toMatchObject({ ok: false, error: { code: 'conflict' } })

    expect(value(await h.updater.handlers.downloadUpdate({}))).toMatchObject({ state: 'downloading', progress: { percent: 0 } })
    h.fake.progress(25)
    h.fake.progress(80)
    h.fake.complete()
    expect(h.events.map((s) => [s.state, s.progress?.percent])).toEqual([
      ['checking', undefined],
      ['available', undefined],
      ['downloading', 0],
      ['downloading', 25],
      ['downloading', 80],
      ['downloaded', 100],
    ])
    expect(h.events[4]?.progress).toEqual({ percent: 80, transferredBytes: 64_000_000, totalBytes: 80_000_000, bytesPerSecond: 5_000_000 })
    expect(h.updater.status()).toMatchObject({ state: 'downloaded', availableVersion: '0.2.0', progress: { percent: 100, transferredBytes: 80_000_000, totalBytes: 80_000_000 } })

    expect(value(await h.updater.handlers.installUpdate({}))).toMatchObject({ state: 'downloaded' })
    expect(h.fake.installs).toEqual([[true, true]])
    expect(h.loads).toBe(1)
  })

  it('says when the running version is the newest, and reports a failed check as unreachable', async () => {
    const h = harness()
    h.fake.feedVersion = undefined
    expect(value(await h.updater.handlers.checkForUpdates({}))).toMatchObject({ state: 'not-available', lastCheckedAt: 1_000 })
    expect(await h.updater.handlers.downloadUpdate({})).toMatchObject({ ok: false, error: { code: 'conflict', message: expect.stringContaining('check for updates first') } })
    h.fake.failCheck = new Error('net::ERR_INTERNET_DISCONNECTED')
    expect(await h.updater.handlers.checkForUpdates({})).toEqual({ ok: false, error: { code: 'unreachable', message: 'checkForUpdates: net::ERR_INTERNET_DISCONNECTED' } })
    expect(h.updater.status()).toMatchObject({ state: 'error', detail: 'the update check failed: net::ERR_INTERNET_DISCONNECTED' })
    expect(h.logged).toContain('warn update: net::ERR_INTERNET_DISCONNECTED')
  })

  it('shows a failed download and lets the user try again', async () => {
    const h = harness()
    await h.updater.handlers.checkForUpdates({})
    await h.updater.handlers.downloadUpdate({})
    h.fake.emit('error', new Error('sha512 checksum mismatch'))
    expect(h.updater.status()).toMatchObject({ state: 'error', availableVersion: '0.2.0', detail: 'sha512 checksum mismatch' })
    expect(value(await h.updater.handlers.downloadUpdate({}))).toMatchObject({ state: 'downloading' })
    expect('detail' in h.updater.status()).toBe(false)
  })

  it('checks at start only after the user opted in, and keeps that choice in the preferences file', async () => {
    const file = join(dir, 'opt-in.json')
    const first = harness({ supported: true }, file)
    await first.updater.checkOnStartIfWanted()
    expect(first.fake.checks).toBe(0)
    expect(first.loads).toBe(0)
    expect(value(await first.updater.handlers.configureUpdates({ checkOnStart: true }))).toMatchObject({ checkOnStart: true, state: 'idle' })
    expect(first.events.at(-1)).toMatchObject({ checkOnStart: true })
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ checkOnStart: true })

    const next = harness({ supported: true }, file)
    await next.updater.checkOnStartIfWanted()
    expect(next.fake.checks).toBe(1)
    expect(next.updater.status()).toMatchObject({ state: 'available', checkOnStart: true })
  })

  it('falls back to no check at start when the preferences file is damaged', () => {
    const file = join(dir, 'damaged.json')
    writeFileSync(file, '{"checkOnStart": tr')
    const warnings: string[] = []
    expect(loadUpdatePreferences(file, (m) => warnings.push(m))).toEqual({ checkOnStart: false })
    expect(warnings[0]).toMatch(/damaged\.json is not JSON/)
    writeFileSync(file, '{"checkOnStart": "yes"}')
    expect(loadUpdatePreferences(file, (m) => warnings.push(m))).toEqual({ checkOnStart: false })
    expect(warnings[1]).toMatch(/unexpected shape/)
  })

  it('never loads electron-updater where updates are unsupported, and says why', async () => {
    const h = harness({ supported: false, reason: 'installed as a deb package: the package manager updates it' })
    expect(value(await h.updater.handlers.updateStatus({}))).toEqual({ state: 'unsupported', currentVersion: '0.1.0', checkOnStart: false, detail: 'installed as a deb package: the package manager updates it' })
    for (const method of ['checkForUpdates', 'downloadUpdate', 'installUpdate'] as const) {
      expect(await h.updater.handlers[method]({})).toEqual({ ok: false, error: { code: 'unavailable', message: 'updates: installed as a deb package: the package manager updates it' } })
    }
    await h.updater.handlers.configureUpdates({ checkOnStart: true })
    await h.updater.checkOnStartIfWanted()
    expect(h.loads).toBe(0)
  })
})

describe('the update methods across the API boundary', () => {
  // The update methods never reach the engine: any property read on it fails the test.
  const engine = new Proxy({} as ConsoleService, {
    get(_target, name) {
      throw new Error(`the engine was asked for ${String(name)}`)
    },
  })

  it('are answered by the main process updater over IPC, with inputs validated', async () => {
    const h = harness()
    const pair = ipcPair()
    registerApiHandlers(pair.ipcMain, engine, () => true, h.updater.handlers)
    const invoke = (channel: string, input?: unknown): Promise<Result<UpdateStatus>> => pair.ipcRenderer.invoke(channel, input) as Promise<Result<UpdateStatus>>
    const checked = await invoke('update:check', {})
    expect(checked).toMatchObject({ ok: true, value: { state: 'available', availableVersion: '0.2.0' } })
    expect(API_METHODS.checkForUpdates.result.safeParse(checked.ok && checked.value).success).toBe(true)
    expect(await invoke('update:configure', { checkOnStart: 'yes' })).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringMatching(/^configureUpdates: checkOnStart: /) } })
    expect(await invoke('update:status', { extra: 1 })).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
  })

  it('answer unavailable wherever the desktop app is not: the engine dispatch (serve, HTTP)', async () => {
    for (const method of SHELL_METHODS) {
      const input = method === 'configureUpdates' ? { checkOnStart: true } : {}
      expect(await dispatchApi(engine, method, input)).toEqual({ ok: false, error: { code: 'unavailable', message: NO_UPDATER_MESSAGE } })
    }
  })
})

describe('the About view\'s store over the whole IPC path', () => {
  it('follows check, download progress and install as the window sees them', async () => {
    setActivePinia(createPinia())
    const h = harness()
    const pair = ipcPair()
    const engine = { onEvent: () => () => {} } as unknown as ConsoleService
    registerApiHandlers(pair.ipcMain, engine, () => true, h.updater.handlers)
    // Flushed at once: the batching timer is not what is tested here.
    forwardEvents(h.updater, pair.webContents, (flush) => (queueMicrotask(flush), () => {}))
    const api = createIpcTransport(createPreloadBridge(pair.ipcRenderer))
    provideApi(api)
    const store = useUpdatesStore()
    store.start()
    await vi.waitFor(() => expect(store.status?.state).toBe('idle'))

    await store.check()
    expect(store.status && updateView(store.status)).toMatchObject({ action: 'download', headline: 'Update available: version 0.2.0 (this is 0.1.0).' })
    await store.download()
    h.fake.progress(50)
    await vi.waitFor(() => expect(store.status?.progress?.percent).toBe(50))
    expect(store.status && updateView(store.status)).toMatchObject({ percent: 50, transfer: '40.0 of 80.0 MB · 5.0 MB/s' })
    h.fake.complete()
    await vi.waitFor(() => expect(store.status?.state).toBe('downloaded'))
    await store.install()
    expect(h.fake.installs).toEqual([[true, true]])
    await store.setCheckOnStart(true)
    expect(store.status?.checkOnStart).toBe(true)
    expect(store.error).toBeUndefined()
    api.close()
  })
})
