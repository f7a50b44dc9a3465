import type { BrowserWindowConstructorOptions } from 'electron'

/** The security baseline of every window (DESIGN.md). Kept apart from index.ts so tests can import it. */
export const SECURE_WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  webviewTag: false,
  spellcheck: false,
} as const

/** The only URLs the app hands to the system browser. */
export function isAllowedExternalUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url)
    return protocol === 'https:' || protocol === 'http:'
  } catch {
    return false
  }
}

/** IPC is answered only for our own pages: the bundled file, or the dev server on loopback. */
export function isTrustedSender(frameUrl: string | undefined, devServerUrl = process.env['ELECTRON_RENDERER_URL']): boolean {
  if (!frameUrl) return false
  try {
    const url = new URL(frameUrl)
    if (url.protocol === 'file:') return url.pathname.endsWith('/renderer/index.html')
    return devServerUrl !== undefined && url.origin === new URL(devServerUrl).origin
  } catch {
    return false
  }
}

/** The main window's options: the baseline plus our preload, and nothing that loosens it. */
export function mainWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 800,
    minWidth: 800,
    minHeight: 500,
    title: 'ObjectTwin Console',
    show: false,
    webPreferences: { ...SECURE_WEB_PREFERENCES, preload: preloadPath },
  }
}

/** The parts of a WebContents that lockDown touches (tests pass a stand-in). */
export interface LockableContents {
  on(event: 'will-navigate' | 'will-redirect' | 'will-attach-webview', listener: (event: { preventDefault(): void }, ...args: unknown[]) => void): unknown
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void
}

/**
 * No navigation away from the app, no new windows, no webviews; an http(s) link the page tries to
 * open goes to the system browser through `openExternal` (the one helper), anything else nowhere.
 */
export function lockDown(contents: LockableContents, openExternal: (url: string) => void): void {
  contents.on('will-navigate', (event) => event.preventDefault())
  contents.on('will-redirect', (event) => event.preventDefault())
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(({ url }) => {
    openExternal(url)
    return { action: 'deny' }
  })
}

/** The one way out to the system browser: http(s) only; false (and nothing opened) for anything else. */
export function openExternalSafely(url: string, open: (url: string) => Promise<void>, onError: (message: string) => void = () => {}): boolean {
  if (!isAllowedExternalUrl(url)) {
    onError(`refused to open ${url.slice(0, 200)}: only http(s) links open outside the app`)
    return false
  }
  open(url).catch((e: unknown) => onError(`could not open ${url}: ${e instanceof Error ? e.message : String(e)}`))
  return true
}

/** The parts of an Electron Session that secureSession sets. */
export interface SecurableSession {
  readonly webRequest: {
    onHeadersReceived(listener: (details: { responseHeaders?: Record<string, string[]> }, callback: (response: { responseHeaders?: Record<string, string[]> }) => void) => void): void
  }
  setPermissionRequestHandler(handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void): void
}

/** Permissions the UI may use: writing to the clipboard (copy a value). Camera, location, notifications… are refused. */
const GRANTED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write'])

/**
 * The CSP as a response header too (the dev server's pages; the bundled file carries the same policy
 * in its meta tag, as file:// has no headers), and no permission beyond the clipboard.
 */
export function secureSession(session: SecurableSession, csp: string): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } })
  })
  session.setPermissionRequestHandler((_contents, permission, callback) => callback(GRANTED_PERMISSIONS.has(permission)))
}
