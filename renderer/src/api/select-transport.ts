import type { ConsoleApi } from '../../../shared/api/console-api.ts'
import { createHttpTransport } from './http-transport.ts'
import { createIpcTransport, isConsoleBridge } from './ipc-transport.ts'

export type TransportKind = 'ipc' | 'http'

const TOKEN_KEY = 'objecttwin.token'

/**
 * The token for `objecttwin serve --token`: taken once from `?token=` (then removed from the address
 * bar, so it is not left in history or screenshots) and kept for the tab's session.
 */
export function takeToken(win: Window): string | undefined {
  const url = new URL(win.location.href)
  const given = url.searchParams.get('token')
  if (given) {
    try {
      win.sessionStorage.setItem(TOKEN_KEY, given)
    } catch {
      // Storage may be disabled; the token still works for this page.
    }
    url.searchParams.delete('token')
    win.history.replaceState(win.history.state, '', url.pathname + url.search + url.hash)
    return given
  }
  try {
    return win.sessionStorage.getItem(TOKEN_KEY) ?? undefined
  } catch {
    return undefined
  }
}

/**
 * Picks the transport at start: the Electron preload's `window.objecttwin` when it carries the API
 * (IPC), else REST + SSE against the page's own origin (`objecttwin serve`).
 */
export function selectTransport(win: Window = window): { kind: TransportKind; api: ConsoleApi } {
  const bridge = (win as unknown as { objecttwin?: unknown }).objecttwin
  if (isConsoleBridge(bridge)) return { kind: 'ipc', api: createIpcTransport(bridge) }
  const token = takeToken(win)
  return { kind: 'http', api: createHttpTransport(token ? { token } : {}) }
}
