/** Starts our LwM2M client engine against a server on loopback, and waits on its events. */
import { defineObject } from '../../shared/lwm2m/models/compact.ts'
import { Lwm2mClient, type ClientEvent, type ClientOptions } from '../../electron/client/lwm2m-client.ts'
import type { ConsoleEventKind } from '../../shared/api/events.ts'
import { waitFor, type EventOf, type ServerHarness } from './server-harness.ts'

/** The `n`-th server event of `kind` that matches (1-based; already seen or still to come). */
export function serverEvent<K extends ConsoleEventKind>(h: Pick<ServerHarness, 'log'>, kind: K, match: (e: EventOf<K>) => boolean, n = 1, timeoutMs = 5000): Promise<EventOf<K>> {
  return waitFor(() => h.log.of(kind).filter(match)[n - 1], `server event "${kind}" #${n}`, timeoutMs)
}

export type ClientEventOf<K extends ClientEvent['kind']> = Extract<ClientEvent, { kind: K }>

/** Records every event of a client so tests can wait for one. */
export class ClientEventLog {
  readonly events: ClientEvent[] = []
  readonly unsubscribe: () => void

  constructor(client: Lwm2mClient) {
    this.unsubscribe = client.onEvent((e) => this.events.push(e))
  }

  of<K extends ClientEvent['kind']>(kind: K): ClientEventOf<K>[] {
    return this.events.filter((e): e is ClientEventOf<K> => e.kind === kind)
  }

  /** The `n`-th event of `kind` (1-based; already seen or still to come) that matches. */
  wait<K extends ClientEvent['kind']>(kind: K, match: (e: ClientEventOf<K>) => boolean = () => true, timeoutMs = 5000, n = 1): Promise<ClientEventOf<K>> {
    return waitFor(() => this.of(kind).filter(match)[n - 1], `client event "${kind}" #${n}`, timeoutMs)
  }
}

/** A generated ObjectTwin-like model, as the gateway will create at run time (object 1031, the paper's ECG service). */
export const ECG_TWIN = defineObject({ id: 1031, name: 'ECG Twin', multiple: true, description: 'ECG GATT service of a sensor' }, [
  [0, 'Service Description', 'R', 'string'],
  [1, 'ECG Value', 'R', 'integer'],
  [2, 'Sampling Rate', 'RW', 'integer', { units: 'Hz' }],
  [3, 'Timestamping', 'RW', 'boolean'],
  [4, 'Start', 'E', 'none'],
  [5, 'Gains', 'RW', 'integer', { multiple: true }],
  [6, 'Raw', 'RW', 'opaque'],
  [7, 'Skin Temperature', 'R', 'float', { units: 'Cel' }],
])

/** A multi-instance object the server may create and delete instances of. */
export const NOTES = defineObject({ id: 32001, name: 'Notes', multiple: true }, [
  [0, 'Text', 'RW', 'string', { mandatory: true }],
  [1, 'Priority', 'RW', 'integer'],
])

export interface StartedClient {
  readonly client: Lwm2mClient
  readonly log: ClientEventLog
  stop(): Promise<void>
}

/** A client bound to 127.0.0.1 with short timeouts; it starts registering at once. */
export async function startClient(options: Partial<ClientOptions> & { serverPort: number; endpoint: string }): Promise<StartedClient> {
  const { serverPort, ...rest } = options
  const client = new Lwm2mClient({
    serverUri: `coap://127.0.0.1:${serverPort}`,
    localAddress: '127.0.0.1',
    requestTimeoutMs: 1500,
    retryInitialMs: 100,
    retryMaxMs: 1000,
    ...rest,
  })
  const log = new ClientEventLog(client)
  await client.start()
  return {
    client,
    log,
    stop: async () => {
      await client.stop()
      log.unsubscribe()
    },
  }
}
