import type { EventSink, IpcMainLike, InvokeEventLike } from '../../electron/main/ipc-bridge.ts'
import type { IpcRendererLike } from '../../electron/preload/bridge.ts'

type Handler = (event: InvokeEventLike, ...args: unknown[]) => unknown
type Listener = (event: unknown, ...args: unknown[]) => void

/** The bundled page's address, as Electron reports it for the window's frame. */
export const APP_FRAME_URL = 'file:///opt/ObjectTwin/resources/app.asar/out/renderer/index.html'

/**
 * ipcMain, ipcRenderer and a window's webContents joined in memory, behaving as Electron's do where
 * it matters: one handler per channel, a rejected invoke without one, and every payload copied with
 * the structured clone algorithm in both directions (so nothing that IPC cannot carry slips through).
 */
export function ipcPair(frameUrl: string | null = APP_FRAME_URL): {
  ipcMain: IpcMainLike
  ipcRenderer: IpcRendererLike
  webContents: EventSink & { destroyed: boolean }
  handlers: Map<string, Handler>
  /** What the renderer side's listeners received as their first argument (the IPC event). */
  eventObjects: unknown[]
} {
  const handlers = new Map<string, Handler>()
  const listeners = new Map<string, Set<Listener>>()
  const eventObjects: unknown[] = []
  const ipcMain: IpcMainLike = {
    handle(channel, listener) {
      if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`)
      handlers.set(channel, listener)
    },
    removeHandler(channel) {
      handlers.delete(channel)
    },
  }
  const ipcRenderer: IpcRendererLike = {
    async invoke(channel, ...args) {
      const handler = handlers.get(channel)
      if (!handler) throw new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`)
      const answer = await handler({ senderFrame: frameUrl === null ? null : { url: frameUrl } }, ...args.map((a) => structuredClone(a)))
      return structuredClone(answer)
    },
    on(channel, listener) {
      const set = listeners.get(channel) ?? new Set()
      set.add(listener)
      listeners.set(channel, set)
      return ipcRenderer
    },
    removeListener(channel, listener) {
      listeners.get(channel)?.delete(listener)
      return ipcRenderer
    },
  }
  const webContents = {
    destroyed: false,
    send(channel: string, payload: unknown) {
      for (const listener of listeners.get(channel) ?? []) {
        // Electron hands the listener an IpcRendererEvent whose `sender` is ipcRenderer itself.
        const event = { sender: ipcRenderer, senderId: 0 }
        eventObjects.push(event)
        listener(event, structuredClone(payload))
      }
    },
    isDestroyed: () => webContents.destroyed,
  }
  return { ipcMain, ipcRenderer, webContents, handlers, eventObjects }
}
