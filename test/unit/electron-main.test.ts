import { existsSync, rmSync, statSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import type { MenuItemConstructorOptions } from 'electron'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { API_METHODS } from '../../shared/api/console-api.ts'
import { APP_INFO_CHANNEL, CONSOLE_EVENT_CHANNEL, SHELL_COMMAND_CHANNEL } from '../../shared/api/bridge.ts'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import type { Result } from '../../shared/api/result.ts'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { RENDERER_CSP } from '../../electron/console/renderer-csp.ts'
import { menuItems } from '../../electron/main/app-menu.ts'
import { ipcPair } from '../support/ipc-pair.ts'

/**
 * The real electron/main/index.ts with a stubbed `electron` (and electron-log): the window it opens,
 * the IPC it answers, the menu, the first-run demo on a real ConsoleService in a temporary userData,
 * and a quit that closes the console exactly once.
 */

const stub = await vi.hoisted(async () => {
  const { EventEmitter } = await import('node:events')
  const { ipcPair: pairOf } = await import('../support/ipc-pair.ts')
  const { mkdtempSync: mkdtemp } = await import('node:fs')
  const { tmpdir: tmp } = await import('node:os')
  const { join: joinPath } = await import('node:path')
  const userData = mkdtemp(joinPath(tmp(), 'ot-electron-'))
  process.env['OBJECTTWIN_COAP_PORT'] = '0'
  delete process.env['ELECTRON_RENDERER_URL']

  const app = Object.assign(new EventEmitter(), {
    isPackaged: false,
    requestSingleInstanceLock: () => true,
    whenReady: () => Promise.resolve(),
    getName: () => 'objecttwin-console',
    getVersion: () => '0.1.0',
    getPath: (name: string) => (name === 'userData' ? userData : joinPath(userData, name)),
    quit: () => {
      app.emit('before-quit', { preventDefault: () => quitsHeldBack.push(1) })
    },
    exit: (code?: number) => {
      exits.push(code ?? 0)
    },
  })
  const exits: number[] = []
  const quitsHeldBack: number[] = []

  class FakeWebContents extends EventEmitter {
    sent: Array<{ channel: string; payload: unknown }> = []
    openHandler: ((details: { url: string }) => { action: string }) | undefined
    send(channel: string, payload: unknown): void {
      this.sent.push({ channel, payload })
    }
    isDestroyed(): boolean {
      return false
    }
    setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
      this.openHandler = handler
    }
  }

  class BrowserWindow extends EventEmitter {
    static readonly instances: BrowserWindow[] = []
    static getAllWindows(): BrowserWindow[] {
      return BrowserWindow.instances
    }
    readonly options: Record<string, unknown>
    readonly webContents = new FakeWebContents()
    loaded: string | undefined
    focused = 0
    constructor(options: Record<string, unknown>) {
      super()
      this.options = options
      BrowserWindow.instances.push(this)
      // As Electron does for every new web contents.
      app.emit('web-contents-created', {}, this.webContents)
    }
    loadFile(file: string): Promise<void> {
      this.loaded = `file:${file}`
      return Promise.resolve()
    }
    loadURL(url: string): Promise<void> {
      this.loaded = url
      return Promise.resolve()
    }
    show(): void {}
    isMinimized(): boolean {
      return false
    }
    restore(): void {}
    focus(): void {
      this.focused++
    }
  }

  const pair = pairOf()
  const menus: unknown[] = []
  const opened: string[] = []
  const headerListeners: unknown[] = []
  const logged: string[] = []
  const electron = {
    app,
    BrowserWindow,
    ipcMain: pair.ipcMain,
    Menu: {
      buildFromTemplate: (template: unknown) => ({ template }),
      setApplicationMenu: (menu: unknown) => menus.push(menu),
    },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: (listener: unknown) => headerListeners.push(listener) },
        setPermissionRequestHandler: () => {},
      },
    },
    shell: {
      openExternal: async (url: string) => {
        opened.push(url)
      },
    },
    dialog: { showErrorBox: (title: string, message: string) => logged.push(`dialog ${title}: ${message}`) },
    // As on a Linux desktop without a keyring: no OS-backed encryption.
    safeStorage: {
      isEncryptionAvailable: () => false,
      getSelectedStorageBackend: () => 'basic_text',
      encryptString: () => {
        throw new Error('safeStorage must not be used without OS-backed encryption')
      },
      decryptString: () => {
        throw new Error('safeStorage must not be used without OS-backed encryption')
      },
    },
  }
  const log = {
    transports: { file: { level: 'silly' } },
    errorHandler: { startCatching: () => {} },
    hooks: [] as Array<(message: { data: unknown[] }) => { data: unknown[] }>,
    info: (m: string) => logged.push(`info ${m}`),
    warn: (m: string) => logged.push(`warn ${m}`),
    error: (m: string) => logged.push(`error ${m}`),
  }
  return { electron, log, app, exits, quitsHeldBack, BrowserWindow, pair, menus, opened, headerListeners, logged, userData }
})

