import { describe, expect, it, vi } from 'vitest'
import { API_METHODS, type ApiMethodName } from '../../shared/api/console-api.ts'
import { APP_INFO_CHANNEL, BRIDGE_EXTRAS, CONSOLE_EVENT_CHANNEL, SHELL_COMMAND_CHANNEL, type ObjectTwinBridge } from '../../shared/api/bridge.ts'
import type { ConsoleEvent } from '../../shared/api/events.ts'

/** The real preload script with a stubbed `electron`: what it exposes, and that nothing of Electron leaks. */

const electron = vi.hoisted(() => {
  type Listener = (event: unknown, ...args: unknown[]) => void
  const listeners = new Map<string, Set<Listener>>()
  const exposed = new Map<string, unknown>()
  const invoked: Array<{ channel: string; args: unknown[] }> = []
  const ipcRenderer = {
    invoke: async (channel: string, ...args: unknown[]) => {
      invoked.push({ channel, args })
      return { ok: true, value: channel }
    },
    on: (channel: string, listener: Listener) => {
      listeners.set(channel, (listeners.get(channel) ?? new Set()).add(listener))
      return ipcRenderer
    },
    removeListener: (channel: string, listener: Listener) => {
      listeners.get(channel)?.delete(listener)
      return ipcRenderer
    },
    send: () => {
      throw new Error('the bridge never sends')
    },
  }
  /** What the main process would send: Electron passes the IpcRendererEvent (with `sender` = ipcRenderer) first. */
  const emit = (channel: string, payload: unknown): void => {
    for (const l of listeners.get(channel) ?? []) l({ sender: ipcRenderer }, payload)
  }
  return { listeners, exposed, invoked, ipcRenderer, emit }
})

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => electron.exposed.set(key, api) },
  ipcRenderer: electron.ipcRenderer,
}))

await import('../../electron/preload/index.ts')

const METHODS = Object.keys(API_METHODS) as ApiMethodName[]
const bridge = electron.exposed.get('objecttwin') as ObjectTwinBridge

describe('preload', () => {
  it('exposes one object, window.objecttwin, with every API method by name and nothing else of Electron', () => {
    expect([...electron.exposed.keys()]).toEqual(['objecttwin'])
    expect(Object.keys(bridge).sort()).toEqual([...METHODS, ...BRIDGE_EXTRAS].sort())
    for (const [name, value] of Object.entries(bridge)) expect(typeof value, name).toBe('function')
    for (const leak of ['ipcRenderer', 'invoke', 'send', 'on', 'sendSync', 'require', 'process']) expect(bridge).not.toHaveProperty(leak)
  })

  it('calls each method on its own channel with the input as given', async () => {
    for (const method of METHODS) {
      electron.invoked.length = 0
      const input = { probe: method }
      const answer = await (bridge[method] as (i: unknown) => Promise<unknown>)(input)
      expect(electron.invoked, method).toEqual([{ channel: API_METHODS[method].channel, args: [input] }])
      expect(answer).toEqual({ ok: true, value: API_METHODS[method].channel })
    }
    electron.invoked.length = 0
    await bridge.appInfo()
    expect(electron.invoked).toEqual([{ channel: APP_INFO_CHANNEL, args: [] }])
  })

  it('hands event listeners the batch only, never the IPC event, until unsubscribed', () => {
    const batches: unknown[][] = []
    const stop = bridge.subscribe((events) => batches.push([...events]))
    const events: ConsoleEvent[] = [
      { kind: 'log', time: 1, level: 'info', message: 'one' },
      { kind: 'sleeping', time: 2, endpoint: 'ep' },
    ]
    electron.emit(CONSOLE_EVENT_CHANNEL, events)
    electron.emit(CONSOLE_EVENT_CHANNEL, 'not a batch')
    expect(batches).toEqual([events])
    stop()
    expect(electron.listeners.get(CONSOLE_EVENT_CHANNEL)?.size).toBe(0)
    electron.emit(CONSOLE_EVENT_CHANNEL, events)
    expect(batches).toHaveLength(1)
  })

  it('passes on known shell commands only', () => {
    const commands: string[] = []
    const stop = bridge.onShellCommand((c) => commands.push(c))
    electron.emit(SHELL_COMMAND_CHANNEL, 'toggle-theme')
    electron.emit(SHELL_COMMAND_CHANNEL, 'format-disk')
    stop()
    electron.emit(SHELL_COMMAND_CHANNEL, 'toggle-theme')
    expect(commands).toEqual(['toggle-theme'])
  })
})
