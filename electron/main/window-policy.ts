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
