/**
 * A small LwM2M client for integration tests, built directly on the `coap` package (not on our
 * electron/coap or client code), so it plays an independent device. One UDP socket on 127.0.0.1
 * is shared by a coap Server (answering the LwM2M server's DM requests from an in-memory object
 * tree) and a coap Agent (sending Register, Update, De-register and Send).
 */
import { createSocket, type Socket } from 'node:dgram'
import { Agent, createServer, type IncomingMessage, type ObserveWriteStream, type OutgoingMessage, type Server } from 'coap'
import { ContentFormat } from '../../shared/lwm2m/content-format.ts'
import { DEVICE_RECORDS, rec } from '../../shared/lwm2m/fixtures.test-helper.ts'
import { codecFor } from '../../shared/lwm2m/formats.ts'
import { defineObject } from '../../shared/lwm2m/models/compact.ts'
import type { ModelLookup } from '../../shared/lwm2m/object-model.ts'
import { ObjectRegistry } from '../../shared/lwm2m/object-registry.ts'
import { comparePaths, formatPath, isPathPrefixOf, parsePath, pathDepth, type Lwm2mPath } from '../../shared/lwm2m/path.ts'
import type { Lwm2mRecord, Lwm2mValue, ResourceType } from '../../shared/lwm2m/values.ts'

/** The custom ECG-like object the tests stream from: 1 samples (integer), 2 sampling rate (RW), 3 start (E). */
export const ECG_OBJECT_ID = 1031
export const ECG_MODEL = defineObject({ id: ECG_OBJECT_ID, name: 'Test ECG', multiple: false }, [
  [1, 'Samples', 'R', 'integer'],
  [2, 'Sampling Rate', 'RW', 'integer', { units: 'Hz' }],
  [3, 'Start', 'E', 'none'],
])

const ALL_FORMATS = [ContentFormat.TEXT, ContentFormat.OPAQUE, ContentFormat.TLV, ContentFormat.SENML_JSON, ContentFormat.SENML_CBOR, ContentFormat.LWM2M_JSON]

export interface TestClientOptions {
  readonly endpoint: string
  readonly serverPort: number
  readonly serverHost?: string
  /** `lwm2m=`; null leaves it out (the server then assumes 1.0). Default "1.1". */
  readonly lwm2mVersion?: string | null
  /** `lt=`; null leaves it out. Default 300. */
  readonly lifetime?: number | null
  /** `b=`; null leaves it out. Default "U". */
  readonly binding?: string | null
  /** Adds the `Q` parameter (queue mode, 1.1+). */
  readonly queueMode?: boolean
  readonly sms?: string
  /** More query parameters, e.g. ["custom=1", "flag"]. */
  readonly extraQuery?: readonly string[]
  /** Alternate root path, e.g. "/lwm2m": registered as `</lwm2m>;rt="oma.lwm2m"` and used for DM paths. */
  readonly rootPath?: string
  /** `ct=` on the root link. */
  readonly advertisedFormats?: readonly number[]
  /** Content formats the client reads and writes; others get 4.06 / 4.15. Default: all value formats. */
  readonly formats?: readonly number[]
  /** `ver=` per object id. */
  readonly objectVersions?: Readonly<Record<number, string>>
}

export interface CoapReply {
  readonly code: string
  readonly payload: Buffer
  readonly text: string
  readonly contentFormat?: number
  readonly locationPath: string[]
}

/** A DM request as the client received it. */
export interface ReceivedRequest {
  readonly method: string
  /** LwM2M path, without the alternate root. */
  readonly path: string
  /** Uri-Path as sent, alternate root included. */
  readonly uriPath: string
  readonly query: string[]
  readonly accept?: number
  readonly contentFormat?: number
  readonly observe?: number
  readonly token: string
  readonly payload: Buffer
}

export interface TestObservation {
  readonly token: string
  readonly paths: readonly string[]
  readonly composite: boolean
  readonly format: number
  state: 'active' | 'cancelled' | 'reset'
  notificationsSent: number
  readonly stream: ObserveWriteStream
}

