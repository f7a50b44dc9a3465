import type { GatewayStatus } from './gateway-schemas.ts'
import type { ClientInfo, RecordJson } from './schemas.ts'
import type { UpdateStatus } from './update-schemas.ts'

/** One CoAP exchange, decoded, for the wire log. */
export interface WireEntry {
  readonly direction: 'in' | 'out'
  readonly peer: string
  readonly endpoint?: string
  /** Request method, or "notify" for a notification. */
  readonly method: string
  readonly path: string
  readonly code?: string
  readonly contentFormat?: number
  readonly durationMs?: number
  /** A short decoded rendering of the payload (truncated). */
  readonly summary?: string
}

interface Base {
  /** Milliseconds since the epoch when the console saw it. */
  readonly time: number
}

export type ConsoleEvent =
  | (Base & { readonly kind: 'registered'; readonly client: ClientInfo; readonly replaced: boolean })
  | (Base & { readonly kind: 'updated'; readonly client: ClientInfo; readonly objectsChanged: boolean })
  | (Base & { readonly kind: 'deregistered'; readonly endpoint: string; readonly registrationId: string })
  | (Base & { readonly kind: 'expired'; readonly endpoint: string; readonly registrationId: string })
  | (Base & { readonly kind: 'sleeping'; readonly endpoint: string })
  | (Base & { readonly kind: 'awake'; readonly endpoint: string; readonly queuedRequests: number })
  | (Base & {
      readonly kind: 'notification'
      readonly endpoint: string
      readonly observationId: string
      readonly paths: readonly string[]
      readonly code: string
      readonly records: readonly RecordJson[]
      readonly decodeError?: string
    })
  | (Base & { readonly kind: 'send'; readonly endpoint: string; readonly records: readonly RecordJson[] })
  | (Base & { readonly kind: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string; readonly wire?: WireEntry })
  /** The local gateway changed (adapter, scan results, sensors, twins, link quality); at most a few per second. */
  | (Base & { readonly kind: 'gateway'; readonly status: GatewayStatus })
  /**
   * An adaptive sampling decision (issue 7, paper Fig. 10b): the drop ratio of the window just ended, and the ECG
   * twin's sampling rate before and after (equal when a bound holds it). `path` is the sampling-rate resource.
   */
  | (Base & { readonly kind: 'control'; readonly endpoint: string; readonly path: string; readonly dropRatio: number; readonly oldRate: number; readonly newRate: number })
  /** The desktop app's updater changed state or made download progress (sent by the Electron main process only). */
  | (Base & { readonly kind: 'update'; readonly status: UpdateStatus })

export type ConsoleEventKind = ConsoleEvent['kind']

export const EVENT_KINDS: readonly ConsoleEventKind[] = ['registered', 'updated', 'deregistered', 'expired', 'sleeping', 'awake', 'notification', 'send', 'log', 'gateway', 'control', 'update']
