import { randomBytes } from 'node:crypto'
import { ContentFormat } from '../../shared/lwm2m/content-format.ts'
import { isCodecError } from '../../shared/lwm2m/errors.ts'
import { codecFor } from '../../shared/lwm2m/formats.ts'
import { parseDiscoverLinks } from '../../shared/lwm2m/link-format.ts'
import type { ModelLookup, ObjectModel } from '../../shared/lwm2m/object-model.ts'
import type { ObjectRegistry, VersionedModels } from '../../shared/lwm2m/object-registry.ts'
import { formatPath, parsePath, pathDepth, type Lwm2mPath } from '../../shared/lwm2m/path.ts'
import { bytesToHex, valueToJson, type Lwm2mRecord } from '../../shared/lwm2m/values.ts'
import type { ConsoleEvent, WireEntry } from '../../shared/api/events.ts'
import { fail, ok, type ApiError, type Result } from '../../shared/api/result.ts'
import type { Attributes, ClientInfo, DmResult, ObservationInfo, RecordJson } from '../../shared/api/schemas.ts'
import { TransportError, type CoapPeer, type CoapRequest, type CoapResponse, type CoapTransport, type IncomingRequest, type ObserveHandle, type Responder } from '../coap/transport.ts'
import type { RegistrationStore } from '../store/registration-store.ts'
import { clientChoosesFormat, formatsToTry, isFormatRefusal } from './content-negotiation.ts'
import { parseObjectList, parseRegisterQuery, parseUpdateQuery, type ObjectList, type Refusal, type RegistrationParams } from './registration.ts'
import { sameSession, sessionOf, type RegistrationAccess, type Session } from './registration-access.ts'

export interface ServerOptions {
  readonly transports: readonly CoapTransport[]
  readonly registry: ObjectRegistry
  readonly store?: RegistrationStore
  /** Per-request timeout when the caller gives none. */
  readonly requestTimeoutMs?: number
  /** Queue mode: how long a client stays reachable after it last spoke (MAX_TRANSMIT_WAIT by default). */
  readonly awakeTimeMs?: number
  /** How long a request waits for a sleeping client before it is dropped. */
  readonly queuedRequestTtlMs?: number
  readonly maxQueuedPerClient?: number
  /** Re-establish a client's observations when it registers again. */
  readonly reobserveOnRegister?: boolean
  readonly maxClients?: number
  /** Extra seconds past the lifetime before a registration expires (clients update a little late). */
  readonly lifetimeGraceS?: number
  /** How often lifetimes, sleep and queued-request expiry are checked. */
  readonly sweepIntervalMs?: number
  readonly now?: () => number
  /**
   * Learns object models from a client itself (an ObjectTwin gateway publishes the definitions of its twins):
   * called after it registers and when its object list changes, with the registered objects the registry has no
   * model for. What it returns names those objects for this client only; it never replaces a built-in model.
   */
  readonly learnModels?: ModelLearner
  /** Who may register as which endpoint (device identities, the NoSec policy); everyone when absent. */
  readonly access?: RegistrationAccess
}

/** What a `learnModels` hook found: models, and warnings for the server's log (a bad definition, a failed read). */
export interface LearnedModels {
  readonly models: readonly ObjectModel[]
  readonly warnings?: readonly string[]
}

export type ModelLearner = (client: ClientInfo, unknownObjectIds: readonly number[], server: Lwm2mServer) => Promise<LearnedModels>

export interface ReadOptions {
  readonly format?: number
  readonly timeoutMs?: number
}

export interface WriteOptions extends ReadOptions {
  /** true: replace (PUT); false: partial update (POST on an instance). */
  readonly replace?: boolean
}

export interface ObserveOptions extends ReadOptions {
  readonly attributes?: Attributes
}

interface QueuedRequest {
  readonly run: () => void
  readonly expiresAt: number
  readonly reject: (result: { ok: false; error: ApiError }) => void
}

interface Client {
  params: RegistrationParams
  objects: ObjectList
  readonly registrationId: string
  peer: CoapPeer
  readonly transport: CoapTransport
  /** DTLS or plain, and the PSK identity it registered with: Updates, De-register and Send must match it. */
  readonly session: Pick<Session, 'secure' | 'identity'>
  readonly registeredAt: number
  lastUpdateAt: number
  lastSeenAt: number
  awake: boolean
  models: VersionedModels
  /** Models learned from the client (`learnModels`), by object id. */
  learned: ReadonlyMap<number, ObjectModel>
  /** The learning in progress, if any. */
  learning: Promise<void> | undefined
  /** Whether models were learned for this registration yet (a restored one learns at its next Update). */
  learnedOnce: boolean
  readonly refused: Set<number>
  readonly queue: QueuedRequest[]
}

interface Observation {
  readonly id: string
  readonly endpoint: string
  readonly paths: readonly Lwm2mPath[]
  readonly composite: boolean
  readonly format?: number
  readonly createdAt: number
  handle?: ObserveHandle
}

/** The persisted form of a client; versioned so an old row can be told apart. */
interface PersistedClient {
  readonly v: 1
  readonly params: RegistrationParams
  readonly objects: ObjectList
  readonly peer: CoapPeer
  readonly scheme: 'coap' | 'coaps'
  /** Absent in rows written before device identities: the scheme tells whether it was DTLS. */
  readonly session?: Pick<Session, 'secure' | 'identity'>
  readonly registeredAt: number
  readonly lastUpdateAt: number
}

const ROOT: Lwm2mPath = {}

type Decoded = { records?: RecordJson[]; decodeError?: string }

/**
 * Records encoded in `format`; undefined when the format cannot carry them and, the format not being the caller's
 * choice (`pinned`), the next one may be tried.
 */
