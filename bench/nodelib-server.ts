import { createSocket } from 'node:dgram'
import { createRequire } from 'node:module'

/** The part of lwm2m-node-lib's server API the bench uses (lib/lwm2m-server.js). */
interface NodeLibApi {
  start(config: Record<string, unknown>, callback: (error: Error | null, serverInfo: unknown) => void): void
  stop(serverInfo: unknown, callback: (error?: Error | null) => void): void
  read(deviceId: number, objectType: number, objectId: number, resourceId: number, callback: (error: Error | null, value?: string) => void): void
  getDevice(name: string, callback: (error: Error | null, device?: { id: number }) => void): void
  getRegistry(): { stopLifetimeCheck(): void; clean(callback: () => void): void }
}

/** Loads lwm2m-node-lib (a devDependency), silencing the circular-require warnings its mongoose import prints. */
function loadNodeLib(): NodeLibApi {
  const require = createRequire(import.meta.url)
  const emitWarning = process.emitWarning
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(typeof warning === 'string' ? warning : warning.message).includes('circular dependency')) return
    return (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest)
  }) as typeof process.emitWarning
  try {
    return (require('lwm2m-node-lib') as { server: NodeLibApi }).server
  } catch (e) {
    throw new Error(`lwm2m-node-lib cannot be loaded (it is a devDependency: run npm ci, or pass --no-nodelib): ${(e as Error).message}`, { cause: e })
  } finally {
    process.emitWarning = emitWarning
  }
}

/** A free UDP port: lwm2m-node-lib sends its reads through its own port, so it cannot listen on port 0. */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(0, '127.0.0.1', () => resolve())
  })
  const { port } = socket.address()
  await new Promise<void>((resolve) => socket.close(() => resolve()))
  return port
}

/**
 * lwm2m-node-lib's LwM2M server (in-memory registry), for comparison. Its reads go through a new
 * coap 0.22 Agent per request, proxied by its own server socket to the client.
 */
export class NodeLibServer {
  readonly port: number
  private readonly api: NodeLibApi
  private readonly info: unknown

  private constructor(api: NodeLibApi, info: unknown, port: number) {
    this.api = api
    this.info = info
    this.port = port
  }

  static async start(): Promise<NodeLibServer> {
    const api = loadNodeLib()
    const port = await freeUdpPort()
    const config = {
      port,
      lifetimeCheckInterval: 1000,
      udpWindow: 100,
      defaultType: 'Device',
      logLevel: 'FATAL',
      ipProtocol: 'udp4',
      serverProtocol: 'udp4',
      defaultAcceptFormat: 'text/plain',
    }
    const info = await new Promise<unknown>((resolve, reject) => api.start(config, (error, serverInfo) => (error ? reject(error) : resolve(serverInfo))))
    return new NodeLibServer(api, info, port)
  }

  deviceId(endpoint: string): Promise<number> {
    return new Promise((resolve, reject) =>
      this.api.getDevice(endpoint, (error, device) => (error || !device ? reject(new Error(`lwm2m-node-lib does not know ${endpoint}: ${error?.message ?? 'no device'}`)) : resolve(device.id))),
    )
  }

  /** Read /o/i/r; resolves to the text the client answered. */
  read(deviceId: number, objectId: number, instanceId: number, resourceId: number): Promise<string> {
    return new Promise((resolve, reject) => this.api.read(deviceId, objectId, instanceId, resourceId, (error, value) => (error ? reject(new Error(`lwm2m-node-lib read failed: ${error.message}`)) : resolve(value ?? ''))))
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.api.stop(this.info, () => resolve()))
    const registry = this.api.getRegistry()
    registry.stopLifetimeCheck() // its stop() leaves the lifetime timer running
    await new Promise<void>((resolve) => registry.clean(resolve))
  }
}
