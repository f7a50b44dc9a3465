import { join } from 'node:path'
import { app, BrowserWindow, ipcMain, shell, type WebContents } from 'electron'
import { SECURE_WEB_PREFERENCES, isAllowedExternalUrl, isTrustedSender } from './window-policy.ts'

// One console per user: a second launch focuses the first window.
if (!app.requestSingleInstanceLock()) app.quit()

let mainWindow: BrowserWindow | undefined

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    title: 'ObjectTwin Console',
    show: false,
    webPreferences: { ...SECURE_WEB_PREFERENCES, preload: join(import.meta.dirname, '../preload/index.cjs') },
  })
  win.once('ready-to-show', () => win.show())
  lockDown(win.webContents)
  const devUrl = process.env['ELECTRON_RENDERER_URL']
  if (!app.isPackaged && devUrl) void win.loadURL(devUrl)
  else void win.loadFile(join(import.meta.dirname, '../renderer/index.html'))
  return win
}

/** No navigation away from the app, no new windows; http(s) links open in the system browser. */
function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault())
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternalUrl(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
}

ipcMain.handle('app:info', (event) => {
  if (!isTrustedSender(event.senderFrame?.url)) throw new Error('app:info: request from an untrusted frame')
  return { name: app.getName(), version: app.getVersion(), platform: process.platform }
})

app.on('second-instance', () => {
  if (mainWindow?.isMinimized()) mainWindow.restore()
  mainWindow?.focus()
})

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault())
})

void app.whenReady().then(() => {
  mainWindow = createWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow()
  })
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
