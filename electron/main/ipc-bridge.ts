import { API_METHODS, type ApiMethodName } from '../../shared/api/console-api.ts'
import { CONSOLE_EVENT_CHANNEL } from '../../shared/api/bridge.ts'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import { fail, type Result } from '../../shared/api/result.ts'
import { dispatchApi, type ShellHandlers } from '../console/api-dispatch.ts'
import type { ConsoleService } from '../console/console-service.ts'

/**
 * The main-process side of the IPC transport, free of Electron so tests can drive it: one
 * `handle` per API method, each checking the sender frame, validating the input and answering a
 * Result; and the live events, batched, to the window.
 */

/** The part of an IPC invoke event the handlers read (Electron's IpcMainInvokeEvent). */
export interface InvokeEventLike {
  readonly senderFrame?: { readonly url: string } | null
}

/** The part of Electron's ipcMain the bridge uses. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void
  removeHandler(channel: string): void
}

/** Answers a request only for frames this returns true for (our own page). */
export type SenderCheck = (frameUrl: string | undefined) => boolean

/**
 * Registers one handler per API_METHODS entry on its channel; returns the function that removes
 * them. A request from an untrusted frame is refused with `unauthorized` before anything else. The
 * main-process-only methods (the updater) go to `shell`; without it they answer `unavailable`.
 */
export function registerApiHandlers(ipc: IpcMainLike, service: ConsoleService, isTrustedSender: SenderCheck, shell?: ShellHandlers): () => void {
  const channels: string[] = []
  for (const method of Object.keys(API_METHODS) as ApiMethodName[]) {
    const { channel } = API_METHODS[method]
    ipc.handle(channel, (event, input) => {
      const refused = refuseUntrusted(event, channel, isTrustedSender)
      return refused ?? dispatchApi(service, method, input, shell)
    })
    channels.push(channel)
  }
  return () => {
    for (const channel of channels) ipc.removeHandler(channel)
  }
}

/** `unauthorized` for a frame that is not our page; undefined when it is. */
export function refuseUntrusted(event: InvokeEventLike, channel: string, isTrustedSender: SenderCheck): Result<never> | undefined {
  // senderFrame is null once the frame has navigated away or been destroyed.
  const url = event.senderFrame?.url
  return isTrustedSender(url) ? undefined : fail('unauthorized', `${channel}: refused a request from an untrusted frame (${url ?? 'no frame'})`)
}

/** Where batched events go: the window's webContents, while it lives. */
export interface EventSink {
  send(channel: string, events: readonly ConsoleEvent[]): void
  isDestroyed(): boolean
}

/** Runs `flush` once, later; returns how to cancel it. */
export type FlushScheduler = (flush: () => void) => () => void

/** One IPC message per ~frame: an ECG stream is many small notifications a second. */
export const EVENT_BATCH_MS = 16

export const timerScheduler: FlushScheduler = (flush) => {
  const timer = setTimeout(flush, EVENT_BATCH_MS)
  return () => clearTimeout(timer)
}

/** Something with live events: the console engine, the updater. */
export type EventSource = Pick<ConsoleService, 'onEvent'>

/** One event source out of several (the engine's events and the main process's own, e.g. the updater's). */
export function mergeEventSources(...sources: readonly EventSource[]): EventSource {
  return {
    onEvent(listener) {
      const stops = sources.map((source) => source.onEvent(listener))
      return () => {
        for (const stop of stops) stop()
      }
    },
  }
}

/**
 * Forwards the service's events to `sink` on one channel, as arrays gathered over EVENT_BATCH_MS.
 * Returns the function that stops forwarding (pending events are dropped with the window).
 */
export function forwardEvents(service: EventSource, sink: EventSink, schedule: FlushScheduler = timerScheduler): () => void {
  let batch: ConsoleEvent[] = []
  let cancel: (() => void) | undefined
  const flush = (): void => {
    cancel = undefined
    const events = batch
    batch = []
    if (!sink.isDestroyed()) sink.send(CONSOLE_EVENT_CHANNEL, events)
  }
  const unsubscribe = service.onEvent((event) => {
    batch.push(event)
    cancel ??= schedule(flush)
  })
  return () => {
    unsubscribe()
    cancel?.()
    cancel = undefined
    batch = []
  }
}
