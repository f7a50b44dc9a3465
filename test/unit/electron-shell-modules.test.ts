import { createSocket, type Socket } from 'node:dgram'
import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MenuItemConstructorOptions } from 'electron'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CONSOLE_EVENT_CHANNEL } from '../../shared/api/bridge.ts'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import { HELP_LINKS, menuItems, menuTemplate, type MenuOptions } from '../../electron/main/app-menu.ts'
import { coapPortFrom, DEFAULT_COAP_PORT, logConsoleEvents, startConsole, type ShellLogger } from '../../electron/main/console-startup.ts'
import { installGracefulShutdown } from '../../electron/main/graceful-shutdown.ts'
import { forwardEvents, type EventSink } from '../../electron/main/ipc-bridge.ts'
import { isPortTaken, openWithPortFallback } from '../../electron/main/port-fallback.ts'
import { lockDown, mainWindowOptions, openExternalSafely, secureSession } from '../../electron/main/window-policy.ts'
import type { ConsoleService } from '../../electron/console/console-service.ts'

/** The Electron shell's modules, without Electron: menu, window lock-down, shutdown, event batching, CoAP port. */

function recordingLogger(): ShellLogger & { lines: string[] } {
  const lines: string[] = []
  return { lines, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) }
}

const logEvent = (level: 'info' | 'warn' | 'error', message: string): ConsoleEvent => ({ kind: 'log', time: 1, level, message })

/** A stand-in for ConsoleService.onEvent that the test fires by hand. */
function eventSource(): { onEvent: ConsoleService['onEvent']; emit(e: ConsoleEvent): void; listeners: number } {
  const listeners = new Set<(e: ConsoleEvent) => void>()
  return {
    onEvent: (l) => {
      listeners.add(l)
      return () => listeners.delete(l)
    },
    emit: (e) => {
      for (const l of listeners) l(e)
    },
    get listeners() {
      return listeners.size
    },
  }
}

describe('application menu', () => {
  const options = (over: Partial<MenuOptions> = {}): MenuOptions => ({
    appName: 'ObjectTwin Console',
    platform: 'linux',
    isPackaged: false,
    sendCommand: () => {},
    openExternal: () => {},
    ...over,
  })
  const roles = (template: MenuItemConstructorOptions[]): string[] => menuItems(template).flatMap((i) => (i.role ? [i.role] : []))

  it('has File, Edit, View, Window and Help, with the app menu first on macOS', () => {
    expect(menuTemplate(options()).map((m) => m.label ?? m.role)).toEqual(['File', 'Edit', 'View', 'Window', 'help'])
    expect(menuTemplate(options({ platform: 'darwin' })).map((m) => m.label ?? m.role)).toEqual(['ObjectTwin Console', 'File', 'Edit', 'View', 'Window', 'help'])
  })

  it('offers reload and developer tools only when not packaged', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      expect(roles(menuTemplate(options({ platform, isPackaged: false })))).toEqual(expect.arrayContaining(['reload', 'forceReload', 'toggleDevTools']))
      const packaged = roles(menuTemplate(options({ platform, isPackaged: true })))
      expect(packaged).not.toContain('toggleDevTools')
      expect(packaged).not.toContain('reload')
      expect(packaged).not.toContain('forceReload')
      expect(packaged).toEqual(expect.arrayContaining(['zoomIn', 'zoomOut', 'resetZoom', 'togglefullscreen', 'copy', 'paste']))
    }
  })

  it('toggles the theme through a command to the renderer and opens help through the external helper', () => {
    const sendCommand = vi.fn()
    const openExternal = vi.fn()
    const items = menuItems(menuTemplate(options({ sendCommand, openExternal })))
    const click = (label: string): void => {
      const item = items.find((i) => i.label === label)
      expect(item, label).toBeDefined()
      ;(item?.click as () => void)()
    }
    click('Toggle Theme')
    expect(sendCommand).toHaveBeenCalledWith('toggle-theme')
    for (const link of HELP_LINKS) click(link.label)
    expect(openExternal.mock.calls.map((c) => c[0])).toEqual(HELP_LINKS.map((l) => l.url))
    for (const link of HELP_LINKS) expect(link.url).toMatch(/^https:\/\//)
  })
})

