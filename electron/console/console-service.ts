import { join } from 'node:path'
import type { DatabaseSync } from 'node:sqlite'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import { fail, ok, type Result } from '../../shared/api/result.ts'
import type { Attributes, ClientInfo, DmResult, ObservationInfo } from '../../shared/api/schemas.ts'
import { isFormatName, formatNumber } from '../../shared/lwm2m/content-format.ts'
import { ObjectRegistry } from '../../shared/lwm2m/object-registry.ts'
import { recordsFromJson } from '../../shared/lwm2m/payload-json.ts'
import type { Lwm2mRecord } from '../../shared/lwm2m/values.ts'
import { UdpTransport } from '../coap/udp-transport.ts'
import { Lwm2mServer } from '../server/lwm2m-server.ts'
import { openDatabase } from '../store/database.ts'
import { RegistrationStore } from '../store/registration-store.ts'

export interface ConsoleOptions {
  /** Where the database lives; undefined keeps everything in memory. */
  readonly dataDir?: string
  /** Address the CoAP endpoint binds to (IPv4 or IPv6). */
  readonly coapHost?: string
  /** 0 = any free port. */
  readonly coapPort?: number
  readonly requestTimeoutMs?: number
  readonly reobserveOnRegister?: boolean
  /** Most registrations held at once; a Register beyond it gets 5.03. */
  readonly maxClients?: number
}

/**
 * One UDP endpoint per address family: loopback and wildcard hosts get their IPv6 twin too
 * (optional, so a host without IPv6 still starts); a specific address gets only its own family.
 */
function endpointsFor(host: string): { host4: string; host6?: string; host6Optional?: boolean } {
  if (host === '::') return { host4: '0.0.0.0', host6: '::', host6Optional: true }
  if (host.includes(':')) return { host4: '', host6: host }
  if (host === '0.0.0.0') return { host4: host, host6: '::', host6Optional: true }
  if (host === 'localhost' || host.startsWith('127.')) return { host4: host === 'localhost' ? '127.0.0.1' : host, host6: '::1', host6Optional: true }
  return { host4: host }
}

export interface DmOptions {
  readonly format?: string
  readonly timeoutMs?: number
}

/**
 * The console engine: the embedded LwM2M server, its store and settings, behind one typed API.
 * The Electron main process, `objecttwin serve` and the tests all construct this same object.
 */
export class ConsoleService {
  readonly server: Lwm2mServer
  readonly registry: ObjectRegistry
  readonly coapPort: number
  private readonly transport: UdpTransport
  private readonly db: DatabaseSync
  private closed = false

  /** The CoAP port of each address family that is open. */
  readonly coapPorts: { readonly ipv4?: number; readonly ipv6?: number }

  private constructor(server: Lwm2mServer, registry: ObjectRegistry, transport: UdpTransport, db: DatabaseSync, ports: { port4?: number; port6?: number }) {
    this.server = server
    this.registry = registry
    this.transport = transport
    this.db = db
    this.coapPort = ports.port4 ?? ports.port6 ?? 0
    this.coapPorts = { ...(ports.port4 !== undefined ? { ipv4: ports.port4 } : {}), ...(ports.port6 !== undefined ? { ipv6: ports.port6 } : {}) }
  }

  static async create(options: ConsoleOptions = {}): Promise<ConsoleService> {
    const db = openDatabase(options.dataDir ? join(options.dataDir, 'objecttwin.db') : ':memory:')
    const host = options.coapHost ?? '127.0.0.1'
    const transport = new UdpTransport({ ...endpointsFor(host), port: options.coapPort ?? 5683 })
    let ports: { port4?: number; port6?: number }
    try {
      ports = await transport.listen()
    } catch (e) {
      db.close()
      throw new Error(`cannot open the CoAP port ${host}:${options.coapPort ?? 5683}: ${(e as Error).message}`, { cause: e })
    }
    const registry = ObjectRegistry.withBuiltins()
    const server = new Lwm2mServer({
      transports: [transport],
      registry,
      store: new RegistrationStore(db),
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      ...(options.reobserveOnRegister !== undefined ? { reobserveOnRegister: options.reobserveOnRegister } : {}),
      ...(options.maxClients !== undefined ? { maxClients: options.maxClients } : {}),
    })
    await server.start()
    return new ConsoleService(server, registry, transport, db, ports)
  }