function encodeIn(format: number, records: readonly Lwm2mRecord[], basePath: Lwm2mPath, models: ModelLookup, pinned: boolean): Result<Uint8Array> | undefined {
  const codec = codecFor(format)
  if (!codec) return fail('unsupported', `content-format ${format} cannot carry values`)
  try {
    return ok(codec.encode(records, { basePath, models }))
  } catch (e) {
    if (pinned || !isCodecError(e)) return fail('invalid_input', (e as Error).message)
    return undefined
  }
}

const negotiable = (c: Client): { lwm2mVersion: string; contentFormats: readonly number[]; refused: ReadonlySet<number> } => ({
  lwm2mVersion: c.params.lwm2mVersion,
  contentFormats: c.objects.contentFormats,
  refused: c.refused,
})

/**
 * The LwM2M server: the registration interface (Register, Update, De-register, Send), device
 * management and observation towards registered clients, queue mode, persistence. It knows CoAP
 * only through `CoapTransport`, and reports everything as `ConsoleEvent`s.
 */
export class Lwm2mServer {
  private readonly clients = new Map<string, Client>()
  private readonly byRegistrationId = new Map<string, Client>()
  private readonly observations = new Map<string, Observation>()
  private readonly listeners = new Set<(event: ConsoleEvent) => void>()
  private readonly decodedResponses = new WeakMap<CoapResponse, { key: string; decoded: Decoded }>()
  private readonly opts: Required<Omit<ServerOptions, 'store' | 'learnModels' | 'access'>> & Pick<ServerOptions, 'store' | 'learnModels' | 'access'>
  private sweepTimer: NodeJS.Timeout | undefined
  private started = false

  constructor(options: ServerOptions) {
    this.opts = {
      requestTimeoutMs: 10_000,
      awakeTimeMs: 93_000,
      queuedRequestTtlMs: 300_000,
      maxQueuedPerClient: 32,
      reobserveOnRegister: false,
      maxClients: 100_000,
      lifetimeGraceS: 15,
      sweepIntervalMs: 1000,
      now: Date.now,
      ...options,
    }
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    for (const transport of this.opts.transports) transport.onRequest((req, res) => this.handleRequest(transport, req, res))
    this.restore()
    this.sweepTimer = setInterval(() => this.sweep(), this.opts.sweepIntervalMs)
    this.sweepTimer.unref()
  }

