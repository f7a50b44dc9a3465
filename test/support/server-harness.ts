/** Starts the real LwM2M server on loopback UDP for integration tests, and waits on its events. */
import type { ConsoleEvent, ConsoleEventKind } from '../../shared/api/events.ts'
import { ObjectRegistry } from '../../shared/lwm2m/object-registry.ts'
import { UdpTransport } from '../../electron/coap/udp-transport.ts'
import { Lwm2mServer, type ServerOptions } from '../../electron/server/lwm2m-server.ts'

/** Polls `probe` until it returns something truthy; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(probe: () => T | undefined | null | false, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export type EventOf<K extends ConsoleEventKind> = Extract<ConsoleEvent, { kind: K }>

/** Records every event of a server (or console service) so tests can wait for one. */
export class EventLog {
  readonly events: ConsoleEvent[] = []
  readonly unsubscribe: () => void

  constructor(source: { onEvent(listener: (e: ConsoleEvent) => void): () => void }) {
    this.unsubscribe = source.onEvent((e) => this.events.push(e))
  }

  of<K extends ConsoleEventKind>(kind: K): EventOf<K>[] {
    return this.events.filter((e): e is EventOf<K> => e.kind === kind)
  }

  /** The first event of `kind` (already seen or still to come) that matches. */
  wait<K extends ConsoleEventKind>(kind: K, match: (e: EventOf<K>) => boolean = () => true, timeoutMs = 5000): Promise<EventOf<K>> {
    return waitFor(() => this.of(kind).find(match), `a "${kind}" event`, timeoutMs)
  }
}

export interface ServerHarness {
  readonly server: Lwm2mServer
  readonly transport: UdpTransport
  readonly port: number
  readonly log: EventLog
  close(): Promise<void>
}

/** An Lwm2mServer on 127.0.0.1 (port 0 unless given), without a store unless given one. */
export async function startServer(options: Partial<Omit<ServerOptions, 'transports'>> & { port?: number } = {}): Promise<ServerHarness> {
  const { port: wantedPort, ...serverOptions } = options
  const transport = new UdpTransport({ host4: '127.0.0.1', port: wantedPort ?? 0 })
  const { port4 } = await transport.listen()
  const server = new Lwm2mServer({ registry: ObjectRegistry.withBuiltins(), requestTimeoutMs: 3000, ...serverOptions, transports: [transport] })
  const log = new EventLog(server)
  await server.start()
  return {
    server,
    transport,
    port: port4 as number,
    log,
    close: async () => {
      log.unsubscribe()
      await server.stop()
      await transport.close()
    },
  }
}