  /** Idempotent: a second close (e.g. a second SIGINT) is a no-op. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.server.stop()
    await this.transport.close()
    this.db.close()
  }

  onEvent(listener: (event: ConsoleEvent) => void): () => void {
    return this.server.onEvent(listener)
  }

  health(): { status: 'ok'; clients: number; coapPort: number; coapPorts: { ipv4?: number; ipv6?: number } } {
    return { status: 'ok', clients: this.server.listClients().length, coapPort: this.coapPort, coapPorts: this.coapPorts }
  }

  listClients(): ClientInfo[] {
    return this.server.listClients()
  }

  getClient(endpoint: string): Result<ClientInfo> {
    const client = this.server.getClient(endpoint)
    return client ? ok(client) : fail('not_found', `no client named ${endpoint} is registered`)
  }

  listObservations(endpoint?: string): ObservationInfo[] {
    return this.server.listObservations(endpoint)
  }

  private format(options: DmOptions): Result<number | undefined> {
    if (options.format === undefined || options.format === '') return ok(undefined)
    if (/^\d+$/.test(options.format)) return ok(Number(options.format))
    if (!isFormatName(options.format)) return fail('invalid_input', `unknown format "${options.format}"`)
    return ok(formatNumber(options.format))
  }

  private dm(options: DmOptions): Result<{ format?: number; timeoutMs?: number }> {
    const format = this.format(options)
    if (!format.ok) return format
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0 && options.timeoutMs <= 300_000)) return fail('invalid_input', 'timeout must be between 1 and 300000 ms')
    return ok({ ...(format.value !== undefined ? { format: format.value } : {}), ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) })
  }

  async read(endpoint: string, path: string, options: DmOptions = {}): Promise<Result<DmResult>> {
    const dm = this.dm(options)
    return dm.ok ? this.server.read(endpoint, path, dm.value) : dm
  }

  async discover(endpoint: string, path: string, options: DmOptions = {}): Promise<Result<DmResult>> {
    const dm = this.dm(options)
    return dm.ok ? this.server.discover(endpoint, path, dm.value) : dm
  }

  /**
   * Write from plain JSON: `{"value": v}` for the resource at `path`, or a records array
   * `[{"path","value","type?"}]` with paths absolute or relative to `path`.
   */
  async write(endpoint: string, path: string, body: unknown, options: DmOptions & { replace?: boolean } = {}): Promise<Result<DmResult>> {
    const dm = this.dm(options)
    if (!dm.ok) return dm
    const records = this.recordsFor(endpoint, path, body)
    if (!records.ok) return records
    return this.server.write(endpoint, path, records.value, { ...dm.value, ...(options.replace !== undefined ? { replace: options.replace } : {}) })
  }

  async create(endpoint: string, objectPath: string, body: unknown, options: DmOptions = {}): Promise<Result<DmResult>> {
    const dm = this.dm(options)
    if (!dm.ok) return dm
    const records = this.recordsFor(endpoint, objectPath, body)
    if (!records.ok) return records
    return this.server.create(endpoint, objectPath, records.value, dm.value)
  }

  private recordsFor(endpoint: string, path: string, body: unknown): Result<Lwm2mRecord[]> {
    const models = this.server.modelsOf(endpoint)
    if (!models) return fail('not_registered', `no client named ${endpoint} is registered`)
    const list = Array.isArray(body) ? body : typeof body === 'object' && body !== null && 'value' in body ? [{ path, ...body }] : undefined
    if (!list) return fail('invalid_input', 'the body is {"value": …} or an array of records [{"path","value","type?"}]')
    return recordsFromJson(list, path, models)
  }

  async execute(endpoint: string, path: string, args?: string, options: DmOptions = {}): Promise<Result<DmResult>> {
    const dm = this.dm(options)
    return dm.ok ? this.server.execute(endpoint, path, args, dm.value) : dm
  }

  async delete(endpoint: string, path: string, options: DmOptions = {}): Promise<Result<DmResult>> {
    const dm = this.dm(options)
    return dm.ok ? this.server.delete(endpoint, path, dm.value) : dm
  }

  async writeAttributes(endpoint: string, path: string, attributes: Attributes, options: DmOptions = {}): Promise<Result<DmResult>> {
    const dm = this.dm(options)
    return dm.ok ? this.server.writeAttributes(endpoint, path, attributes, dm.value) : dm
  }

  async observe(endpoint: string, paths: readonly string[], options: DmOptions & { attributes?: Attributes } = {}): Promise<Result<DmResult & { observationId?: string }>> {
    const dm = this.dm(options)
    return dm.ok ? this.server.observe(endpoint, paths, { ...dm.value, ...(options.attributes ? { attributes: options.attributes } : {}) }) : dm
  }

  async cancelObservation(endpoint: string, path?: string, options: { passive?: boolean } = {}): Promise<Result<{ cancelled: number }>> {
    return this.server.cancelObservation(endpoint, path, options)
  }
}