  /** Stops timers and forgets live observation handles; registrations stay in the store. */
  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer)
    this.sweepTimer = undefined
    for (const o of this.observations.values()) o.handle?.forget()
    for (const client of this.clients.values()) this.rejectQueue(client, 'the server is stopping')
    this.started = false
  }

  onEvent(listener: (event: ConsoleEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private emit(event: ConsoleEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // A faulty listener must not break the protocol engine.
      }
    }
  }

  private wire(entry: WireEntry): void {
    if (this.listeners.size === 0) return
    this.emit({ kind: 'log', time: this.opts.now(), level: 'info', message: `${entry.direction} ${entry.method} ${entry.path}${entry.code ? ' ' + entry.code : ''}`, wire: entry })
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.emit({ kind: 'log', time: this.opts.now(), level, message })
  }

  // ---- queries -----------------------------------------------------------------------------

  listClients(): ClientInfo[] {
    return [...this.clients.values()].map((c) => this.info(c))
  }

  getClient(endpoint: string): ClientInfo | undefined {
    const c = this.clients.get(endpoint)
    return c ? this.info(c) : undefined
  }

  listObservations(endpoint?: string): ObservationInfo[] {
    return [...this.observations.values()]
      .filter((o) => endpoint === undefined || o.endpoint === endpoint)
      .map((o) => ({
        id: o.id,
        endpoint: o.endpoint,
        paths: o.paths.map(formatPath),
        composite: o.composite,
        ...(o.format !== undefined ? { contentFormat: o.format } : {}),
        createdAt: o.createdAt,
        active: o.handle !== undefined,
      }))
  }

  /** The object models as this client registered them (its `ver=` per object), and those learned from it. */
  modelsOf(endpoint: string): VersionedModels | undefined {
    return this.clients.get(endpoint)?.models
  }

  /**
   * The models of the objects a client registered, built-in or learned from it; waits (at most the request timeout)
   * for models being learned. Undefined when the client is not registered; objects without a model are left out.
   */
  async clientModels(endpoint: string): Promise<ObjectModel[] | undefined> {
    const client = this.clients.get(endpoint)
    if (!client) return undefined
    if (client.learning) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.opts.requestTimeoutMs)))
      await Promise.race([client.learning, timeout])
      clearTimeout(timer)
    }
    const current = this.clients.get(endpoint)
    if (!current) return undefined
    const ids = [...new Set(current.objects.objects.map((o) => o.objectId))].sort((a, b) => a - b)
    return ids.map((id) => current.models.get(id)).filter((m): m is ObjectModel => m !== undefined)
  }

  private info(c: Client): ClientInfo {
    return {
      endpoint: c.params.endpoint,
      registrationId: c.registrationId,
      address: c.peer.address,
      port: c.peer.port,
      secure: c.transport.scheme === 'coaps',
      lwm2mVersion: c.params.lwm2mVersion,
      binding: c.params.binding,
      lifetime: c.params.lifetime,
      queueMode: c.params.queueMode,
      ...(c.params.smsNumber ? { smsNumber: c.params.smsNumber } : {}),
      registeredAt: c.registeredAt,
      lastUpdateAt: c.lastUpdateAt,
      online: true,
      state: c.awake ? 'awake' : 'sleeping',
      rootPath: c.objects.rootPath,
      contentFormats: [...c.objects.contentFormats],
      objectLinks: c.objects.objectLinks,
      objects: c.objects.objects.map((o) => ({ objectId: o.objectId, ...(o.version ? { version: o.version } : {}), instances: [...o.instances] })),
      extraAttributes: { ...c.params.extraAttributes },
      queuedRequests: c.queue.length,
    }
  }

  // ---- registration interface ----------------------------------------------------------------

  private handleRequest(transport: CoapTransport, req: IncomingRequest, res: Responder): void {
    const [first, second, ...rest] = req.pathSegments
    const started = this.opts.now()
    const reply = (code: string, payload?: string, options?: { locationPath?: readonly string[] }): void => {
      res.respond(code, payload, options)
      this.wire({ direction: 'in', peer: `${req.peer.address}:${req.peer.port}`, method: req.method, path: '/' + req.pathSegments.join('/'), code, durationMs: this.opts.now() - started, ...(payload ? { summary: payload.slice(0, 200) } : {}) })
    }
    if (first === 'rd' && rest.length === 0) {
      if (second === undefined) {
        if (req.method !== 'POST') return reply('4.05', 'Register is a POST on /rd')
        return this.register(transport, req, reply)
      }
      if (req.method === 'POST') return this.update(second, req, reply)
      if (req.method === 'DELETE') return this.deregister(second, req, reply)
      return reply('4.05', `${req.method} is not allowed on /rd/${second}`)
    }
    if (first === 'dp' && second === undefined) {
      if (req.method !== 'POST') return reply('4.05', 'Send is a POST on /dp')
      return this.receiveSend(req, reply)
    }
    if (first === 'bs') return reply('4.04', 'this server is not a bootstrap server')
    reply('4.04', `no resource at /${req.pathSegments.join('/')}`)
  }

  private register(transport: CoapTransport, req: IncomingRequest, reply: (code: string, payload?: string, options?: { locationPath?: readonly string[] }) => void): void {
    const params = parseRegisterQuery(req.query)
    if (!params.ok) return reply(params.refusal.code, params.refusal.diagnostic)
    if (req.contentFormat !== undefined && req.contentFormat !== ContentFormat.LINK) return reply('4.15', `object links must be application/link-format (40), not content-format ${req.contentFormat}`)
    const objects = parseObjectList(req.payload)
    if (!objects.ok) return reply(objects.refusal.code, objects.refusal.diagnostic)

    const endpoint = params.value.endpoint
    const session = sessionOf(req)
    const denied = this.opts.access?.check(endpoint, session)
    if (denied) return this.refuse(reply, 'Register', endpoint, req, denied)
    const previous = this.clients.get(endpoint)
    if (!previous && this.clients.size >= this.opts.maxClients) return reply('5.03', `the server holds its maximum of ${this.opts.maxClients} registrations`)

    const reobserve = previous && this.opts.reobserveOnRegister ? this.observationsOf(endpoint) : []
    // What waited for a sleeping client is sent once it registers again (it goes to the new registration).
    const carried = previous ? previous.queue.splice(0) : []
    if (previous) this.dropClient(previous, 'replaced by a new registration')

    const now = this.opts.now()
    const client: Client = {
      params: params.value,
      objects: objects.value,
      registrationId: randomBytes(6).toString('hex'),
      peer: req.peer,
      transport,
      session: { secure: session.secure, ...(session.identity !== undefined ? { identity: session.identity } : {}) },
      registeredAt: now,
      lastUpdateAt: now,
      lastSeenAt: now,
      awake: true,
      models: this.modelsFor(objects.value),
      learned: new Map(),
      learning: undefined,
      learnedOnce: false,
      refused: new Set(),
      queue: carried,
    }
    this.clients.set(endpoint, client)
    this.byRegistrationId.set(client.registrationId, client)
    this.persist(client)
    reply('2.01', undefined, { locationPath: ['rd', client.registrationId] })
    this.emit({ kind: 'registered', time: now, client: this.info(client), replaced: previous !== undefined })
    for (const o of reobserve) void this.observe(endpoint, o.paths.map(formatPath), { ...(o.format !== undefined ? { format: o.format } : {}) })
    this.seen(client)
    this.learnModelsOf(client)
  }

  private update(registrationId: string, req: IncomingRequest, reply: (code: string, payload?: string) => void): void {
    const client = this.byRegistrationId.get(registrationId)
    if (!client) return reply('4.04', `no registration ${registrationId}; register again`)
    // Checked again at each Update: removeRevoked applies a change at once only when the store's owner calls it.
    const session = sessionOf(req)
    const denied = sameSession(client.session, session, 'Update', client.params.endpoint) ?? this.opts.access?.check(client.params.endpoint, session)
    if (denied) return this.refuse(reply, 'Update', client.params.endpoint, req, denied)
    const changes = parseUpdateQuery(req.query)
    if (!changes.ok) return reply(changes.refusal.code, changes.refusal.diagnostic)
    let objectsChanged = false
    if (req.payload.length > 0) {
      const objects = parseObjectList(req.payload)
      if (!objects.ok) return reply(objects.refusal.code, objects.refusal.diagnostic)
      objectsChanged = objects.value.objectLinks !== client.objects.objectLinks
      client.objects = objects.value
      client.models = this.modelsFor(objects.value, client.learned)
    }
    client.params = {
      ...client.params,
      ...(changes.value.lifetime !== undefined ? { lifetime: changes.value.lifetime } : {}),
      ...(changes.value.binding !== undefined ? { binding: changes.value.binding } : {}),
      ...(changes.value.smsNumber !== undefined ? { smsNumber: changes.value.smsNumber } : {}),
    }
    client.peer = req.peer
    client.lastUpdateAt = this.opts.now()
    this.persist(client)
    reply('2.04')
    this.emit({ kind: 'updated', time: client.lastUpdateAt, client: this.info(client), objectsChanged })
    this.seen(client)
    if (objectsChanged || !client.learnedOnce) this.learnModelsOf(client)
  }

  private deregister(registrationId: string, req: IncomingRequest, reply: (code: string, payload?: string) => void): void {
    const client = this.byRegistrationId.get(registrationId)
    if (!client) return reply('4.04', `no registration ${registrationId}`)
    const denied = sameSession(client.session, sessionOf(req), 'De-register', client.params.endpoint)
    if (denied) return this.refuse(reply, 'De-register', client.params.endpoint, req, denied)
    this.dropClient(client, 'de-registered')
    reply('2.02')
    this.emit({ kind: 'deregistered', time: this.opts.now(), endpoint: client.params.endpoint, registrationId })
  }

  /**
   * Removes at once, each with the usual `deregistered` event, the registrations the device-identity rules no longer
   * allow: those made with `revokedIdentity` (its key was replaced or deleted), and those the access check now
   * refuses, as their next Update would be. Returns their endpoints.
   */
  removeRevoked(revokedIdentity?: string): string[] {
    const removed: string[] = []
    for (const client of [...this.clients.values()]) {
      const endpoint = client.params.endpoint
      const why =
        revokedIdentity !== undefined && client.session.identity === revokedIdentity
          ? `the key of PSK identity "${revokedIdentity}" it registered with was revoked`
          : this.opts.access?.check(endpoint, { ...client.session, peer: client.peer })?.diagnostic
      if (why === undefined) continue
      this.dropClient(client, 'removed: its credentials were revoked')
      this.log('warn', `registration of ${endpoint} removed: ${why}`)
      this.emit({ kind: 'deregistered', time: this.opts.now(), endpoint, registrationId: client.registrationId })
      removed.push(endpoint)
    }
    return removed
  }

  private receiveSend(req: IncomingRequest, reply: (code: string, payload?: string) => void): void {
    const client = this.clientAt(req.peer)
    if (!client) return reply('4.04', `no client is registered from ${req.peer.address}:${req.peer.port}`)
    const denied = sameSession(client.session, sessionOf(req), 'Send', client.params.endpoint)
    if (denied) return this.refuse(reply, 'Send', client.params.endpoint, req, denied)
    const codec = req.contentFormat === undefined ? undefined : codecFor(req.contentFormat)
    if (!codec || (req.contentFormat !== ContentFormat.SENML_CBOR && req.contentFormat !== ContentFormat.SENML_JSON)) {
      return reply('4.15', `Send needs SenML CBOR (112) or SenML JSON (110), not content-format ${req.contentFormat ?? 'none'}`)
    }
    let records: Lwm2mRecord[]
    try {
      records = codec.decode(req.payload, { basePath: ROOT, models: client.models })
    } catch (e) {
      return reply('4.00', isCodecError(e) ? e.message : 'undecodable payload')
    }
    reply('2.04')
    this.seen(client)
    this.emit({ kind: 'send', time: this.opts.now(), endpoint: client.params.endpoint, records: this.toJson(client, records) })
  }

  /** 4.03 with the reason as its diagnostic payload, and a warning in the log. */
  private refuse(reply: (code: string, payload?: string) => void, what: string, endpoint: string, req: IncomingRequest, refusal: Refusal): void {
    reply(refusal.code, refusal.diagnostic)
    this.log('warn', `${what} of ${endpoint} from ${req.peer.address}:${req.peer.port} refused (${refusal.code}): ${refusal.diagnostic}`)
  }

  private clientAt(peer: CoapPeer): Client | undefined {
    for (const c of this.clients.values()) if (c.peer.port === peer.port && c.peer.address === peer.address) return c
    return undefined
  }

  private modelsFor(objects: ObjectList, learned?: ReadonlyMap<number, ObjectModel>): VersionedModels {
    const versions = new Map<number, string>()
    for (const o of objects.objects) if (o.version) versions.set(o.objectId, o.version)
    return this.opts.registry.forVersions(versions, learned)
  }

  /**
   * Asks the `learnModels` hook for models of the client's objects the registry lacks (one run after another, the
   * last one's result standing), and uses them for the client's reads, writes and notifications.
   */
  private learnModelsOf(client: Client): void {
    const hook = this.opts.learnModels
    if (!hook) return
    client.learnedOnce = true
    const run = async (): Promise<void> => {
      if (this.clients.get(client.params.endpoint) !== client) return
      const unknown = [...new Set(client.objects.objects.map((o) => o.objectId))].filter((id) => this.opts.registry.get(id) === undefined)
      let found: LearnedModels = { models: [] }
      if (unknown.length > 0) {
        try {
          found = await hook(this.info(client), unknown, this)
        } catch (e) {
          found = { models: [], warnings: [`learning the object models of ${client.params.endpoint} failed: ${(e as Error).message}`] }
        }
      }
      for (const warning of found.warnings ?? []) this.log('warn', warning)
      if (this.clients.get(client.params.endpoint) !== client) return
      const learned = new Map<number, ObjectModel>()
      for (const model of found.models) if (unknown.includes(model.id)) learned.set(model.id, model)
      client.learned = learned
      client.models = this.modelsFor(client.objects, learned)
    }
    const next = (client.learning ?? Promise.resolve()).then(run)
    client.learning = next
    void next.finally(() => {
      if (client.learning === next) client.learning = undefined
    })
  }

  /** Every message from a client proves it awake: flush what waited for it. */
  private seen(client: Client): void {
    client.lastSeenAt = this.opts.now()
    if (!client.awake) {
      client.awake = true
      this.emit({ kind: 'awake', time: client.lastSeenAt, endpoint: client.params.endpoint, queuedRequests: client.queue.length })
    }
    const queued = client.queue.splice(0)
    for (const q of queued) q.run()
  }

  private dropClient(client: Client, reason: string): void {
    const endpoint = client.params.endpoint
    for (const o of this.observationsOf(endpoint)) this.removeObservation(o, false)
    this.rejectQueue(client, `${endpoint} was ${reason}`)
    this.clients.delete(endpoint)
    this.byRegistrationId.delete(client.registrationId)
    this.opts.store?.removeRegistration(endpoint)
  }

  private rejectQueue(client: Client, why: string): void {
    for (const q of client.queue.splice(0)) q.reject({ ok: false, error: { code: 'not_registered', message: `queued request dropped: ${why}` } })
  }

  /** Every sweep interval: expire lifetimes, put idle queue-mode clients to sleep, drop stale queued requests. */
  private sweep(): void {
    const now = this.opts.now()
    for (const client of [...this.clients.values()]) {
      if (now > client.lastUpdateAt + (client.params.lifetime + this.opts.lifetimeGraceS) * 1000) {
        this.dropClient(client, 'expired')
        this.emit({ kind: 'expired', time: now, endpoint: client.params.endpoint, registrationId: client.registrationId })
        continue
      }
      if (client.params.queueMode && client.awake && now > client.lastSeenAt + this.opts.awakeTimeMs) {
        client.awake = false
        this.emit({ kind: 'sleeping', time: now, endpoint: client.params.endpoint })
      }
      if (client.queue.length > 0) {
        const keep = client.queue.filter((q) => q.expiresAt > now)
        for (const q of client.queue) if (q.expiresAt <= now) q.reject({ ok: false, error: { code: 'queued_expired', message: `${client.params.endpoint} did not wake up within ${this.opts.queuedRequestTtlMs / 1000} s` } })
        client.queue.splice(0, client.queue.length, ...keep)
      }
    }
  }

  // ---- persistence -------------------------------------------------------------------------

  private persist(client: Client): void {
    const data: PersistedClient = {
      v: 1,
      params: client.params,
      objects: client.objects,
      peer: client.peer,
      scheme: client.transport.scheme,
      session: client.session,
      registeredAt: client.registeredAt,
      lastUpdateAt: client.lastUpdateAt,
    }
    this.opts.store?.saveRegistration({ endpoint: client.params.endpoint, registrationId: client.registrationId, data })
  }

  private restore(): void {
    const store = this.opts.store
    if (!store) return
    const { rows, damaged } = store.loadRegistrations()
    for (const endpoint of damaged) this.log('warn', `stored registration of ${endpoint} is damaged; skipped`)
    for (const row of rows) {
      const data = row.data as Partial<PersistedClient>
      const transport = this.opts.transports.find((t) => t.scheme === data.scheme)
      if (data.v !== 1 || !data.params || !data.objects || !data.peer || !transport || typeof data.lastUpdateAt !== 'number') {
        this.log('warn', `stored registration of ${row.endpoint} is not usable; skipped`)
        continue
      }
      const client: Client = {
        params: data.params,
        objects: data.objects,
        registrationId: row.registrationId,
        peer: data.peer,
        transport,
        session: data.session ?? { secure: data.scheme === 'coaps' },
        registeredAt: data.registeredAt ?? data.lastUpdateAt,
        lastUpdateAt: data.lastUpdateAt,
        lastSeenAt: data.lastUpdateAt,
        awake: !data.params.queueMode,
        models: this.modelsFor(data.objects),
        learned: new Map(),
        learning: undefined,
        learnedOnce: false,
        refused: new Set(),
        queue: [],
      }
      this.clients.set(client.params.endpoint, client)
      this.byRegistrationId.set(client.registrationId, client)
    }
    // The old tokens died with the old process: observe again (queued for sleeping clients).
    for (const stored of store.loadObservations()) {
      const data = stored.data as { paths?: string[]; format?: number }
      store.removeObservation(stored.id)
      if (!this.clients.has(stored.endpoint) || !Array.isArray(data.paths)) continue
      void this.observe(stored.endpoint, data.paths, data.format !== undefined ? { format: data.format } : {})
    }
  }

  // ---- device management -------------------------------------------------------------------

  /**
   * Sends one request to a client, now or, for a sleeping queue-mode client, when it next wakes.
   * Transport failures become `timeout` / `unreachable` errors; device answers are results.
   */
  private exchange(endpoint: string, request: CoapRequest): Promise<Result<{ response: CoapResponse; durationMs: number; queued: boolean }>> {
    const client = this.clients.get(endpoint)
    if (!client) return Promise.resolve(fail('not_registered', `no client named ${endpoint} is registered`))
    const send = async (queued: boolean): Promise<Result<{ response: CoapResponse; durationMs: number; queued: boolean }>> => {
      // A queued request goes to the registration current when it is sent.
      const target = this.clients.get(endpoint) ?? client
      const started = performance.now()
      try {
        const response = await target.transport.request(target.peer, { timeoutMs: this.opts.requestTimeoutMs, ...request })
        const durationMs = performance.now() - started
        this.wireOut(target, request, response, durationMs)
        this.seen(target)
        return ok({ response, durationMs, queued })
      } catch (e) {
        return this.transportFailure(e)
      }
    }
    if (client.params.queueMode && !client.awake) {
      if (client.queue.length >= this.opts.maxQueuedPerClient) return Promise.resolve(fail('conflict', `${endpoint} is sleeping and already has ${client.queue.length} queued requests`))
      return new Promise((resolve) => {
        client.queue.push({ run: () => void send(true).then(resolve), reject: resolve, expiresAt: this.opts.now() + this.opts.queuedRequestTtlMs })
      })
    }
    return send(false)
  }

  private transportFailure<T>(e: unknown): Result<T> {
    if (e instanceof TransportError) return fail(e.kind === 'timeout' ? 'timeout' : 'unreachable', e.message)
    return fail('internal', e instanceof Error ? e.message : String(e))
  }

  private wireOut(client: Client, request: CoapRequest, response: CoapResponse, durationMs: number): void {
    if (this.listeners.size === 0) return
    this.wire({
      direction: 'out',
      peer: `${client.peer.address}:${client.peer.port}`,
      endpoint: client.params.endpoint,
      method: request.observe === 0 ? `${request.method} observe` : request.method,
      path: request.path,
      code: response.code,
      ...(response.contentFormat !== undefined ? { contentFormat: response.contentFormat } : {}),
      durationMs,
      ...(response.payload.length > 0 ? { summary: this.summarize(client, request.path, response) } : {}),
    })
  }

  private summarize(client: Client, path: string, response: CoapResponse): string {
    const decoded = this.decode(client, parsePath(path), response)
    if (decoded.records) return decoded.records.map((r) => `${r.path}=${String(r.value)}`).join(' ').slice(0, 200)
    return new TextDecoder().decode(response.payload.subarray(0, 200))
  }

  private coapPath(client: Client, path: Lwm2mPath): string {
    const root = client.objects.rootPath === '/' ? '' : client.objects.rootPath.replace(/\/$/, '')
    return `${root}${formatPath(path)}`.replace(/^$/, '/')
  }

  private parseTarget(endpoint: string, path: string): Result<{ client: Client; path: Lwm2mPath }> {
    const client = this.clients.get(endpoint)
    if (!client) return fail('not_registered', `no client named ${endpoint} is registered`)
    try {
      return ok({ client, path: parsePath(path) })
    } catch (e) {
      return fail('invalid_input', (e as Error).message)
    }
  }

  private decode(client: Client, basePath: Lwm2mPath, response: CoapResponse): Decoded {
    if (response.payload.length === 0) return {}
    // The wire log and the result both decode a response: do it once.
    const key = formatPath(basePath)
    const cached = this.decodedResponses.get(response)
    if (cached?.key === key) return cached.decoded
    const decoded = this.decodeAt(client, basePath, response)
    this.decodedResponses.set(response, { key, decoded })
    return decoded
  }

  private decodeAt(client: Client, basePath: Lwm2mPath, response: CoapResponse): Decoded {
    // No Content-Format on a single value: LwM2M 1.0 devices answer text/plain.
    const format = response.contentFormat ?? (pathDepth(basePath) >= 3 ? ContentFormat.TEXT : undefined)
    const codec = format === undefined ? undefined : codecFor(format)
    if (!codec) return { decodeError: `content-format ${format ?? 'none'} carries no LwM2M values` }
    try {
      return { records: this.toJson(client, codec.decode(response.payload, { basePath, models: client.models })) }
    } catch (e) {
      return { decodeError: isCodecError(e) ? e.message : `decoder failed: ${(e as Error).message}` }
    }
  }

  private toJson(client: Client, records: readonly Lwm2mRecord[]): RecordJson[] {
    const out: RecordJson[] = new Array(records.length)
    const registry = this.opts.registry
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as Lwm2mRecord
      const { objectId, resourceId } = r.path
      const model = objectId !== undefined && resourceId !== undefined ? client.models.resource(objectId, resourceId) : undefined
      out[i] = {
        path: formatPath(r.path),
        ...(model ? { name: model.name } : objectId !== undefined && resourceId !== undefined ? { name: registry.resourceName(objectId, resourceId) } : {}),
        ...(r.type ? { type: r.type } : {}),
        value: valueToJson(r.value),
        ...(r.time !== undefined ? { time: r.time } : {}),
      }
    }
    return out
  }

  private result(client: Client, basePath: Lwm2mPath, x: { response: CoapResponse; durationMs: number; queued: boolean }, decodeValues: boolean): DmResult {
    const { response } = x
    const success = response.code.startsWith('2.')
    const decoded = success && decodeValues ? this.decode(client, basePath, response) : {}
    const diagnostic = !success && response.payload.length > 0 ? new TextDecoder().decode(response.payload.subarray(0, 500)) : undefined
    return {
      code: response.code,
      success,
      durationMs: Math.round(x.durationMs * 100) / 100,
      ...(response.contentFormat !== undefined ? { contentFormat: response.contentFormat } : {}),
      ...decoded,
      ...(decoded.decodeError ? { payloadHex: bytesToHex(response.payload) } : {}),
      ...(diagnostic ? { diagnostic } : {}),
      ...(x.queued ? { queued: true } : {}),
    }
  }

  async read(endpoint: string, path: string, options: ReadOptions = {}): Promise<Result<DmResult>> {
    const target = this.parseTarget(endpoint, path)
    if (!target.ok) return target
    const { client, path: p } = target.value
    const single = pathDepth(p) >= 3
    const formats: (number | undefined)[] = clientChoosesFormat(negotiable(client), single, options.format) ? [undefined] : formatsToTry(negotiable(client), single, options.format)
    let last: Result<DmResult> | undefined
    for (const format of formats) {
      const x = await this.exchange(endpoint, { method: 'GET', path: this.coapPath(client, p), ...(format !== undefined ? { accept: format } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) })
      if (!x.ok) return x
      last = ok(this.result(client, p, x.value, true))
      if (!isFormatRefusal(x.value.response.code) || options.format !== undefined || format === undefined) break
      client.refused.add(format)
    }
    return last as Result<DmResult>
  }

  async discover(endpoint: string, path: string, options: ReadOptions = {}): Promise<Result<DmResult>> {
    const target = this.parseTarget(endpoint, path)
    if (!target.ok) return target
    const { client, path: p } = target.value
    const x = await this.exchange(endpoint, { method: 'GET', path: this.coapPath(client, p), accept: ContentFormat.LINK, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) })
    if (!x.ok) return x
    const result = this.result(client, p, x.value, false)
    if (!result.success) return ok(result)
    try {
      const links = parseDiscoverLinks(new TextDecoder('utf-8', { fatal: true }).decode(x.value.response.payload))
      return ok({ ...result, links: links.map((l) => ({ path: formatPath(l.path), attributes: { ...l.attributes } as Record<string, string | number | null> })) })
    } catch (e) {
      return ok({ ...result, decodeError: (e as Error).message, payloadHex: bytesToHex(x.value.response.payload) })
    }
  }

  /**
   * Write: `records` hold absolute paths under `path`. Replace is a PUT; partial update a POST on
   * an instance. Format negotiation as for Read, with 4.15 as the refusal.
   */
  async write(endpoint: string, path: string, records: readonly Lwm2mRecord[], options: WriteOptions = {}): Promise<Result<DmResult>> {
    const target = this.parseTarget(endpoint, path)
    if (!target.ok) return target
    const { client, path: p } = target.value
    const replace = options.replace ?? true
    if (!replace && pathDepth(p) !== 2) return fail('invalid_input', 'a partial update (replace=false) targets an object instance /o/i')
    if (records.length === 0) return fail('invalid_input', 'nothing to write')
    const formats = formatsToTry(negotiable(client), pathDepth(p) >= 3 && records.length === 1, options.format)
    let last: Result<DmResult> | undefined
    for (const format of formats) {
      const encoded = encodeIn(format, records, p, client.models, options.format !== undefined)
      if (encoded === undefined) continue // this format cannot carry these values (e.g. several timestamps in TLV): try the next
      if (!encoded.ok) return encoded
      const payload = encoded.value
      const x = await this.exchange(endpoint, { method: replace ? 'PUT' : 'POST', path: this.coapPath(client, p), contentFormat: format, payload, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) })
      if (!x.ok) return x
      last = ok(this.result(client, p, x.value, false))
      if (!isFormatRefusal(x.value.response.code) || options.format !== undefined) break
      client.refused.add(format)
    }
    return last ?? fail('invalid_input', 'no content format can carry these values')
  }

  /** Execute, with optional arguments in the LwM2M form `0='v',1`. */
  async execute(endpoint: string, path: string, args?: string, options: ReadOptions = {}): Promise<Result<DmResult>> {
    const target = this.parseTarget(endpoint, path)
    if (!target.ok) return target
    const { client, path: p } = target.value
    if (pathDepth(p) !== 3) return fail('invalid_input', 'Execute targets a resource /o/i/r')
    const payload = args ? new TextEncoder().encode(args) : undefined
    const x = await this.exchange(endpoint, { method: 'POST', path: this.coapPath(client, p), ...(payload ? { payload, contentFormat: ContentFormat.TEXT } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) })
    return x.ok ? ok(this.result(client, p, x.value, false)) : x
  }

  /** Create an instance of object `objectPath` (/o); records are the new instance's resources. */
  async create(endpoint: string, objectPath: string, records: readonly Lwm2mRecord[], options: ReadOptions = {}): Promise<Result<DmResult>> {
    const target = this.parseTarget(endpoint, objectPath)
    if (!target.ok) return target
    const { client, path: p } = target.value
    if (pathDepth(p) !== 1) return fail('invalid_input', 'Create targets an object /o')
    // Format negotiation as for Write: a 4.15 tries the next format.
    let last: Result<DmResult> | undefined
    for (const format of formatsToTry(negotiable(client), false, options.format)) {
      const encoded = encodeIn(format, records, p, client.models, options.format !== undefined)
      if (encoded === undefined) continue // this format cannot carry these values (e.g. several timestamps in TLV): try the next
      if (!encoded.ok) return encoded
      const payload = encoded.value
      const x = await this.exchange(endpoint, { method: 'POST', path: this.coapPath(client, p), contentFormat: format, payload, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) })
      if (!x.ok) return x
      const result = this.result(client, p, x.value, false)
      const location = x.value.response.locationPath
      last = ok(location && location.length > 0 ? { ...result, location: '/' + location.join('/') } : result)
      if (!isFormatRefusal(x.value.response.code) || options.format !== undefined) break
      client.refused.add(format)
    }
    return last ?? fail('invalid_input', 'no content format can carry these values')
  }

  async delete(endpoint: string, path: string, options: ReadOptions = {}): Promise<Result<DmResult>> {
    const target = this.parseTarget(endpoint, path)
    if (!target.ok) return target
    const { client, path: p } = target.value
    const x = await this.exchange(endpoint, { method: 'DELETE', path: this.coapPath(client, p), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) })
    return x.ok ? ok(this.result(client, p, x.value, false)) : x
  }

  /** Write-Attributes: a PUT with the attributes as query and no payload; null unsets an attribute. */
  async writeAttributes(endpoint: string, path: string, attributes: Attributes, options: ReadOptions = {}): Promise<Result<DmResult>> {
    const target = this.parseTarget(endpoint, path)
    if (!target.ok) return target
    const { client, path: p } = target.value
    const query = Object.entries(attributes)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => (v === null ? k : `${k}=${v}`))
    if (query.length === 0) return fail('invalid_input', 'no attributes given')
    const x = await this.exchange(endpoint, { method: 'PUT', path: this.coapPath(client, p), query, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) })
    return x.ok ? ok(this.result(client, p, x.value, false)) : x
  }

  // ---- observation -------------------------------------------------------------------------

  private observationsOf(endpoint: string): Observation[] {
    return [...this.observations.values()].filter((o) => o.endpoint === endpoint)
  }

  /**
   * Observe one path (GET + Observe) or several (composite: FETCH on the root with the paths in
   * SenML). Each notification is decoded and emitted with all its timestamped values.
   */
  async observe(endpoint: string, paths: readonly string[], options: ObserveOptions = {}): Promise<Result<DmResult & { observationId?: string }>> {
    if (paths.length === 0) return fail('invalid_input', 'nothing to observe')
    const client = this.clients.get(endpoint)
    if (!client) return fail('not_registered', `no client named ${endpoint} is registered`)
    let parsed: Lwm2mPath[]
    try {
      parsed = paths.map(parsePath)
    } catch (e) {
      return fail('invalid_input', (e as Error).message)
    }
    const composite = parsed.length > 1
    const first = parsed[0] as Lwm2mPath
    if (options.attributes) {
      const attrs = await this.writeAttributes(endpoint, paths[0] as string, options.attributes, options)
      if (!attrs.ok) return attrs
      if (!attrs.value.success) return ok(attrs.value)
    }
    const single = pathDepth(first) >= 3
    // Best first, as for Read; a 4.06 to one format tries the next (composite answers need SenML).
    const formats: (number | undefined)[] =
      options.format !== undefined
        ? [options.format]
        : composite
          ? [ContentFormat.SENML_CBOR, ContentFormat.SENML_JSON]
          : clientChoosesFormat(negotiable(client), single)
            ? [undefined]
            : formatsToTry(negotiable(client), single)
    const id = randomBytes(8).toString('hex')
    const basePath = composite ? ROOT : first
    const requestFor = (target: Client, format: number | undefined): CoapRequest =>
      composite
        ? {
            method: 'FETCH',
            path: this.coapPath(target, ROOT),
            contentFormat: ContentFormat.SENML_JSON,
            payload: new TextEncoder().encode(JSON.stringify(parsed.map((p) => ({ n: formatPath(p) })))),
            ...(format !== undefined ? { accept: format } : {}),
            timeoutMs: options.timeoutMs ?? this.opts.requestTimeoutMs,
          }
        : { method: 'GET', path: this.coapPath(target, first), ...(format !== undefined ? { accept: format } : {}), timeoutMs: options.timeoutMs ?? this.opts.requestTimeoutMs }

    const establish = async (queued: boolean): Promise<Result<DmResult & { observationId?: string }>> => {
      let last: Result<DmResult & { observationId?: string }> | undefined
      for (const format of formats) {
        const current = this.clients.get(endpoint)
        if (!current) return fail('not_registered', `${endpoint} is no longer registered`)
        const observation: Observation = { id, endpoint, paths: parsed, composite, createdAt: this.opts.now(), ...(format !== undefined ? { format } : {}) }
        const request = requestFor(current, format)
        const started = performance.now()
        let handle: ObserveHandle
        try {
          handle = await current.transport.observe(current.peer, request, (n) => this.notify(observation, basePath, n))
        } catch (e) {
          return this.transportFailure(e)
        }
        const durationMs = performance.now() - started
        this.wireOut(current, { ...request, observe: 0 }, handle.response, durationMs)
        this.seen(current)
        const result = this.result(current, basePath, { response: handle.response, durationMs, queued }, true)
        if (!result.success) {
          handle.forget()
          last = ok(result)
          if (!isFormatRefusal(result.code) || format === undefined || formats.length === 1) break
          current.refused.add(format)
          continue
        }
        observation.handle = handle
        this.observations.set(id, observation)
        this.opts.store?.saveObservation({ id, endpoint, data: { paths: paths.map((p) => formatPath(parsePath(p))), ...(format !== undefined ? { format } : {}) } })
        return ok({ ...result, observationId: id })
      }
      return last as Result<DmResult & { observationId?: string }>
    }
    if (client.params.queueMode && !client.awake) {
      return new Promise((resolve) => {
        client.queue.push({ run: () => void establish(true).then(resolve), reject: resolve, expiresAt: this.opts.now() + this.opts.queuedRequestTtlMs })
      })
    }
    return establish(false)
  }

  private notify(observation: Observation, basePath: Lwm2mPath, n: CoapResponse): void {
    const client = this.clients.get(observation.endpoint)
    if (!client || !this.observations.has(observation.id)) return
    this.seen(client)
    const decoded = n.code.startsWith('2.') ? this.decode(client, basePath, n) : { decodeError: `notification with code ${n.code}` }
    const now = this.opts.now()
    if (this.listeners.size > 0) {
      this.wire({ direction: 'in', peer: `${client.peer.address}:${client.peer.port}`, endpoint: observation.endpoint, method: 'notify', path: observation.paths.map(formatPath).join(','), code: n.code, ...(n.contentFormat !== undefined ? { contentFormat: n.contentFormat } : {}) })
    }
    this.emit({
      kind: 'notification',
      time: now,
      endpoint: observation.endpoint,
      observationId: observation.id,
      paths: observation.paths.map(formatPath),
      code: n.code,
      records: decoded.records ?? [],
      ...(decoded.decodeError ? { decodeError: decoded.decodeError } : {}),
    })
  }

  /**
   * Cancel the observations of `path` (all of the client's when `path` is omitted). Active: a GET
   * with Observe 1; passive: forget the token, and the client's next notification gets a RST.
   */
  async cancelObservation(endpoint: string, path?: string, options: { passive?: boolean } = {}): Promise<Result<{ cancelled: number }>> {
    if (!this.clients.has(endpoint)) return fail('not_registered', `no client named ${endpoint} is registered`)
    let target: string | undefined
    try {
      target = path === undefined ? undefined : formatPath(parsePath(path))
    } catch (e) {
      return fail('invalid_input', (e as Error).message)
    }
    const matching = this.observationsOf(endpoint).filter((o) => target === undefined || o.paths.some((p) => formatPath(p) === target))
    await Promise.all(matching.map((o) => this.removeObservation(o, !options.passive)))
    return ok({ cancelled: matching.length })
  }

  async cancelObservationById(id: string, options: { passive?: boolean } = {}): Promise<Result<{ cancelled: number }>> {
    const o = this.observations.get(id)
    if (!o) return fail('not_found', `no observation ${id}`)
    await this.removeObservation(o, !options.passive)
    return ok({ cancelled: 1 })
  }

  private async removeObservation(o: Observation, active: boolean): Promise<void> {
    this.observations.delete(o.id)
    this.opts.store?.removeObservation(o.id)
    if (!active || !o.handle) {
      o.handle?.forget()
      return
    }
    const answer = await o.handle.cancel()
    if (answer === undefined) this.log('warn', `active cancel of ${o.paths.map(formatPath).join(',')} on ${o.endpoint} got no answer; the observation ends at the client's next notification (RST)`)
  }
}