vi.mock('electron', () => stub.electron)
vi.mock('electron-log/main', () => ({ default: stub.log }))

const closeSpy = vi.spyOn(ConsoleService.prototype, 'close')
const SIGNALS = ['SIGINT', 'SIGTERM'] as const
const signalListenersBefore = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]))
const invoke = (channel: string, input?: unknown): Promise<Result<unknown>> => stub.pair.ipcRenderer.invoke(channel, input) as Promise<Result<unknown>>

beforeAll(async () => {
  await import('../../electron/main/index.ts')
  await vi.waitFor(() => expect(stub.BrowserWindow.instances).toHaveLength(1), { timeout: 20_000 })
}, 30_000)

afterAll(() => {
  // index.ts quits on SIGINT/SIGTERM: give this worker its signals back.
  for (const signal of SIGNALS) for (const l of process.listeners(signal)) if (!signalListenersBefore.get(signal)?.has(l)) process.off(signal, l)
  rmSync(stub.userData, { recursive: true, force: true })
})

const win = (): InstanceType<typeof stub.BrowserWindow> => stub.BrowserWindow.instances[0] as InstanceType<typeof stub.BrowserWindow>

describe('Electron main process', () => {
  it('opens one window with the safe options, our preload and the bundled page', () => {
    const prefs = win().options['webPreferences'] as Record<string, unknown>
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false, webviewTag: false })
    expect(prefs['webSecurity']).not.toBe(false)
    expect(prefs['allowRunningInsecureContent']).not.toBe(true)
    const preload = prefs['preload'] as string
    expect(isAbsolute(preload)).toBe(true)
    expect(preload.endsWith(join('preload', 'index.cjs'))).toBe(true)
    expect(win().loaded).toMatch(/^file:.*renderer[\\/]index\.html$/)
  })

  it('answers every API method and app info on IPC, and only to the app page', async () => {
    const channels = [...stub.pair.handlers.keys()].sort()
    expect(channels).toEqual([...Object.values(API_METHODS).map((m) => m.channel), APP_INFO_CHANNEL].sort())
    expect(await invoke(APP_INFO_CHANNEL)).toEqual({ ok: true, value: { name: 'objecttwin-console', version: '0.1.0', platform: process.platform } })
    const stranger = ipcPair('https://evil.example/')
    for (const [channel, handler] of stub.pair.handlers) stranger.ipcMain.handle(channel, handler)
    expect(await stranger.ipcRenderer.invoke(APP_INFO_CHANNEL)).toMatchObject({ ok: false, error: { code: 'unauthorized' } })
    expect(await stranger.ipcRenderer.invoke(API_METHODS.listClients.channel, {})).toMatchObject({ ok: false, error: { code: 'unauthorized' } })
  })

  it('answers the update methods from its updater: a development build does not update itself', async () => {
    expect(await invoke(API_METHODS.updateStatus.channel)).toEqual({
      ok: true,
      value: { state: 'unsupported', currentVersion: '0.1.0', checkOnStart: false, detail: 'this is a development build (npm start); only an installed app updates itself' },
    })
    expect(await invoke(API_METHODS.checkForUpdates.channel)).toMatchObject({ ok: false, error: { code: 'unavailable', message: expect.stringContaining('development build') } })
  })

  it('keeps its data in userData and starts the demo gateway on first run', async () => {
    expect(existsSync(join(stub.userData, 'objecttwin.db'))).toBe(true)
    expect(await invoke(API_METHODS.getSettings.channel)).toMatchObject({ ok: true, value: { localGateway: { enabled: true, adapter: 'virtual' } } })
    await vi.waitFor(async () => {
      const status = await invoke(API_METHODS.gatewayStatus.channel)
      expect(status).toMatchObject({ ok: true, value: { running: true, registered: true } })
    }, { timeout: 20_000, interval: 50 })
    const status = (await invoke(API_METHODS.gatewayStatus.channel)) as Result<{ virtualSensors?: Array<{ kind: string }> }>
    expect(status.ok && status.value.virtualSensors?.map((s) => s.kind).sort()).toEqual(['ecg', 'hr', 'thermometer'])
    const clients = (await invoke(API_METHODS.listClients.channel)) as Result<Array<{ endpoint: string }>>
    expect(clients.ok && clients.value.map((c) => c.endpoint)).toEqual(['objecttwin-local'])
    expect(stub.logged.find((l) => l.startsWith('info LwM2M server listening'))).toContain(`data in ${stub.userData}`)
  }, 30_000)

  it('protects PSK keys with an owner-only key file when safeStorage has no OS backend, and redacts every log message', async () => {
    expect(stub.logged.find((l) => l.startsWith('warn safeStorage offers no OS-backed encryption here (basic_text backend)'))).toBeDefined()
    const set = await invoke(API_METHODS.setSecurity.channel, { endpoint: 'ecg-9', identity: 'ecg-9-id', key: '0f0e0d0c0b0a09080706050403020100' })
    expect(set).toMatchObject({ ok: true, value: { endpoint: 'ecg-9', mode: 'psk', identity: 'ecg-9-id' } })
    expect(statSync(join(stub.userData, 'objecttwin.key')).mode & 0o777).toBe(0o600)
    expect(await invoke(API_METHODS.getSecurityPolicy.channel)).toMatchObject({ ok: true, value: { keyStorage: `key file ${join(stub.userData, 'objecttwin.key')}` } })
    expect(stub.log.hooks).toHaveLength(1)
    const hook = stub.log.hooks[0] as (message: { data: unknown[] }) => { data: unknown[] }
    expect(hook({ data: ['key 0f0e0d0c0b0a09080706050403020100 in', { token: 'abcdefgh12' }] }).data).toEqual(['key [redacted] in', { token: '[redacted]' }])
  })

  it('sends the console events to the window in batches on one channel', async () => {
    await vi.waitFor(() => {
      const batches = win().webContents.sent.filter((m) => m.channel === CONSOLE_EVENT_CHANNEL).map((m) => m.payload as ConsoleEvent[])
      expect(batches.every(Array.isArray)).toBe(true)
      expect(batches.flat().some((e) => e.kind === 'registered' && e.client.endpoint === 'objecttwin-local')).toBe(true)
    }, { timeout: 10_000, interval: 20 })
  })

  it('locks the page in: no navigation, no new windows, only http(s) to the system browser', () => {
    const contents = win().webContents
    const navigation = { preventDefault: vi.fn() }
    contents.emit('will-navigate', navigation, 'https://evil.example/')
    expect(navigation.preventDefault).toHaveBeenCalled()
    const webview = { preventDefault: vi.fn() }
    contents.emit('will-attach-webview', webview)
    expect(webview.preventDefault).toHaveBeenCalled()
    for (const url of ['https://www.openmobilealliance.org/', 'file:///etc/passwd', 'javascript:alert(1)']) {
      expect(contents.openHandler?.({ url })).toEqual({ action: 'deny' })
    }
    expect(stub.opened).toEqual(['https://www.openmobilealliance.org/'])
  })

  it('sets the CSP header, the menu with developer tools (not packaged) and the theme command', () => {
    expect(stub.headerListeners).toHaveLength(1)
    const answer = vi.fn()
    ;(stub.headerListeners[0] as (d: object, cb: (r: unknown) => void) => void)({ responseHeaders: {} }, answer)
    expect(answer).toHaveBeenCalledWith({ responseHeaders: { 'Content-Security-Policy': [RENDERER_CSP] } })
    const template = (stub.menus[0] as { template: MenuItemConstructorOptions[] }).template
    const items = menuItems(template)
    expect(items.some((i) => i.role === 'toggleDevTools')).toBe(true)
    ;(items.find((i) => i.label === 'Toggle Theme')?.click as () => void)()
    expect(win().webContents.sent.filter((m) => m.channel === SHELL_COMMAND_CHANNEL)).toEqual([{ channel: SHELL_COMMAND_CHANNEL, payload: 'toggle-theme' }])
  })

  it('focuses the window on a second launch', () => {
    stub.app.emit('second-instance')
    expect(win().focused).toBe(1)
  })

  it('closes the console exactly once on quit (here from SIGTERM), de-registering the demo gateway, then exits 0', async () => {
    // Only the SIGTERM listener index.ts added: others in this process are not ours to call.
    const ours = process.listeners('SIGTERM').filter((l) => !signalListenersBefore.get('SIGTERM')?.has(l))
    expect(ours).toHaveLength(1)
    ;(ours[0] as () => void)()
    const again = { preventDefault: vi.fn() }
    stub.app.emit('before-quit', again)
    expect(stub.quitsHeldBack).toEqual([1])
    expect(again.preventDefault).toHaveBeenCalled()
    await vi.waitFor(() => expect(stub.exits).toEqual([0]), { timeout: 20_000 })
    expect(closeSpy).toHaveBeenCalledOnce()
    await vi.waitFor(() => {
      const events = win().webContents.sent.filter((m) => m.channel === CONSOLE_EVENT_CHANNEL).flatMap((m) => m.payload as ConsoleEvent[])
      expect(events.some((e) => e.kind === 'deregistered' && e.endpoint === 'objecttwin-local')).toBe(true)
    }, { timeout: 5_000 })
    expect(stub.logged).toContain('info quitting: closing the console')
  }, 30_000)
})
