/*
 * A stand-in for the `electron` module, so the built main bundle (out/main/index.js) can start under
 * plain Node: enough of app, BrowserWindow, ipcMain, Menu, session, shell, dialog and safeStorage for
 * electron/main/index.ts and electron-log. It prints one line per thing the shell does ("stub: …"),
 * and quits the app once the window has loaded its page (the smoke test reads both). Loaded through
 * ./register.mjs, for the bundle's imports and for electron-log's require alike (Node loads ES modules
 * from require).
 */
import { EventEmitter } from 'node:events'
import { join } from 'node:path'

const say = (line) => process.stdout.write(`stub: ${line}\n`)
const userData = process.env.OBJECTTWIN_STUB_USER_DATA
if (!userData) throw new Error('electron stub: set OBJECTTWIN_STUB_USER_DATA to a temporary folder')

export const app = new EventEmitter()
Object.assign(app, {
  isPackaged: false,
  name: 'objecttwin-console',
  requestSingleInstanceLock: () => true,
  whenReady: () => Promise.resolve(),
  isReady: () => true,
  getName: () => 'objecttwin-console',
  getVersion: () => '0.0.0-smoke',
  getAppPath: () => process.cwd(),
  getLocale: () => 'en-US',
  getPath: (name) => (name === 'userData' ? userData : join(userData, name)),
  setPath: () => {},
  quit: () => {
    say('app.quit')
    let held = false
    app.emit('before-quit', { preventDefault: () => (held = true) })
    if (!held) app.exit(0)
  },
  exit: (code = 0) => {
    say(`app.exit ${code}`)
    app.emit('quit', {}, code)
    process.exit(code)
  },
})

class WebContents extends EventEmitter {
  send() {}
  isDestroyed() {
    return false
  }
  setWindowOpenHandler() {}
}

export class BrowserWindow extends EventEmitter {
  static windows = []
  static getAllWindows() {
    return BrowserWindow.windows
  }
  constructor(options) {
    super()
    this.webContents = new WebContents()
    BrowserWindow.windows.push(this)
    say(`window preload=${options.webPreferences.preload} sandbox=${options.webPreferences.sandbox} contextIsolation=${options.webPreferences.contextIsolation}`)
    app.emit('web-contents-created', {}, this.webContents)
  }
  async loadFile(file) {
    say(`window loadFile ${file}`)
    // The shell got as far as showing the UI: quit the way a user does.
    setImmediate(() => app.quit())
  }
  async loadURL(url) {
    say(`window loadURL ${url}`)
  }
  show() {}
  focus() {}
  isMinimized() {
    return false
  }
  restore() {}
}

export const ipcMain = Object.assign(new EventEmitter(), {
  channels: new Set(),
  handle(channel) {
    ipcMain.channels.add(channel)
  },
  removeHandler(channel) {
    ipcMain.channels.delete(channel)
  },
})

export const Menu = { buildFromTemplate: (template) => ({ template }), setApplicationMenu: () => say('menu set') }
export const session = { defaultSession: { webRequest: { onHeadersReceived() {} }, setPermissionRequestHandler() {} } }
export const shell = { openExternal: async () => {} }
export const dialog = { showErrorBox: (title, message) => say(`dialog ${title}: ${message}`) }
export const safeStorage = {
  isEncryptionAvailable: () => false,
  encryptString: () => {
    throw new Error('electron stub: no keychain')
  },
  decryptString: () => {
    throw new Error('electron stub: no keychain')
  },
}
export const nativeTheme = Object.assign(new EventEmitter(), { shouldUseDarkColors: false })
export const powerMonitor = new EventEmitter()
export const screen = new EventEmitter()
