/** The part of Electron's `app` graceful shutdown needs. */
export interface QuittableApp {
  on(event: 'before-quit', listener: (event: { preventDefault(): void }) => void): unknown
  quit(): void
  exit(code?: number): void
}

/** The part of `process` for the signals (tests pass an emitter). */
export interface SignalSource {
  on(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown
}

export interface ShutdownOptions {
  /** Closes the console: de-registers the local gateway, stops the server, closes the store. */
  readonly close: () => Promise<void>
  readonly log: { info(message: string): void; error(message: string): void }
  readonly signals?: SignalSource
  /** A close that hangs longer than this does not keep the app open (default 10 s). */
  readonly timeoutMs?: number
}

/** `promise`, or a rejection naming the wait once `ms` have passed. */
function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`still not closed after ${ms} ms`)), ms)
  })
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer))
}

/**
 * Quitting waits for the console to close: the first before-quit is held back (preventDefault)
 * while `close` runs, then the app exits. Later before-quits during that wait are held back too,
 * so `close` runs exactly once. SIGINT/SIGTERM (a terminal's Ctrl+C, a service manager) quit the
 * same way.
 */
export function installGracefulShutdown(app: QuittableApp, options: ShutdownOptions): void {
  let closing: Promise<void> | undefined
  app.on('before-quit', (event) => {
    event.preventDefault()
    if (closing) return
    options.log.info('quitting: closing the console')
    closing = withTimeout(options.close(), options.timeoutMs ?? 10_000).then(
      () => app.exit(0),
      (e: unknown) => {
        options.log.error(`closing the console failed: ${e instanceof Error ? e.message : String(e)}`)
        app.exit(1)
      },
    )
  })
  const onSignal = (): void => app.quit()
  options.signals?.on('SIGINT', onSignal)
  options.signals?.on('SIGTERM', onSignal)
}
