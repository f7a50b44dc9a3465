/** Starts the real LwM2M server on loopback UDP for integration tests, and waits on its events. */
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import type { ConsoleEvent, ConsoleEventKind } from '../../shared/api/events.ts'
import { ObjectRegistry } from '../../shared/lwm2m/object-registry.ts'
import { UdpTransport } from '../../electron/coap/udp-transport.ts'
import { Lwm2mServer, type ServerOptions } from '../../electron/server/lwm2m-server.ts'
import { TestClient, type TestClientOptions } from './test-client.ts'

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

export type ServerStartOptions = Partial<Omit<ServerOptions, 'transports'>> & { port?: number }

/** An Lwm2mServer on 127.0.0.1 (port 0 unless given), without a store unless given one. */
export async function startServer(options: ServerStartOptions = {}): Promise<ServerHarness> {
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


/** A server started before the enclosing suite's tests (beforeAll) and stopped after them (afterAll). */
export function useServer(options: ServerStartOptions = {}): ServerHarness {
  let started: ServerHarness | undefined
  const harness = (): ServerHarness => {
    if (started === undefined) throw new Error('the suite server starts in beforeAll: use it inside a hook or test')
    return started
  }
  beforeAll(async () => {
    started = await startServer(options)
  })
  afterAll(async () => {
    await started?.close()
  })
  return {
    get server() {
      return harness().server
    },
    get transport() {
      return harness().transport
    },
    get port() {
      return harness().port
    },
    get log() {
      return harness().log
    },
    close: () => harness().close(),
  }
}

type ClientOptions = Omit<TestClientOptions, 'serverPort'>

export interface TestClients {
  /** A test client of the server (default the suite's), closed after the test. */
  start(options: ClientOptions, server?: { readonly port: number }): Promise<TestClient>
  /** Such a client, registered (2.01 asserted). */
  registered(options: ClientOptions, server?: { readonly port: number }): Promise<TestClient>
  /** Closes a client started otherwise after the test, too. */
  track(client: TestClient): TestClient
}

/** Test clients of a suite's server, every one closed after each test (afterEach). */
export function useTestClients(suiteServer: () => { readonly port: number }): TestClients {
  const open: TestClient[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()))
  })
  const track = (client: TestClient): TestClient => {
    open.push(client)
    return client
  }
  const start = async (options: ClientOptions, server = suiteServer()): Promise<TestClient> =>
    track(await TestClient.start({ ...options, serverPort: server.port }))
  return {
    start,
    track,
    registered: async (options, server) => {
      const c = await start(options, server)
      expect((await c.register()).code).toBe('2.01')
      return c
    },
  }
}