describe('window lock-down', () => {
  it('keeps the security baseline and our preload in the window options', () => {
    const options = mainWindowOptions('/app/out/preload/index.cjs')
    expect(options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false, preload: '/app/out/preload/index.cjs' })
    expect(options.webPreferences?.allowRunningInsecureContent).toBe(false)
  })

  it('prevents navigation and webviews, denies window.open and hands only http(s) links on', () => {
    const contents = new EventEmitter() as EventEmitter & { setWindowOpenHandler(h: (d: { url: string }) => { action: 'deny' }): void; handler?: (d: { url: string }) => { action: 'deny' } }
    contents.setWindowOpenHandler = (h) => {
      contents.handler = h
    }
    const opened: string[] = []
    const shellOpen = vi.fn(async (url: string) => {
      opened.push(url)
    })
    const refused: string[] = []
    lockDown(contents, (url) => openExternalSafely(url, shellOpen, (m) => refused.push(m)))

    for (const name of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      const event = { preventDefault: vi.fn() }
      contents.emit(name, event, 'https://evil.example/')
      expect(event.preventDefault, name).toHaveBeenCalledOnce()
    }
    for (const url of ['https://openmobilealliance.org/', 'http://192.168.1.10:8080/', 'file:///etc/passwd', 'javascript:alert(1)', 'smb://share/x']) {
      expect(contents.handler?.({ url })).toEqual({ action: 'deny' })
    }
    expect(opened).toEqual(['https://openmobilealliance.org/', 'http://192.168.1.10:8080/'])
    expect(refused).toHaveLength(3)
    expect(refused[0]).toContain('file:///etc/passwd')
  })

  it('reports a failed external open instead of throwing', async () => {
    const errors: string[] = []
    expect(openExternalSafely('https://example.org/', () => Promise.reject(new Error('no browser')), (m) => errors.push(m))).toBe(true)
    await vi.waitFor(() => expect(errors).toEqual(['could not open https://example.org/: no browser']))
  })

  it('sends the CSP as a header and refuses permissions but the clipboard', () => {
    let headers: ((d: { responseHeaders?: Record<string, string[]> }, cb: (r: { responseHeaders?: Record<string, string[]> }) => void) => void) | undefined
    let permissions: ((c: unknown, p: string, cb: (granted: boolean) => void) => void) | undefined
    secureSession(
      {
        webRequest: { onHeadersReceived: (l) => (headers = l) },
        setPermissionRequestHandler: (h) => (permissions = h),
      },
      "default-src 'self'",
    )
    const answer = vi.fn()
    headers?.({ responseHeaders: { 'Content-Type': ['text/html'] } }, answer)
    expect(answer).toHaveBeenCalledWith({ responseHeaders: { 'Content-Type': ['text/html'], 'Content-Security-Policy': ["default-src 'self'"] } })
    const granted: Record<string, boolean> = {}
    for (const p of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-sanitized-write']) permissions?.(undefined, p, (g) => (granted[p] = g))
    expect(granted).toEqual({ media: false, geolocation: false, notifications: false, openExternal: false, 'clipboard-sanitized-write': true })
  })
})

describe('graceful shutdown', () => {
  class FakeApp extends EventEmitter {
    quit = vi.fn(() => {
      this.emit('before-quit', { preventDefault: () => {} })
    })
    exit = vi.fn()
  }

  it('holds the first before-quit back, closes the console exactly once, then exits 0', async () => {
    const app = new FakeApp()
    let finish: () => void = () => {}
    const close = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)))
    installGracefulShutdown(app, { close, log: recordingLogger() })
    const first = { preventDefault: vi.fn() }
    const second = { preventDefault: vi.fn() }
    app.emit('before-quit', first)
    app.emit('before-quit', second)
    expect(first.preventDefault).toHaveBeenCalled()
    expect(second.preventDefault).toHaveBeenCalled()
    expect(close).toHaveBeenCalledOnce()
    expect(app.exit).not.toHaveBeenCalled()
    finish()
    await vi.waitFor(() => expect(app.exit).toHaveBeenCalledWith(0))
    expect(close).toHaveBeenCalledOnce()
  })

  it('quits the same way on SIGINT and SIGTERM, and exits 1 when closing fails', async () => {
    const app = new FakeApp()
    const signals = new EventEmitter()
    const log = recordingLogger()
    const close = vi.fn(async () => {
      throw new Error('database locked')
    })
    installGracefulShutdown(app, { close, log, signals })
    signals.emit('SIGTERM')
    signals.emit('SIGINT')
    await vi.waitFor(() => expect(app.exit).toHaveBeenCalledWith(1))
    expect(app.quit).toHaveBeenCalledTimes(2)
    expect(close).toHaveBeenCalledOnce()
    expect(log.lines).toContain('error closing the console failed: database locked')
  })

  it('does not wait forever for a close that hangs', async () => {
    const app = new FakeApp()
    const log = recordingLogger()
    installGracefulShutdown(app, { close: () => new Promise<void>(() => {}), log, timeoutMs: 20 })
    app.emit('before-quit', { preventDefault: () => {} })
    await vi.waitFor(() => expect(app.exit).toHaveBeenCalledWith(1))
    expect(log.lines.at(-1)).toContain('still not closed after 20 ms')
  })
})

