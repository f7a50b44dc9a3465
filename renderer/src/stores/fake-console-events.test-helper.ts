import type { ConnectionState } from '../../../shared/api/console-api.ts'
import type { ConsoleEvent } from '../../../shared/api/events.ts'

type Listener = (e: ConsoleEvent) => void

/**
 * The event side of a fake console API for store tests: `subscribe` and `onConnection` as the stores call them,
 * `emit` and `connect` for the test to drive by hand. A subscription's `kinds` filter is honoured as the real
 * transports do, so a store that forgets to ask for a kind misses it here too.
 */
export function fakeConsoleEvents(initial?: ConnectionState) {
  const subscriptions: { listener: Listener; kinds: readonly string[] | undefined }[] = []
  const connection: ((s: ConnectionState) => void)[] = []
  return {
    subscribe: (listener: Listener, options?: { kinds?: readonly string[] }) => {
      subscriptions.push({ listener, kinds: options?.kinds })
      return () => undefined
    },
    onConnection: (listener: (s: ConnectionState) => void) => {
      connection.push(listener)
      if (initial) listener(initial)
      return () => undefined
    },
    emit: (e: ConsoleEvent) => subscriptions.filter((s) => !s.kinds || s.kinds.includes(e.kind)).forEach((s) => s.listener(e)),
    connect: (s: ConnectionState) => connection.forEach((l) => l(s)),
  }
}
