import type { z } from 'zod'
import type { API_METHODS, ApiMethodName } from './console-api.ts'
import type { ConsoleEvent } from './events.ts'
import type { Result } from './result.ts'

/**
 * What the Electron preload exposes as `window.objecttwin`: one function per API method (named as in
 * API_METHODS, answering the raw `Result` from the main process), the live events in batches, the
 * shell's menu commands and the app's identity. Nothing else of Electron reaches the renderer.
 */

export type ApiInput<M extends ApiMethodName> = z.input<(typeof API_METHODS)[M]['input']>
export type ApiValue<M extends ApiMethodName> = z.infer<(typeof API_METHODS)[M]['result']>

/** The one channel the main process sends live events on: an array of ConsoleEvents per message. */
export const CONSOLE_EVENT_CHANNEL = 'console:event'
/** Menu commands the renderer acts on (e.g. the theme), sent by the main process. */
export const SHELL_COMMAND_CHANNEL = 'shell:command'
export const APP_INFO_CHANNEL = 'app:info'

export const SHELL_COMMANDS = ['toggle-theme'] as const
export type ShellCommand = (typeof SHELL_COMMANDS)[number]

export interface AppInfo {
  readonly name: string
  readonly version: string
  readonly platform: string
}

export type BridgeApiMethods = { readonly [M in ApiMethodName]: (input?: ApiInput<M>) => Promise<Result<unknown>> }

export interface ObjectTwinBridge extends BridgeApiMethods {
  /** Live events as the main process batches them; returns the unsubscribe. */
  subscribe(listener: (events: readonly ConsoleEvent[]) => void): () => void
  onShellCommand(listener: (command: ShellCommand) => void): () => void
  appInfo(): Promise<Result<AppInfo>>
}

/** The bridge's own (non-API) members, for checks that it is complete. */
export const BRIDGE_EXTRAS = ['subscribe', 'onShellCommand', 'appInfo'] as const