// node-coap turns Content-Format / Accept into media-type names where it knows them.
const MEDIA_TYPES: Readonly<Record<string, number>> = {
  'text/plain': ContentFormat.TEXT,
  'application/link-format': ContentFormat.LINK,
  'application/octet-stream': ContentFormat.OPAQUE,
  'application/cbor': ContentFormat.CBOR,
  'application/senml+json': ContentFormat.SENML_JSON,
  'application/senml+cbor': ContentFormat.SENML_CBOR,
  'application/vnd.oma.lwm2m+tlv': ContentFormat.TLV,
  'application/vnd.oma.lwm2m+json': ContentFormat.LWM2M_JSON,
  'application/vnd.oma.lwm2m+cbor': ContentFormat.LWM2M_CBOR,
}

function formatOf(header: unknown): number | undefined {
  if (typeof header === 'number') return header
  if (typeof header === 'string') return MEDIA_TYPES[header.split(';')[0] ?? '']
  return undefined
}

/** Device resources of the specification's example the test client does not have: power source currents, free memory. */
const DEVICE_OMITTED = new Set(['/3/0/8/0', '/3/0/8/1', '/3/0/10'])

/** The object tree every test client starts with. */
function initialTree(): Lwm2mRecord[] {
  return [
    rec('/1/0/0', 1, 'integer'),
    rec('/1/0/1', 300, 'integer'),
    rec('/1/0/2', 10, 'integer'),
    rec('/1/0/3', 60, 'integer'),
    rec('/1/0/6', false, 'boolean'),
    rec('/1/0/7', 'U', 'string'),
    ...DEVICE_RECORDS.filter((r) => !DEVICE_OMITTED.has(formatPath(r.path))).map((r) => ({ ...r })),
    rec('/3303/0/5700', 21.5, 'float'),
    rec('/3303/0/5701', 'Cel', 'string'),
    rec('/3303/1/5700', 36.6, 'float'),
    rec('/3303/1/5701', 'Cel', 'string'),
    rec('/1031/0/1', 0, 'integer'),
    rec('/1031/0/2', 250, 'integer'),
  ]
}

const EXECUTABLE = new Set(['/1/0/8', '/3/0/4', '/1031/0/3'])

export class TestClient {
  readonly options: TestClientOptions
  readonly port: number
  registrationId: string | undefined
  /** When true the client swallows every DM request: no ACK, no answer. */
  silent = false
  readonly received: ReceivedRequest[] = []
  readonly executions: { path: string; args: string }[] = []
  readonly writes: { method: string; path: string; contentFormat?: number; records: Lwm2mRecord[] }[] = []
  readonly attributeWrites: { path: string; query: string[] }[] = []
  /** GET with Observe 1 (active cancel), with the token it carried. */
  readonly cancels: { path: string; token: string }[] = []
  readonly observations: TestObservation[] = []

  private readonly socket: Socket
  private readonly server: Server
  private readonly agent: Agent
  private readonly tree = new Map<string, Lwm2mRecord>()
  private readonly attributes = new Map<string, Map<string, string>>()
  private readonly models: ModelLookup
  private readonly formats: ReadonlySet<number>
  private closed = false

  private constructor(options: TestClientOptions, socket: Socket, server: Server, agent: Agent) {
    this.options = options
    this.socket = socket
    this.server = server
    this.agent = agent
    this.port = socket.address().port
    for (const r of initialTree()) this.tree.set(formatPath(r.path), r)
    const registry = ObjectRegistry.withBuiltins()
    registry.add(ECG_MODEL)
    this.models = registry.forVersions(new Map(Object.entries(options.objectVersions ?? {}).map(([id, v]) => [Number(id), v])))
    this.formats = new Set(options.formats ?? ALL_FORMATS)
  }