describe('event forwarding', () => {
  /** A scheduler the test runs by hand: no timing in the assertions. */
  function manualScheduler(): { schedule: (flush: () => void) => () => void; pending: Array<() => void>; run(): void } {
    const pending: Array<() => void> = []
    return {
      pending,
      schedule: (flush) => {
        pending.push(flush)
        return () => pending.splice(pending.indexOf(flush), 1)
      },
      run: () => {
        for (const f of pending.splice(0)) f()
      },
    }
  }

  function sink(): EventSink & { sent: Array<{ channel: string; events: readonly ConsoleEvent[] }>; destroyed: boolean } {
    const s = {
      sent: [] as Array<{ channel: string; events: readonly ConsoleEvent[] }>,
      destroyed: false,
      send: (channel: string, events: readonly ConsoleEvent[]) => s.sent.push({ channel, events }),
      isDestroyed: () => s.destroyed,
    }
    return s
  }

  it('gathers the events of one period into one message on one channel', () => {
    const source = eventSource()
    const target = sink()
    const clock = manualScheduler()
    forwardEvents(source, target, clock.schedule)
    const events = [logEvent('info', 'a'), logEvent('warn', 'b'), logEvent('error', 'c')]
    for (const e of events) source.emit(e)
    expect(target.sent).toEqual([])
    expect(clock.pending).toHaveLength(1)
    clock.run()
    expect(target.sent).toEqual([{ channel: CONSOLE_EVENT_CHANNEL, events }])
    source.emit(logEvent('info', 'd'))
    clock.run()
    expect(target.sent.map((m) => m.events.length)).toEqual([3, 1])
    clock.run()
    expect(target.sent).toHaveLength(2)
  })

  it('sends nothing to a destroyed window and stops on request', () => {
    const source = eventSource()
    const target = sink()
    const clock = manualScheduler()
    const stop = forwardEvents(source, target, clock.schedule)
    source.emit(logEvent('info', 'a'))
    target.destroyed = true
    clock.run()
    expect(target.sent).toEqual([])
    target.destroyed = false
    source.emit(logEvent('info', 'b'))
    stop()
    expect(clock.pending).toEqual([])
    expect(source.listeners).toBe(0)
    source.emit(logEvent('info', 'c'))
    clock.run()
    expect(target.sent).toEqual([])
  })

  it('copies warn and error console events into the log', () => {
    const source = eventSource()
    const log = recordingLogger()
    logConsoleEvents(source, log)
    source.emit(logEvent('info', 'registered'))
    source.emit(logEvent('warn', 'slow gateway'))
    source.emit(logEvent('error', 'decode failed'))
    source.emit({ kind: 'sleeping', time: 1, endpoint: 'x' })
    expect(log.lines).toEqual(['warn slow gateway', 'error decode failed'])
  })
})

describe('CoAP port', () => {
  let holder: Socket | undefined
  afterEach(() => {
    holder?.close()
    holder = undefined
  })

  it('reads OBJECTTWIN_COAP_PORT, defaulting to 5683', () => {
    const log = recordingLogger()
    expect(coapPortFrom(undefined, log)).toBe(DEFAULT_COAP_PORT)
    expect(coapPortFrom('0', log)).toBe(0)
    expect(coapPortFrom('15683', log)).toBe(15683)
    expect(coapPortFrom('70000', log)).toBe(DEFAULT_COAP_PORT)
    expect(log.lines).toEqual(['warn OBJECTTWIN_COAP_PORT must be a port number from 0 to 65535, not "70000"; using 5683'])
  })

  it('falls back to a free port only when the wanted one is taken', async () => {
    expect(isPortTaken(new Error('x', { cause: Object.assign(new Error('bind EADDRINUSE'), { code: 'EADDRINUSE' }) }))).toBe(true)
    expect(isPortTaken(new Error('EACCES'))).toBe(false)
    const tries: number[] = []
    const messages: string[] = []
    await expect(openWithPortFallback(async (p) => (tries.push(p), Promise.reject(new Error('disk full'))), 5683, (m) => messages.push(m))).rejects.toThrow('disk full')
    expect(tries).toEqual([5683])
    expect(messages).toEqual([])
  })

  it('starts the console on another port when a real socket holds the wanted one, and says so', async () => {
    holder = createSocket('udp4')
    await new Promise<void>((resolve) => holder?.bind(0, '127.0.0.1', resolve))
    const taken = holder.address().port
    const log = recordingLogger()
    const dataDir = mkdtempSync(join(tmpdir(), 'ot-shell-'))
    const service = await startConsole({ dataDir, log, env: { OBJECTTWIN_COAP_PORT: String(taken) }, overrides: { localGateway: { enabled: false } } })
    try {
      expect(service.coapPorts.ipv4).toBeGreaterThan(0)
      expect(service.coapPorts.ipv4).not.toBe(taken)
      expect(log.lines.find((l) => l.startsWith('warn CoAP: port'))).toContain(`port ${taken} is taken`)
      expect(log.lines.find((l) => l.startsWith('info LwM2M server listening'))).toContain(`IPv4 ${service.coapPorts.ipv4}`)
    } finally {
      await service.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
