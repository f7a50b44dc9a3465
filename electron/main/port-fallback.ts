/** Whether `e` (or an error it wraps) says the port is taken. */
export function isPortTaken(e: unknown): boolean {
  for (let cause: unknown = e, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if ((cause as NodeJS.ErrnoException).code === 'EADDRINUSE') return true
  }
  return false
}

/**
 * Opens on `preferred`; when another program holds that port (a second LwM2M server, say), opens
 * on any free port instead and says so through `onFallback`. Any other failure is thrown.
 */
export async function openWithPortFallback<T>(open: (port: number) => Promise<T>, preferred: number, onFallback: (message: string) => void): Promise<T> {
  try {
    return await open(preferred)
  } catch (e) {
    if (preferred === 0 || !isPortTaken(e)) throw e
    onFallback(`port ${preferred} is taken (${(e as Error).message}); using a free port instead`)
    return open(0)
  }
}
