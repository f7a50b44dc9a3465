import { API_METHODS, type ApiMethodName } from '../../shared/api/console-api.ts'
import { APP_INFO_CHANNEL, CONSOLE_EVENT_CHANNEL, SHELL_COMMANDS, SHELL_COMMAND_CHANNEL, type BridgeApiMethods, type ObjectTwinBridge, type ShellCommand } from '../../shared/api/bridge.ts'
import type { ConsoleEvent } from '../../shared/api/events.ts'

/** The part of Electron's ipcRenderer the bridge uses (an in-memory pair in tests). */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown
}

/** Adds `listener` for `channel`, handing it only the payload (never the IPC event, whose `sender` is ipcRenderer). */
function listen<T>(ipc: IpcRendererLike, channel: string, accept: (payload: unknown) => T | undefined, listener: (payload: T) => void): () => void {
  const wrapped = (_event: unknown, payload: unknown): void => {
    const value = accept(payload)
    if (value !== undefined) listener(value)
  }
  ipc.on(channel, wrapped)
  return () => {
    ipc.removeListener(channel, wrapped)
  }
}

/**
 * What `window.objecttwin` carries: one named function per API method, generated from API_METHODS
 * (so a new method is bridged without code here), events, shell commands and app info. Every
 * function passes plain data only; the renderer never gets hold of ipcRenderer.
 */
export function createPreloadBridge(ipc: IpcRendererLike): ObjectTwinBridge {
  const methods: Record<string, (input?: unknown) => Promise<unknown>> = {}
  for (const method of Object.keys(API_METHODS) as ApiMethodName[]) {
    const { channel } = API_METHODS[method]
    methods[method] = (input?: unknown) => ipc.invoke(channel, input)
  }
  return {
    ...(methods as unknown as BridgeApiMethods),
    subscribe: (listener: (events: readonly ConsoleEvent[]) => void) =>
      listen(ipc, CONSOLE_EVENT_CHANNEL, (p) => (Array.isArray(p) ? (p as ConsoleEvent[]) : undefined), listener),
    onShellCommand: (listener: (command: ShellCommand) => void) =>
      listen(ipc, SHELL_COMMAND_CHANNEL, (p) => (SHELL_COMMANDS.includes(p as ShellCommand) ? (p as ShellCommand) : undefined), listener),
    appInfo: () => ipc.invoke(APP_INFO_CHANNEL) as ReturnType<ObjectTwinBridge['appInfo']>,
  }
}
