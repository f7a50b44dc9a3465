import type { ObjectTwinBridge, ShellCommand } from '../../../shared/api/bridge.ts'

/**
 * Acts on the Electron menu's commands (e.g. View → Toggle theme). In a browser there is no bridge
 * and nothing to listen to; returns the function that stops listening.
 */
export function listenToShellCommands(win: Window, handlers: Readonly<Record<ShellCommand, () => void>>): () => void {
  const bridge = (win as unknown as { objecttwin?: Partial<ObjectTwinBridge> }).objecttwin
  if (typeof bridge?.onShellCommand !== 'function') return () => {}
  return bridge.onShellCommand((command) => handlers[command]?.())
}