  static async start(options: TestClientOptions): Promise<TestClient> {
    const socket = createSocket('udp4')
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject)
        resolve()
      })
    })
    socket.on('error', () => undefined)
    const server = createServer({ type: 'udp4' })
    server.on('error', () => undefined)
    server.listen(socket)
    const agent = new Agent({ socket })
    agent.on('error', () => undefined)
    const client = new TestClient(options, socket, server, agent)
    server.on('request', (req: IncomingMessage, res: OutgoingMessage | ObserveWriteStream) => client.handle(req, res))
    return client
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const o of this.observations) if (!o.stream.writableEnded) o.stream.destroy()
    this.server.close()
    // With a socket of its own the agent never calls back from close(); it resets its senders synchronously.
    this.agent.close()
    await new Promise<void>((resolve) => this.socket.close(() => resolve()))
  }

  // ---- the object tree ------------------------------------------------------------------------

  get(path: string): Lwm2mValue | undefined {
    return this.tree.get(formatPath(parsePath(path)))?.value
  }

  set(path: string, value: Lwm2mValue, type?: ResourceType): void {
    const p = parsePath(path)
    const key = formatPath(p)
    const known = type ?? this.tree.get(key)?.type ?? (p.objectId !== undefined && p.resourceId !== undefined ? this.models.resource(p.objectId, p.resourceId)?.type : undefined)
    this.tree.set(key, { path: p, value, ...(known ? { type: known } : {}) })
  }

  private recordsUnder(path: Lwm2mPath): Lwm2mRecord[] {
    return [...this.tree.values()].filter((r) => isPathPrefixOf(path, r.path)).sort((a, b) => comparePaths(a.path, b.path))
  }

  private exists(path: Lwm2mPath): boolean {
    return this.recordsUnder(path).length > 0 || EXECUTABLE.has(formatPath(path))
  }

  // ---- outgoing: registration interface and Send ----------------------------------------------

  /** Any request to the server, e.g. a hand-made Register. */
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, opts: { query?: readonly string[]; payload?: string | Uint8Array; contentFormat?: number; timeoutMs?: number } = {}): Promise<CoapReply> {
    return new Promise((resolve, reject) => {
      const req = this.agent.request({
        hostname: this.options.serverHost ?? '127.0.0.1',
        port: this.options.serverPort,
        method,
        pathname: path,
        ...(opts.query && opts.query.length > 0 ? { query: opts.query.join('&') } : {}),
        ...(opts.contentFormat !== undefined ? { contentFormat: opts.contentFormat } : {}),
      })
      const timer = setTimeout(() => {
        this.agent.abort(req)
        reject(new Error(`test client ${this.options.endpoint}: no answer to ${method} ${path} within ${opts.timeoutMs ?? 5000} ms`))
      }, opts.timeoutMs ?? 5000)
      req.on('response', (res: IncomingMessage) => {
        clearTimeout(timer)
        const locationPath = (res._packet.options ?? []).filter((o) => o.name === 'Location-Path').map((o) => String(o.value))
        const contentFormat = formatOf(res.headers['Content-Format'])
        resolve({ code: res.code, payload: res.payload, text: res.payload.toString('utf8'), locationPath, ...(contentFormat !== undefined ? { contentFormat } : {}) })
      })
      req.on('error', (e: Error) => {
        clearTimeout(timer)
        reject(e)
      })
      req.end(opts.payload === undefined ? undefined : Buffer.from(opts.payload))
    })
  }

  /** The Register / Update object list, from the tree, with the alternate root, `ct=` and `ver=`. */
  objectLinks(): string {
    const root = this.options.rootPath ?? ''
    const links: string[] = []
    const ct = this.options.advertisedFormats
    if (root !== '' || ct) {
      links.push(`<${root || '/'}>;rt="oma.lwm2m"${ct ? `;ct=${ct.length === 1 ? String(ct[0]) : `"${ct.join(' ')}"`}` : ''}`)
    }
    const instances = new Map<number, Set<number>>()
    for (const r of this.tree.values()) {
      const { objectId, instanceId } = r.path
      if (objectId === undefined || instanceId === undefined) continue
      let set = instances.get(objectId)
      if (!set) instances.set(objectId, (set = new Set()))
      set.add(instanceId)
    }
    for (const objectId of [...instances.keys()].sort((a, b) => a - b)) {
      const ver = this.options.objectVersions?.[objectId]
      if (ver) links.push(`<${root}/${objectId}>;ver=${ver}`)
      for (const i of [...(instances.get(objectId) ?? [])].sort((a, b) => a - b)) links.push(`<${root}/${objectId}/${i}>`)
    }
    return links.join(',')
  }

  registerQuery(): string[] {
    const o = this.options
    const query = [`ep=${o.endpoint}`]
    if (o.lifetime !== null) query.push(`lt=${o.lifetime ?? 300}`)
    if (o.lwm2mVersion !== null) query.push(`lwm2m=${o.lwm2mVersion ?? '1.1'}`)
    if (o.binding !== null) query.push(`b=${o.binding ?? 'U'}`)
    if (o.queueMode) query.push('Q')
    if (o.sms !== undefined) query.push(`sms=${o.sms}`)
    query.push(...(o.extraQuery ?? []))
    return query
  }

  /** Register; on 2.01 remembers the registration id from Location-Path rd/<id>. */
  async register(opts: { query?: readonly string[]; payload?: string } = {}): Promise<CoapReply> {
    const reply = await this.request('POST', '/rd', { query: opts.query ?? this.registerQuery(), payload: opts.payload ?? this.objectLinks(), contentFormat: ContentFormat.LINK })
    if (reply.code === '2.01') this.registrationId = reply.locationPath[1]
    return reply
  }

  /** Update: `objects: true` sends the current object list as payload. */
  update(opts: { query?: readonly string[]; objects?: boolean; payload?: string } = {}): Promise<CoapReply> {
    const payload = opts.payload ?? (opts.objects ? this.objectLinks() : undefined)
    return this.request('POST', `/rd/${this.requireRegistration()}`, {
      ...(opts.query ? { query: opts.query } : {}),
      ...(payload !== undefined ? { payload, contentFormat: ContentFormat.LINK } : {}),
    })
  }

  deregister(): Promise<CoapReply> {
    return this.request('DELETE', `/rd/${this.requireRegistration()}`)
  }

  /** Send (POST /dp) of a ready-made payload. */
  sendRaw(payload: Uint8Array | string, contentFormat: number): Promise<CoapReply> {
    return this.request('POST', '/dp', { payload, contentFormat })
  }

  /** Send (POST /dp) of records, SenML CBOR by default. */
  send(records: readonly Lwm2mRecord[], format: number = ContentFormat.SENML_CBOR): Promise<CoapReply> {
    return this.sendRaw(this.encode(format, records, {}), format)
  }

  private requireRegistration(): string {
    if (this.registrationId === undefined) throw new Error(`test client ${this.options.endpoint} is not registered`)
    return this.registrationId
  }

  // ---- observation --------------------------------------------------------------------------

  activeObservations(): TestObservation[] {
    return this.observations.filter((o) => o.state === 'active')
  }

  /**
   * Sends a notification to every active observation of `path` (observed path equal to it or above
   * it). With `records`, the tree takes their values and the notification carries exactly them (for
   * ECG: several timestamped records of one resource); without, it carries the current values.
   */
  notify(path: string, records?: readonly Lwm2mRecord[]): number {
    const target = parsePath(path)
    if (records) for (const r of records) this.tree.set(formatPath(r.path), { path: r.path, value: r.value, ...(r.type ? { type: r.type } : {}) })
    let sent = 0
    for (const o of this.activeObservations()) {
      const observed = o.paths.map(parsePath)
      if (!observed.some((p) => isPathPrefixOf(p, target))) continue
      const base = o.composite ? {} : (observed[0] as Lwm2mPath)
      const payload = this.encode(o.format, records ?? observed.flatMap((p) => this.recordsUnder(p)), base)
      if (o.stream.writableEnded || o.stream.destroyed) continue
      o.stream.write(payload)
      o.notificationsSent++
      sent++
    }
    return sent
  }

  // ---- incoming: device management ------------------------------------------------------------

  private handle(req: IncomingMessage, res: OutgoingMessage | ObserveWriteStream): void {
    const segments = (req._packet.options ?? []).filter((o) => o.name === 'Uri-Path').map((o) => Buffer.from(o.value as Buffer).toString('utf8'))
    const query = (req._packet.options ?? []).filter((o) => o.name === 'Uri-Query').map((o) => Buffer.from(o.value as Buffer).toString('utf8'))
    const uriPath = '/' + segments.join('/')
    const root = this.options.rootPath ?? ''
    const lwm2mPath = root !== '' && (uriPath === root || uriPath.startsWith(root + '/')) ? uriPath.slice(root.length) || '/' : uriPath
    const observe = typeof req.headers.Observe === 'number' ? req.headers.Observe : undefined
    const accept = formatOf(req.headers.Accept)
    const contentFormat = formatOf(req.headers['Content-Format'])
    const token = Buffer.from(req._packet.token ?? Buffer.alloc(0)).toString('hex')
    this.received.push({
      method: req.method,
      path: lwm2mPath,
      uriPath,
      query,
      token,
      payload: req.payload,
      ...(accept !== undefined ? { accept } : {}),
      ...(contentFormat !== undefined ? { contentFormat } : {}),
      ...(observe !== undefined ? { observe } : {}),
    })
    if (this.silent) {
      // No piggybacked or empty ACK either: the server must see silence.
      const pending = res as OutgoingMessage
      if (pending._ackTimer) clearTimeout(pending._ackTimer)
      return
    }
    const reply = (code: string, payload?: Uint8Array | string, format?: number, location?: readonly string[]): void => {
      res.code = code
      res.statusCode = code
      if (format !== undefined) res.setOption('Content-Format', format)
      if (location) res.setOption('Location-Path', location.map((s) => Buffer.from(s)))
      if (observe === 0 && 'write' in res && code.startsWith('2.') && payload !== undefined) {
        res.write(Buffer.from(payload)) // keeps the observe stream open
        return
      }
      res.end(payload === undefined || observe === 0 ? undefined : Buffer.from(payload))
    }
    let path: Lwm2mPath
    try {
      path = parsePath(lwm2mPath)
    } catch {
      return reply('4.04', `no such path ${uriPath}`)
    }
    const method = req.method
    if (observe === 1) this.cancelObservation(token, lwm2mPath)
    if (method === 'FETCH') return this.composite(req, res, reply, observe, token, accept)
    if (method === 'GET') {
      if (accept === ContentFormat.LINK) return this.discover(path, reply)
      return this.read(path, accept, reply, (format) => {
        if (observe !== 0) return
        this.observations.push({ token, paths: [formatPath(path)], composite: false, format, state: 'active', notificationsSent: 0, stream: this.watch(res as ObserveWriteStream) })
      })
    }
    if (method === 'PUT') {
      if (req.payload.length === 0 && query.length > 0) return this.writeAttributes(path, query, reply)
      return this.write('PUT', path, req.payload, contentFormat, reply)
    }
    if (method === 'POST') {
      const depth = pathDepth(path)
      if (depth === 1) return this.create(path, req.payload, contentFormat, reply)
      if (depth === 2) return this.write('POST', path, req.payload, contentFormat, reply)
      if (depth === 3 && EXECUTABLE.has(formatPath(path))) {
        this.executions.push({ path: formatPath(path), args: req.payload.toString('utf8') })
        return reply('2.04')
      }
      return reply('4.05', `POST is not allowed on ${formatPath(path)}`)
    }
    if (method === 'DELETE') {
      if (pathDepth(path) !== 2 || !this.exists(path)) return reply('4.04', `no instance ${formatPath(path)}`)
      for (const r of this.recordsUnder(path)) this.tree.delete(formatPath(r.path))
      return reply('2.02')
    }
    reply('4.05', `${method} is not supported`)
  }

  private watch(stream: ObserveWriteStream): ObserveWriteStream {
    // The server's RST to a notification makes node-coap end the stream (passive cancel).
    stream.on('finish', () => {
      const o = this.observations.find((x) => x.stream === stream)
      if (o && o.state === 'active') o.state = 'reset'
    })
    stream.on('error', () => undefined)
    return stream
  }

  private cancelObservation(token: string, path: string): void {
    this.cancels.push({ path, token })
    for (const o of this.observations) {
      if (o.token !== token || o.state !== 'active') continue
      o.state = 'cancelled'
      o.stream.end()
    }
  }

  private chooseFormat(accept: number | undefined, records: readonly Lwm2mRecord[], path: Lwm2mPath): number | undefined {
    if (accept !== undefined) return this.formats.has(accept) ? accept : undefined
    const single = pathDepth(path) >= 3 && records.length === 1
    if (single && this.formats.has(ContentFormat.TEXT)) return ContentFormat.TEXT
    return [ContentFormat.TLV, ContentFormat.SENML_CBOR, ContentFormat.SENML_JSON].find((f) => this.formats.has(f))
  }

  private encode(format: number, records: readonly Lwm2mRecord[], basePath: Lwm2mPath): Uint8Array {
    const codec = codecFor(format)
    if (!codec) throw new Error(`test client cannot encode content-format ${format}`)
    return codec.encode(records, { basePath, models: this.models })
  }

  private read(path: Lwm2mPath, accept: number | undefined, reply: (code: string, payload?: Uint8Array | string, format?: number) => void, onSuccess: (format: number) => void): void {
    const records = this.recordsUnder(path)
    if (records.length === 0) return reply('4.04', `nothing at ${formatPath(path)}`)
    const format = this.chooseFormat(accept, records, path)
    if (format === undefined) return reply('4.06', `content-format ${accept ?? 'none'} is not supported`)
    let payload: Uint8Array
    try {
      payload = this.encode(format, records, path)
    } catch (e) {
      return reply('4.06', (e as Error).message)
    }
    onSuccess(format)
    reply('2.05', payload, format)
  }

  private composite(
    req: IncomingMessage,
    res: OutgoingMessage | ObserveWriteStream,
    reply: (code: string, payload?: Uint8Array | string, format?: number) => void,
    observe: number | undefined,
    token: string,
    accept: number | undefined,
  ): void {
    let paths: string[]
    try {
      const list = JSON.parse(req.payload.toString('utf8')) as { n?: string; bn?: string }[]
      let bn = ''
      paths = list.map((item) => {
        if (item.bn !== undefined) bn = item.bn
        return formatPath(parsePath(bn + (item.n ?? '')))
      })
    } catch (e) {
      return reply('4.00', `composite request: ${(e as Error).message}`)
    }
    const format = accept ?? ContentFormat.SENML_CBOR
    if (!this.formats.has(format) || (format !== ContentFormat.SENML_CBOR && format !== ContentFormat.SENML_JSON)) return reply('4.06', `content-format ${format} cannot carry a composite answer`)
    const records = paths.flatMap((p) => this.recordsUnder(parsePath(p)))
    if (records.length === 0) return reply('4.04', 'none of the paths exists')
    if (observe === 0) this.observations.push({ token, paths, composite: true, format, state: 'active', notificationsSent: 0, stream: this.watch(res as ObserveWriteStream) })
    reply('2.05', this.encode(format, records, {}), format)
  }

  private discover(path: Lwm2mPath, reply: (code: string, payload?: Uint8Array | string, format?: number) => void): void {
    if (pathDepth(path) === 0 || !this.exists(path)) return reply('4.04', `nothing at ${formatPath(path)}`)
    const attrs = (p: string): string => [...(this.attributes.get(p) ?? new Map<string, string>())].map(([k, v]) => `;${k}=${v}`).join('')
    const links: string[] = []
    const targets = new Set<string>()
    const objectId = path.objectId as number
    const ver = this.options.objectVersions?.[objectId]
    links.push(`<${formatPath(path)}>${pathDepth(path) === 1 && ver ? `;ver=${ver}` : ''}${attrs(formatPath(path))}`)
    targets.add(formatPath(path))
    for (const r of this.recordsUnder(path)) {
      const ids = [r.path.objectId, r.path.instanceId, r.path.resourceId]
      for (let depth = pathDepth(path) + 1; depth <= 3; depth++) {
        const p = '/' + ids.slice(0, depth).join('/')
        if (targets.has(p)) continue
        targets.add(p)
        const dim = depth === 3 ? this.recordsUnder(parsePath(p)).filter((x) => x.path.resourceInstanceId !== undefined).length : 0
        links.push(`<${p}>${dim > 0 ? `;dim=${dim}` : ''}${attrs(p)}`)
      }
    }
    reply('2.05', links.join(','), ContentFormat.LINK)
  }

  private decodeWrite(path: Lwm2mPath, payload: Buffer, contentFormat: number | undefined): Lwm2mRecord[] | { code: string; message: string } {
    const format = contentFormat ?? ContentFormat.TEXT
    const codec = codecFor(format)
    if (!codec || !this.formats.has(format)) return { code: '4.15', message: `content-format ${format} is not supported` }
    try {
      return codec.decode(payload, { basePath: path, models: this.models })
    } catch (e) {
      return { code: '4.00', message: (e as Error).message }
    }
  }

  private write(method: 'PUT' | 'POST', path: Lwm2mPath, payload: Buffer, contentFormat: number | undefined, reply: (code: string, payload?: string) => void): void {
    if (pathDepth(path) < 2) return reply('4.05', `${method} is not allowed on ${formatPath(path)}`)
    if (!this.exists(path)) return reply('4.04', `nothing at ${formatPath(path)}`)
    const records = this.decodeWrite(path, payload, contentFormat)
    if (!Array.isArray(records)) return reply(records.code, records.message)
    if (method === 'PUT') {
      // Replace: the writable resources under the path lose what the payload does not carry.
      for (const r of this.recordsUnder(path)) {
        const model = this.models.resource(r.path.objectId as number, r.path.resourceId as number)
        if (!model || model.operations.includes('W')) this.tree.delete(formatPath(r.path))
      }
    }
    for (const r of records) this.set(formatPath(r.path), r.value, r.type)
    this.writes.push({ method, path: formatPath(path), records, ...(contentFormat !== undefined ? { contentFormat } : {}) })
    reply('2.04')
  }

  private create(path: Lwm2mPath, payload: Buffer, contentFormat: number | undefined, reply: (code: string, payload?: string, format?: number, location?: readonly string[]) => void): void {
    const records = this.decodeWrite(path, payload, contentFormat)
    if (!Array.isArray(records)) return reply(records.code, records.message)
    const objectId = path.objectId as number
    const used = new Set([...this.tree.values()].filter((r) => r.path.objectId === objectId).map((r) => r.path.instanceId))
    let instanceId = records[0]?.path.instanceId ?? 0
    while (used.has(instanceId)) instanceId++
    for (const r of records) {
      const ids = [objectId, instanceId, r.path.resourceId, ...(r.path.resourceInstanceId !== undefined ? [r.path.resourceInstanceId] : [])]
      this.set('/' + ids.join('/'), r.value, r.type)
    }
    this.writes.push({ method: 'CREATE', path: `/${objectId}/${instanceId}`, records, ...(contentFormat !== undefined ? { contentFormat } : {}) })
    reply('2.01', undefined, undefined, [String(objectId), String(instanceId)])
  }

  private writeAttributes(path: Lwm2mPath, query: string[], reply: (code: string, payload?: string) => void): void {
    if (!this.exists(path)) return reply('4.04', `nothing at ${formatPath(path)}`)
    this.attributeWrites.push({ path: formatPath(path), query })
    let attrs = this.attributes.get(formatPath(path))
    if (!attrs) this.attributes.set(formatPath(path), (attrs = new Map()))
    for (const item of query) {
      const eq = item.indexOf('=')
      if (eq === -1) attrs.delete(item)
      else attrs.set(item.slice(0, eq), item.slice(eq + 1))
    }
    reply('2.04')
  }
}
