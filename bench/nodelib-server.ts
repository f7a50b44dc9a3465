/**
 * lwm2m-node-lib's LwM2M server (a devDependency, on its own coap 0.22; the library of the paper's
 * prototype): the benchmark's comparison server, and an independent server for our client's tests.
 * Starts on a given or free port, reports the registration handlers as events, does DM in text/plain.
 * The package keeps its state in module scope, so one instance runs at a time.
 */
import { createSocket } from 'node:dgram'
import { createRequire } from 'node:module'

type Callback<T = unknown> = (error: (Error & { code?: string }) | null | undefined, value?: T) => void

interface NodeLibDevice {
  readonly id: number
  readonly name: string
  readonly lifetime: string
  readonly address: string
  readonly port: number
}

interface NodeLibServerApi {
  start(config: Record<string, unknown>, callback: Callback<unknown>): void
  stop(serverInfo: unknown, callback: Callback): void
  setHandler(serverInfo: unknown, type: string, handler: (...args: unknown[]) => void): void
  getDevice(name: string, callback: Callback<NodeLibDevice>): void
  read(deviceId: number, o: number, i: number, r: number, callback: Callback<string>): void
  write(deviceId: number, o: number, i: number, r: number, value: string, callback: Callback<string>): void
  execute(deviceId: number, o: number, i: number, r: number, value: string, callback: Callback<string>): void
  discover(deviceId: number, o: number, i: number, r: number, callback: Callback<string>): void
  writeAttributes(deviceId: number, o: number, i: number, r: number, attributes: Record<string, number>, callback: Callback<string>): void
  create(deviceId: number, o: number, i: number, callback: Callback<string>): void
  observe(deviceId: number, o: number, i: number, r: number, handler: (value: string) => void, callback: Callback<string>): void
  cleanObservers(callback: Callback): void
  getRegistry(): { stopLifetimeCheck(): void; clean(callback: () => void): void }
}

function load(): NodeLibServerApi {
  const require = createRequire(import.meta.url)
  // Its mongoose import prints circular-require warnings; they say nothing about this test.
  const emitWarning = process.emitWarning
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(typeof warning === 'string' ? warning : warning.message).includes('circular dependency')) return
    return (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest)
  }) as typeof process.emitWarning
  try {
    ;(require('logops') as { setLevel(level: string): void }).setLevel('FATAL')
    return (require('lwm2m-node-lib') as { server: NodeLibServerApi }).server
  } catch (e) {
    throw new Error(`lwm2m-node-lib cannot be loaded (it is a devDependency: run npm ci, or pass --no-nodelib): ${(e as Error).message}`, { cause: e })
  } finally {
    process.emitWarning = emitWarning
  }
}

/** A free UDP port: lwm2m-node-lib proxies its requests through its own port, so it cannot listen on 0. */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(0, '127.0.0.1', () => resolve())
  })
  const { port } = socket.address()
  await new Promise<void>((resolve) => socket.close(() => resolve()))
  return port
}

export type NodeLibEvent =
  | { readonly kind: 'registration'; readonly endpoint: string; readonly lifetime: string; readonly version: string; readonly binding: string; readonly payload: string }
  | { readonly kind: 'updateRegistration'; readonly endpoint: string; readonly payload: string }
  | { readonly kind: 'unregistration'; readonly endpoint: string }

const call = <T>(run: (cb: Callback<T>) => void): Promise<T> =>
  new Promise((resolve, reject) => run((error, value) => (error ? reject(new Error(`lwm2m-node-lib: ${error.code ?? ''} ${error.message ?? String(error)}`)) : resolve(value as T))))

export class NodeLibServer {
  readonly port: number
  readonly events: NodeLibEvent[] = []
  private readonly api: NodeLibServerApi
  private readonly info: unknown

  private constructor(api: NodeLibServerApi, info: unknown, port: number) {
    this.api = api
    this.info = info
    this.port = port
    api.setHandler(info, 'registration', (endpoint, lifetime, version, binding, payload, cb) => {
      this.events.push({ kind: 'registration', endpoint: String(endpoint), lifetime: String(lifetime), version: String(version), binding: String(binding), payload: String(payload) })
      ;(cb as () => void)()
    })
    api.setHandler(info, 'updateRegistration', (device, payload, cb) => {
      this.events.push({ kind: 'updateRegistration', endpoint: (device as NodeLibDevice).name, payload: String(payload) })
      ;(cb as () => void)()
    })
    api.setHandler(info, 'unregistration', (device, cb) => {
      this.events.push({ kind: 'unregistration', endpoint: (device as NodeLibDevice).name })
      ;(cb as () => void)()
    })
  }

  static async start(port?: number): Promise<NodeLibServer> {
    const api = load()
    const p = port ?? (await freeUdpPort())
    const config = {
      port: p,
      lifetimeCheckInterval: 1000,
      udpWindow: 100,
      defaultType: 'Device',
      logLevel: 'FATAL',
      ipProtocol: 'udp4',
      serverProtocol: 'udp4',
      defaultAcceptFormat: 'text/plain',
      writeFormat: 'text/plain',
    }
    const info = await call<unknown>((cb) => api.start(config, cb))
    return new NodeLibServer(api, info, p)
  }

  of<K extends NodeLibEvent['kind']>(kind: K): Extract<NodeLibEvent, { kind: K }>[] {
    return this.events.filter((e): e is Extract<NodeLibEvent, { kind: K }> => e.kind === kind)
  }

  device(endpoint: string): Promise<NodeLibDevice> {
    return call((cb) => this.api.getDevice(endpoint, cb))
  }

  /** The internal id lwm2m-node-lib gave a registered endpoint (its DM calls take it). */
  async deviceId(endpoint: string): Promise<number> {
    return (await this.device(endpoint)).id
  }

  read(id: number, o: number, i: number, r: number): Promise<string> {
    return call((cb) => this.api.read(id, o, i, r, cb))
  }

  write(id: number, o: number, i: number, r: number, value: string): Promise<string> {
    return call((cb) => this.api.write(id, o, i, r, value, cb))
  }

  execute(id: number, o: number, i: number, r: number, args: string): Promise<string> {
    return call((cb) => this.api.execute(id, o, i, r, args, cb))
  }

  discover(id: number, o: number, i: number, r: number): Promise<string> {
    return call((cb) => this.api.discover(id, o, i, r, cb))
  }

  writeAttributes(id: number, o: number, i: number, r: number, attributes: Record<string, number>): Promise<string> {
    return call((cb) => this.api.writeAttributes(id, o, i, r, attributes, cb))
  }

  create(id: number, o: number, i: number): Promise<string> {
    return call((cb) => this.api.create(id, o, i, cb))
  }

  /** Observe one resource; resolves to the first value, later ones go to `onValue`. */
  observe(id: number, o: number, i: number, r: number, onValue: (value: string) => void): Promise<string> {
    return call((cb) => this.api.observe(id, o, i, r, onValue, cb))
  }

  async stop(): Promise<void> {
    await call((cb) => this.api.cleanObservers(cb)).catch(() => undefined)
    await new Promise<void>((resolve) => this.api.stop(this.info, () => resolve()))
    const registry = this.api.getRegistry()
    registry.stopLifetimeCheck() // its stop() leaves the lifetime timer running
    await new Promise<void>((resolve) => registry.clean(resolve))
  }
}
