/** Resolves at the first SIGINT or SIGTERM; the listeners are removed then, so a second signal acts as usual. */
export function shutdownSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}

/**
 * Called once a command has shut down gracefully. Nothing should keep the event loop alive by then, but a stray
 * timer of a dependency sometimes does (seen once in a dozen `serve --demo` runs); exit anyway, without cutting
 * short the writes of a clean exit.
 */
export function exitAfterShutdown(code = 0): void {
  process.exitCode = code
  setTimeout(() => process.exit(code), 500).unref()
}
