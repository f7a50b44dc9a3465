import { join } from 'node:path'
import { app, BrowserWindow, dialog, ipcMain, Menu, safeStorage, session, shell } from 'electron'
import log from 'electron-log/main'
import { APP_INFO_CHANNEL, SHELL_COMMAND_CHANNEL, type AppInfo } from '../../shared/api/bridge.ts'
import { ok } from '../../shared/api/result.ts'
import type { ConsoleService } from '../console/console-service.ts'
import { RENDERER_CSP } from '../console/renderer-csp.ts'
import { menuTemplate } from './app-menu.ts'
import { createAppUpdater, updateSupport, type AppUpdater, type AutoUpdaterLike } from './app-updater.ts'
import { logConsoleEvents, startConsole } from './console-startup.ts'
import { redactLogMessage } from './log-redaction.ts'
import { desktopKeyProtector } from './safe-storage-protector.ts'
import { installGracefulShutdown } from './graceful-shutdown.ts'
import { forwardEvents, mergeEventSources, refuseUntrusted, registerApiHandlers } from './ipc-bridge.ts'
import { isTrustedSender, lockDown, mainWindowOptions, openExternalSafely, secureSession } from './window-policy.ts'

/*
 * The Electron shell: one window onto the console engine (ConsoleService) over IPC. Everything with
 * logic lives in the modules imported above, which tests drive without Electron.
 */

const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL']
const trusted = (frameUrl: string | undefined): boolean => isTrustedSender(frameUrl, devServerUrl)
const openExternal = (url: string): void => {
  openExternalSafely(url, (u) => shell.openExternal(u), (message) => log.warn(message))
}

let mainWindow: BrowserWindow | undefined
let service: ConsoleService | undefined
let updates: AppUpdater | undefined
let starting: Promise<ConsoleService | undefined> = Promise.resolve(undefined)

function createWindow(engine: ConsoleService, updater: AppUpdater): BrowserWindow {
  // Electronegativity cannot see into mainWindowOptions: contextIsolation and sandbox are set there (tests check both).
  const win = new BrowserWindow(mainWindowOptions(join(import.meta.dirname, '../preload/index.cjs'))) // eng-disable CONTEXT_ISOLATION_JS_CHECK SANDBOX_JS_CHECK
  win.once('ready-to-show', () => win.show())
  const stopEvents = forwardEvents(mergeEventSources(engine, updater), win.webContents)
  win.on('closed', () => {
    stopEvents()
    if (mainWindow === win) mainWindow = undefined
  })
  if (devServerUrl) void win.loadURL(devServerUrl)
  else void win.loadFile(join(import.meta.dirname, '../renderer/index.html'))
  return win
}

function focusWindow(): void {
  if (!mainWindow) return
  if (mainWindow.isMinimized()) mainWindow.restore()
  mainWindow.focus()
}

async function start(): Promise<ConsoleService | undefined> {
  await app.whenReady()
  secureSession(session.defaultSession, RENDERER_CSP)
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      menuTemplate({
        appName: app.getName(),
        platform: process.platform,
        isPackaged: app.isPackaged,
        sendCommand: (command) => mainWindow?.webContents.send(SHELL_COMMAND_CHANNEL, command),
        openExternal,
      }),
    ),
  )
  try {
    const dataDir = app.getPath('userData')
    // PSK keys at rest: the OS keychain through safeStorage (usable once the app is ready).
    service = await startConsole({ dataDir, log, env: process.env, overrides: { keyProtector: desktopKeyProtector(safeStorage, dataDir, log) } })
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    log.error(`the console could not start: ${message}`)
    dialog.showErrorBox('ObjectTwin Console could not start', message)
    app.exit(1)
    return undefined
  }
  logConsoleEvents(service, log)
  updates = createAppUpdater({
    support: updateSupport({ isPackaged: app.isPackaged, platform: process.platform, resourcesPath: process.resourcesPath, env: process.env }),
    currentVersion: app.getVersion(),
    preferencesFile: join(app.getPath('userData'), 'update-preferences.json'),
    // Loaded only in an installed app: electron-updater is CommonJS, its autoUpdater a lazy getter.
    loadUpdater: async () => {
      const { autoUpdater } = (await import('electron-updater')).default
      autoUpdater.logger = log
      // Its typed emitter lists more events than AutoUpdaterLike names; the ones used have the same signatures.
      return autoUpdater as unknown as AutoUpdaterLike
    },
    log,
  })
  registerApiHandlers(ipcMain, service, trusted, updates.handlers)
  mainWindow = createWindow(service, updates)
  void updates.checkOnStartIfWanted()
  return service
}

// One console per user (it owns the CoAP port and the database): a second launch focuses the first window.
if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  log.transports.file.level = 'info'
  // Keys, tokens and passwords never reach the log file or the console.
  log.hooks.push(redactLogMessage)
  log.errorHandler.startCatching()
  log.info(`${app.getName()} ${app.getVersion()} starting (Electron ${process.versions.electron}, ${process.platform})`)

  app.on('second-instance', focusWindow)
  // Every web contents, the window's and any other, is locked to the app.
  app.on('web-contents-created', (_event, contents) => lockDown(contents, openExternal))
  ipcMain.handle(APP_INFO_CHANNEL, (event) => {
    const info: AppInfo = { name: app.getName(), version: app.getVersion(), platform: process.platform }
    return refuseUntrusted(event, APP_INFO_CHANNEL, trusted) ?? ok(info)
  })
  installGracefulShutdown(app, {
    // A quit during start waits for it, so the local gateway still de-registers.
    close: async () => (await starting.catch(() => undefined))?.close(),
    log,
    signals: process,
  })
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })
  app.on('activate', () => {
    if (service && updates && BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow(service, updates)
  })
  starting = start()
}
