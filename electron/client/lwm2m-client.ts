import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { fail, ok, type Result } from '../../shared/api/result.ts'
import { ContentFormat, mediaType } from '../../shared/lwm2m/content-format.ts'
import { isCodecError } from '../../shared/lwm2m/errors.ts'
import { codecFor } from '../../shared/lwm2m/formats.ts'
import { formatLinks, parseAttributesQuery, type Link } from '../../shared/lwm2m/link-format.ts'
import type { ObjectModel } from '../../shared/lwm2m/object-model.ts'
import { ObjectRegistry } from '../../shared/lwm2m/object-registry.ts'
import { formatPath, makePath, MAX_ID, parsePath, pathDepth, type Lwm2mPath } from '../../shared/lwm2m/path.ts'
import { parseSenmlCbor } from '../../shared/lwm2m/senml-cbor.ts'
import { parseSenmlJson } from '../../shared/lwm2m/senml-json.ts'
import { readSenmlRecord } from '../../shared/lwm2m/senml.ts'
import type { Lwm2mRecord, Lwm2mValue } from '../../shared/lwm2m/values.ts'
import { TransportError, type CoapPeer, type CoapRequest, type CoapResponse, type CoapTransport, type IncomingRequest, type Responder } from '../coap/transport.ts'
import { UdpTransport } from '../coap/udp-transport.ts'
import { DtlsClientTransport, type PskCredentials } from '../coap/dtls-client-transport.ts'
import { AttributeStore, type NotificationAttributes } from './attributes.ts'
import { installCoreObjects, type DeviceInfo } from './core-objects.ts'
import { ObjectTree, type InstancesInit, type ObjectOptions, type ResourceContent, type TreeChange } from './object-tree.ts'
import { observationKey, ObservationEngine, type ObservationInfo, type StreamOptions } from './observations.ts'
import { OperationError, toOperationError } from './operation-error.ts'

export type Lwm2mVersion = '1.0' | '1.1' | '1.2'

const VERSIONS: readonly Lwm2mVersion[] = ['1.0', '1.1', '1.2']

export interface ClientOptions {
  readonly endpoint: string
  /** `coap://host:port` (5683 when no port is given), or `coaps://host:port` (5684) with `psk`. */
  readonly serverUri: string
  /** The DTLS pre-shared key of a coaps server: the identity the server knows this endpoint by, and the key. */
  readonly psk?: PskCredentials
  /** Registration lifetime in seconds; default 300. */
  readonly lifetime?: number
  /** `lwm2m=` of the Register; default "1.1". A 4.12 answer makes the client try the next lower version. */
  readonly lwm2mVersion?: Lwm2mVersion
  /** Default "U". */
  readonly binding?: string
  /** Queue mode: `Q` (1.1+) or a `UQ` binding (1.0). */
  readonly queueMode?: boolean
  /** Alternate root path, e.g. "/lwm2m": registered as `</lwm2m>;rt="oma.lwm2m"`, and the prefix of every DM path. */
  readonly rootPath?: string
  readonly shortServerId?: number
  /** Object models; default the built-in ones. Models given to `addObject` are added to it. */
  readonly registry?: ObjectRegistry
  /** A transport of your own, not yet listening: the client calls listen() and handles its requests, but never closes it. Default: a UdpTransport on `localAddress:localPort`. */
  readonly transport?: CoapTransport
  /** Default: every address of the server's family (0.0.0.0 or ::). */
  readonly localAddress?: string
  readonly localPort?: number
  /** The answer's format when a Read or Observe carries no Accept; default TLV for 1.0, SenML CBOR for 1.1+. */
  readonly defaultFormat?: number
  /** CON (default) or NON notifications for ordinary changes. */
  readonly confirmableNotifications?: boolean
  readonly stream?: Partial<StreamOptions>
  /** Server object defaults (/1/0/2, /1/0/3) for observations without pmin/pmax; default 0 and none. */
  readonly defaultPmin?: number
  readonly defaultPmax?: number
  readonly device?: DeviceInfo
  /** The Update goes out after this share of the lifetime; default 0.85. */
  readonly updateAt?: number
  /** Object-list changes within this window make one Update; default 100 ms. */
  readonly updateDebounceMs?: number
  /** Register / Update / De-register give up after this long; default 10 s. */
  readonly requestTimeoutMs?: number
  /** Re-registration backoff: first delay, doubled up to the maximum; default 1 s and 60 s. */
  readonly retryInitialMs?: number
  readonly retryMaxMs?: number
  readonly now?: () => number
}

export type ClientState = 'stopped' | 'registering' | 'registered' | 'waiting'

export type ClientEvent =
  | { readonly kind: 'registered'; readonly location: string; readonly lwm2mVersion: string; readonly objectLinks: string }
  | { readonly kind: 'updated'; readonly objectsChanged: boolean; readonly lifetime: number }
  | { readonly kind: 'deregistered'; readonly code: string }
  | { readonly kind: 'registrationFailed'; readonly operation: 'register' | 'update'; readonly reason: string; readonly code?: string; readonly retryInMs?: number }
  | { readonly kind: 'observationStarted'; readonly observation: ObservationInfo }
  | { readonly kind: 'observationEnded'; readonly observation: ObservationInfo; readonly reason: string }
  /** Write-Attributes on `path`: what `observeAttributes` answers below it may have changed. */
  | { readonly kind: 'attributesChanged'; readonly path: string }
  | { readonly kind: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string }

/** One sample of a stream: a value and its time in seconds since the epoch. */
export interface Sample {
  readonly value: Lwm2mValue
  readonly time: number
}

/** Samples as parallel arrays (times in seconds since the epoch). */
export interface SampleArrays {
  readonly values: ArrayLike<number>
  readonly times: ArrayLike<number>
}

const STREAM_DEFAULTS: StreamOptions = { confirmable: false, batchSize: 50, flushIntervalMs: 20, maxNotificationsPerSecond: 200, maxPayloadBytes: 1024 }
const SENML = new Set<number>([ContentFormat.SENML_JSON, ContentFormat.SENML_CBOR])
const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true })

/** lwm2m-node-lib's pre-standard text format number is text/plain. */
function codecFormat(format: number): number {
  return format === 1541 ? ContentFormat.TEXT : format
}

/** The resource a resource or resource-instance path is in. */
function resourceOf(path: Lwm2mPath): Lwm2mPath {
  return makePath([path.objectId ?? 0, path.instanceId ?? 0, path.resourceId ?? 0])
}

/** Whether the URI is coaps (DTLS); throws, naming the problem, when it is neither coap nor coaps. */
export function isSecureServerUri(uri: string): boolean {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    throw new Error(`server URI "${uri}" is not a URI (coap://host:port or coaps://host:port)`)
  }
  if (url.protocol !== 'coap:' && url.protocol !== 'coaps:') throw new Error(`server URI "${uri}" is not coap:// or coaps://`)
  return url.protocol === 'coaps:'
}

async function resolveServer(uri: string): Promise<CoapPeer> {
  const secure = isSecureServerUri(uri)
  const url = new URL(uri)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (host === '') throw new Error(`server URI "${uri}" names no host`)
  const port = url.port === '' ? (secure ? 5684 : 5683) : Number(url.port)
  const address = isIP(host) ? host : (await lookup(host)).address
  return { address, port }
}

/**
 * The LwM2M client of the gateway: registers with one server (and keeps the registration alive, updated
 * and re-established), answers its device-management and observe requests from an object tree, and
 * streams samples as batched notifications. It knows CoAP only through `CoapTransport`; its own
 * UdpTransport receives the server's requests on the socket it registers from.
 */
export class Lwm2mClient {
  readonly tree = new ObjectTree()
  readonly registry: ObjectRegistry
  readonly endpoint: string
  private readonly opts: ClientOptions
  private readonly attributes = new AttributeStore()
  private readonly observations: ObservationEngine
  private readonly listeners = new Set<(event: ClientEvent) => void>()
  private readonly now: () => number
  private transport: CoapTransport | undefined
  private ownsTransport = false
  private server: CoapPeer | undefined
  private boundPort: number | undefined
  private version: Lwm2mVersion
  private lifetimeS: number
  private bindingMode: string
  private location: string[] | undefined
  private sent: { links: string; lifetime: number; binding: string } | undefined
  private currentState: ClientState = 'stopped'
  private stopped = true
  private needRegister = false
  private needUpdate = false
  private cycling: Promise<void> | undefined
  private retryAttempt = 0
  private updateTimer: NodeJS.Timeout | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private debounceTimer: NodeJS.Timeout | undefined
  private readonly pendingObserves = new Set<string>()
  private starting: Promise<void> | undefined

  constructor(options: ClientOptions) {
    if (!options.endpoint) throw new Error('the client needs an endpoint name')
    const secure = isSecureServerUri(options.serverUri)
    if (secure && !options.psk && !options.transport) throw new Error(`server URI "${options.serverUri}" is coaps (DTLS): it needs a PSK identity and key`)
    if (!secure && options.psk) throw new Error(`a PSK identity and key were given, but the server URI "${options.serverUri}" is plain coap://; use coaps://`)
    this.opts = options
    this.endpoint = options.endpoint
    this.now = options.now ?? Date.now
    this.registry = options.registry ?? ObjectRegistry.withBuiltins()
    this.version = options.lwm2mVersion ?? '1.1'
    if (!VERSIONS.includes(this.version)) throw new Error(`LwM2M version ${this.version} is not one of ${VERSIONS.join(', ')}`)
    this.lifetimeS = options.lifetime ?? 300
    this.bindingMode = options.binding ?? 'U'
    const stream = { ...STREAM_DEFAULTS, ...options.stream }
    this.observations = new ObservationEngine({
      tree: this.tree,
      attributes: this.attributes,
      defaults: () => this.defaultPeriods(),
      encode: (format, basePath, records) => this.encode(format, basePath, records),
      confirmable: options.confirmableNotifications ?? true,
      stream,
      log: (level, message) => this.log(level, message),
      onStarted: (observation) => this.emit({ kind: 'observationStarted', observation }),
      onEnded: (observation, reason) => this.emit({ kind: 'observationEnded', observation, reason }),
      now: this.now,
    })
    installCoreObjects(this.tree, {
      registry: this.registry,
      lwm2mVersion: this.version,
      serverUri: options.serverUri,
      ...(options.psk ? { pskIdentity: options.psk.identity } : {}),
      shortServerId: options.shortServerId ?? 1,
      device: options.device ?? {},
      defaultPmin: options.defaultPmin ?? 0,
      defaultPmax: options.defaultPmax ?? 0,
      lifetime: () => this.lifetimeS,
      setLifetime: (lt) => this.setLifetime(lt),
      binding: () => this.bindingMode,
      setBinding: (b) => {
        this.bindingMode = b
        this.requestUpdate()
      },
      triggerUpdate: () => this.requestUpdate(),
      reboot: () => this.log('info', 'Reboot executed by the server (the gateway does not reboot)'),
      now: this.now,
    })
    this.tree.onChange((change) => this.onTreeChange(change))
  }

  // ---- events and state --------------------------------------------------------------------

  onEvent(listener: (event: ClientEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private emit(event: ClientEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // A faulty listener must not break the protocol engine.
      }
    }
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.emit({ kind: 'log', level, message })
  }

  get state(): ClientState {
    return this.currentState
  }

  /** The registration's location, e.g. "/rd/5a3f", while registered. */
  get registrationLocation(): string | undefined {
    return this.location ? `/${this.location.join('/')}` : undefined
  }

  /** The LwM2M version of the current (or next) Register. */
  get lwm2mVersion(): Lwm2mVersion {
    return this.version
  }

  get lifetime(): number {
    return this.lifetimeS
  }

  /** The local UDP port the client registers from (after start). */
  get localPort(): number | undefined {
    return this.boundPort
  }

  listObservations(): ObservationInfo[] {
    return this.observations.list()
  }

  /** The attributes an observation of `path` follows now (Write-Attributes, else the Server object's defaults). */
  observeAttributes(path: string | Lwm2mPath): NotificationAttributes {
    return this.attributes.effective(typeof path === 'string' ? parsePath(path) : path, this.defaultPeriods())
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /** Opens the transport and registers; resolves after the first attempt (a failure is retried with backoff). */
  start(): Promise<void> {
    if (!this.stopped) return Promise.resolve()
    this.starting ??= this.open().finally(() => {
      this.starting = undefined
    })
    return this.starting
  }

  private async open(): Promise<void> {
    this.server = await resolveServer(this.opts.serverUri)
    if (!this.transport) {
      if (this.opts.transport) this.transport = this.opts.transport
      else if (this.opts.psk) {
        this.transport = new DtlsClientTransport({ server: this.server, psk: this.opts.psk, ...(this.opts.requestTimeoutMs !== undefined ? { handshakeTimeoutMs: this.opts.requestTimeoutMs } : {}) })
        this.ownsTransport = true
      } else {
        const v6 = this.server.address.includes(':')
        this.transport = new UdpTransport(v6 ? { host4: '', host6: this.opts.localAddress ?? '::', port: this.opts.localPort ?? 0 } : { host4: this.opts.localAddress ?? '0.0.0.0', port: this.opts.localPort ?? 0 })
        this.ownsTransport = true
      }
      const ports = await this.transport.listen()
      this.boundPort = ports.port4 ?? ports.port6
      this.transport.onRequest((req, res) => this.handleRequest(req, res))
    }
    this.stopped = false
    this.needRegister = true
    await this.cycle()
  }

  /** De-registers (unless told not to), ends observations and closes the transport the client opened. */
  async stop(options: { deregister?: boolean } = {}): Promise<void> {
    if (this.stopped && !this.transport) return
    this.stopped = true
    for (const timer of [this.updateTimer, this.retryTimer, this.debounceTimer]) clearTimeout(timer)
    this.observations.clear('the client stopped')
    // A Register in flight may still bring a location to de-register; it is not waited for long.
    if (this.cycling) await Promise.race([this.cycling.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2000).unref())])
    if (options.deregister !== false && this.location && this.transport && this.server) {
      try {
        const res = await this.transport.request(this.server, { method: 'DELETE', path: this.registrationLocation as string, timeoutMs: Math.min(this.opts.requestTimeoutMs ?? 10_000, 3000) })
        this.emit({ kind: 'deregistered', code: res.code })
      } catch (e) {
        this.log('warn', `De-register failed: ${(e as Error).message}`)
      }
    }
    this.location = undefined
    this.sent = undefined
    this.currentState = 'stopped'
    if (this.ownsTransport) {
      await this.transport?.close()
      this.transport = undefined
      this.ownsTransport = false
    }
  }

  /** Sends a registration Update now (what Registration Update Trigger /1/0/8 does). */
  requestUpdate(): void {
    this.needUpdate = true
    void this.cycle()
  }

  /** Changes the lifetime; the server hears it in an Update. */
  setLifetime(seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`lifetime ${seconds} is not a whole number of seconds ≥ 1`)
    this.lifetimeS = seconds
    this.requestUpdate()
  }

  // ---- registration ------------------------------------------------------------------------

  /** Runs Register / Update until nothing is left to do; one run at a time. */
  private cycle(): Promise<void> {
    if (this.cycling) return this.cycling
    this.cycling = (async () => {
      try {
        while (!this.stopped) {
          if (this.needRegister || !this.location) {
            if (!(await this.register())) return
            continue
          }
          if (this.needUpdate) {
            await this.update()
            continue
          }
          return
        }
      } finally {
        this.cycling = undefined
      }
    })()
    return this.cycling
  }

  private async request(request: CoapRequest): Promise<CoapResponse> {
    if (!this.transport || !this.server) throw new TransportError('closed', 'the client is not started')
    return this.transport.request(this.server, { timeoutMs: this.opts.requestTimeoutMs ?? 10_000, ...request })
  }

  private rootPrefix(): string {
    const root = this.opts.rootPath ?? '/'
    return root === '/' ? '' : `/${root.replace(/^\/+|\/+$/g, '')}`
  }

  /** The Register / Update payload: `</>;rt="oma.lwm2m";ct=112,</1>;ver=1.1,</1/0>,</3>;ver=1.1,</3/0>,…`. */
  objectLinks(): string {
    const root = this.rootPrefix()
    const rootParams: Link['params'] = { rt: 'oma.lwm2m' }
    if (this.version === '1.1') rootParams.ct = String(this.defaultFormat())
    if (this.version === '1.2') rootParams.ct = [ContentFormat.SENML_CBOR, ContentFormat.SENML_JSON, ContentFormat.TLV, ContentFormat.LWM2M_JSON].join(' ')
    const links: Link[] = [{ uri: root === '' ? '/' : root, params: rootParams }]
    for (const o of this.tree.registrationEntries()) {
      const versioned = o.version !== '1.0'
      if (versioned || o.instances.length === 0) links.push({ uri: `${root}/${o.objectId}`, params: versioned ? { ver: o.version } : {} })
      for (const i of o.instances) links.push({ uri: `${root}/${o.objectId}/${i}`, params: {} })
    }
    return formatLinks(links)
  }

  private async register(): Promise<boolean> {
    this.currentState = 'registering'
    clearTimeout(this.updateTimer)
    // The old registration's observations die with it: the server has forgotten their tokens.
    this.observations.clear('the client is registering again')
    const links = this.objectLinks()
    const binding = this.version === '1.0' && this.opts.queueMode && !this.bindingMode.includes('Q') ? `${this.bindingMode}Q` : this.bindingMode
    const query = [`ep=${this.endpoint}`, `lt=${this.lifetimeS}`, `lwm2m=${this.version}`, `b=${binding}`, ...(this.opts.queueMode && this.version !== '1.0' ? ['Q'] : [])]
    let reason: string
    let code: string | undefined
    try {
      const res = await this.request({ method: 'POST', path: '/rd', query, contentFormat: ContentFormat.LINK, payload: utf8.encode(links) })
      code = res.code
      const location = (res.locationPath ?? []).flatMap((p) => p.split('/')).filter((p) => p !== '')
      if (res.code === '2.01' && location.length > 0) {
        this.location = location
        this.sent = { links, lifetime: this.lifetimeS, binding: this.bindingMode }
        this.needRegister = false
        this.needUpdate = this.objectLinks() !== links
        this.retryAttempt = 0
        this.currentState = 'registered'
        this.scheduleUpdate()
        this.emit({ kind: 'registered', location: `/${location.join('/')}`, lwm2mVersion: this.version, objectLinks: links })
        return true
      }
      const diagnostic = res.payload.length > 0 ? `: ${Buffer.from(res.payload).toString('utf8').slice(0, 200)}` : ''
      if (res.code === '4.12') {
        const lower = VERSIONS[VERSIONS.indexOf(this.version) - 1]
        if (lower) {
          this.emit({ kind: 'registrationFailed', operation: 'register', code: res.code, reason: `the server refused LwM2M ${this.version}${diagnostic}; trying ${lower}`, retryInMs: 0 })
          this.version = lower
          return true
        }
      }
      reason = res.code === '2.01' ? 'the server answered 2.01 without a Location-Path' : `the server answered ${res.code}${diagnostic}`
    } catch (e) {
      reason = e instanceof TransportError ? e.message : `Register failed: ${(e as Error).message}`
    }
    if (this.stopped) return false
    const delay = this.backoff()
    this.currentState = 'waiting'
    this.emit({ kind: 'registrationFailed', operation: 'register', reason, ...(code ? { code } : {}), retryInMs: delay })
    this.retryTimer = setTimeout(() => {
      this.needRegister = true
      void this.cycle()
    }, delay)
    this.retryTimer.unref()
    return false
  }

  private backoff(): number {
    const initial = this.opts.retryInitialMs ?? 1000
    const max = this.opts.retryMaxMs ?? 60_000
    const delay = Math.min(max, initial * 2 ** this.retryAttempt)
    this.retryAttempt++
    // Up to 20 % later, so that gateways restarted together do not register in step.
    return Math.round(delay * (1 + Math.random() * 0.2))
  }

  private async update(): Promise<void> {
    this.needUpdate = false
    const links = this.objectLinks()
    const sent = this.sent
    const query: string[] = []
    if (sent?.lifetime !== this.lifetimeS) query.push(`lt=${this.lifetimeS}`)
    if (sent?.binding !== this.bindingMode) query.push(`b=${this.bindingMode}`)
    const objectsChanged = sent?.links !== links
    let reason: string
    let code: string | undefined
    try {
      const res = await this.request({
        method: 'POST',
        path: this.registrationLocation as string,
        ...(query.length > 0 ? { query } : {}),
        ...(objectsChanged ? { contentFormat: ContentFormat.LINK, payload: utf8.encode(links) } : {}),
      })
      code = res.code
      if (res.code === '2.04') {
        this.sent = { links, lifetime: this.lifetimeS, binding: this.bindingMode }
        this.scheduleUpdate()
        this.emit({ kind: 'updated', objectsChanged, lifetime: this.lifetimeS })
        return
      }
      reason = `the server answered ${res.code} to the Update${res.code === '4.04' ? ' (it does not know this registration)' : ''}; registering again`
    } catch (e) {
      reason = `${e instanceof TransportError ? e.message : (e as Error).message}; registering again`
    }
    this.needRegister = true
    this.location = undefined
    this.emit({ kind: 'registrationFailed', operation: 'update', reason, ...(code ? { code } : {}) })
  }

  private scheduleUpdate(): void {
    clearTimeout(this.updateTimer)
    if (this.stopped) return
    const delay = Math.max(500, this.lifetimeS * 1000 * (this.opts.updateAt ?? 0.85))
    this.updateTimer = setTimeout(() => this.requestUpdate(), delay)
    this.updateTimer.unref()
  }

  private onTreeChange(change: TreeChange): void {
    this.observations.onTreeChange(change)
    if (change.kind !== 'structure') return
    if (change.removed) this.attributes.removeUnder(change.path)
    // Many twins coming or going at once make one Update.
    if (this.debounceTimer || this.stopped) return
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined
      if (this.sent && this.objectLinks() !== this.sent.links) this.requestUpdate()
    }, this.opts.updateDebounceMs ?? 100)
    this.debounceTimer.unref()
  }

  // ---- the gateway's API -------------------------------------------------------------------

  /**
   * Adds an object (a model, or the id of one the registry knows) with its instances; models given are
   * registered, so generated ObjectTwin models work like built-in ones. The server hears of it in an Update.
   */
  addObject(model: ObjectModel | number, instances?: InstancesInit, options?: ObjectOptions): void {
    let m: ObjectModel
    if (typeof model === 'number') {
      const known = this.registry.get(model)
      if (!known) throw new Error(`the object registry has no model of object ${model}`)
      m = known
    } else {
      m = model
      this.registry.add(model)
    }
    this.tree.addObject(m, instances, options)
  }

  removeObject(objectId: number): boolean {
    return this.tree.removeObject(objectId)
  }

  /** Sets a plain value (or what a handler-backed resource reports); observations notify as their attributes say. */
  setValue(path: string | Lwm2mPath, value: ResourceContent | readonly Lwm2mValue[]): void {
    this.tree.setValue(typeof path === 'string' ? parsePath(path) : path, value)
  }

  /**
   * A handler-backed resource changed; with a value, notifications report it without calling the handler.
   * False when the resource is gone (a sensor's last notification after its twin was deleted).
   */
  valueChanged(path: string | Lwm2mPath, value?: ResourceContent): boolean {
    const p = typeof path === 'string' ? parsePath(path) : path
    if (pathDepth(p) < 3 || !this.tree.has(resourceOf(p))) return false
    this.tree.valueChanged(p, value)
    return true
  }

  /**
   * High-rate samples of one resource. The last becomes its value; an observation of it (or of its
   * instance or object) in SenML or LwM2M JSON gets them batched into timestamped notifications, at
   * most `stream.batchSize` per notification, within `stream.flushIntervalMs`, never before pmin.
   * Returns how many observations took them (0: nobody observes, or the resource is gone).
   */
  pushSamples(path: string | Lwm2mPath, samples: readonly Sample[] | SampleArrays): number {
    const p = typeof path === 'string' ? parsePath(path) : path
    if (pathDepth(p) < 3) throw new Error(`pushSamples needs a resource path, not ${formatPath(p)}`)
    if (!this.tree.has(resourceOf(p))) return 0
    let times: ArrayLike<number>
    let values: ArrayLike<number> | Lwm2mValue[]
    if (Array.isArray(samples)) {
      const list = samples as readonly Sample[]
      const t = new Float64Array(list.length)
      const v = new Array<Lwm2mValue>(list.length)
      for (let i = 0; i < list.length; i++) {
        t[i] = (list[i] as Sample).time
        v[i] = (list[i] as Sample).value
      }
      times = t
      values = v
    } else {
      times = (samples as SampleArrays).times
      values = (samples as SampleArrays).values
    }
    const n = Math.min(times.length, values.length)
    if (n === 0) return 0
    this.tree.setValue(p, (values as ArrayLike<Lwm2mValue>)[n - 1] as Lwm2mValue, { silent: true })
    return this.observations.pushSamples(p, times, values)
  }

  /**
   * Send (POST /dp, LwM2M 1.1): the current values of the paths, or the records given (with their
   * times), in SenML CBOR unless told otherwise.
   */
  async send(items: readonly (string | Lwm2mPath | Lwm2mRecord)[], options: { format?: number; timeoutMs?: number } = {}): Promise<Result<{ code: string }>> {
    if (!this.location) return fail('not_registered', `${this.endpoint} is not registered`)
    const format = options.format ?? ContentFormat.SENML_CBOR
    if (!SENML.has(format)) return fail('invalid_input', `Send carries SenML CBOR (112) or SenML JSON (110), not ${format}`)
    const records: Lwm2mRecord[] = []
    try {
      for (const item of items) {
        if (typeof item === 'string' || !('value' in item)) records.push(...(await this.tree.read(typeof item === 'string' ? parsePath(item) : item, { preferCache: true })))
        else records.push(item)
      }
    } catch (e) {
      return fail('invalid_input', toOperationError(e).message)
    }
    if (records.length === 0) return fail('invalid_input', 'nothing to send')
    let payload: Uint8Array
    try {
      payload = this.encode(format, {}, records)
    } catch (e) {
      return fail('invalid_input', toOperationError(e).message)
    }
    try {
      const res = await this.request({ method: 'POST', path: '/dp', contentFormat: format, payload, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) })
      return ok({ code: res.code })
    } catch (e) {
      return fail(e instanceof TransportError && e.kind === 'timeout' ? 'timeout' : 'unreachable', (e as Error).message)
    }
  }

  // ---- formats -----------------------------------------------------------------------------

  private defaultFormat(): number {
    return this.opts.defaultFormat ?? (this.version === '1.0' ? ContentFormat.TLV : ContentFormat.SENML_CBOR)
  }

  private defaultPeriods(): { pmin?: number; pmax?: number } {
    const pmin = this.tree.peek({ objectId: 1, instanceId: 0, resourceId: 2 })
    const pmax = this.tree.peek({ objectId: 1, instanceId: 0, resourceId: 3 })
    return { ...(typeof pmin === 'number' ? { pmin } : {}), ...(typeof pmax === 'number' ? { pmax } : {}) }
  }

  /** Encodes an answer; a format that cannot carry it is the server's choice to change (4.06). */
  private encode(format: number, basePath: Lwm2mPath, records: readonly Lwm2mRecord[]): Uint8Array {
    const codec = codecFor(codecFormat(format))
    if (!codec) throw new OperationError('not_acceptable', `content-format ${format} (${mediaType(format)}) is not supported`)
    try {
      return codec.encode(records, { basePath, models: this.tree })
    } catch (e) {
      if (isCodecError(e)) throw new OperationError('not_acceptable', `${mediaType(format)} cannot carry ${formatPath(basePath)}: ${e.reason}`)
      throw e
    }
  }

  private decode(format: number | undefined, basePath: Lwm2mPath, payload: Uint8Array): Lwm2mRecord[] {
    const f = format ?? (pathDepth(basePath) >= 3 ? ContentFormat.TEXT : this.defaultFormat())
    const codec = codecFor(codecFormat(f))
    if (!codec || f === ContentFormat.CBOR) throw new OperationError('unsupported_format', `content-format ${f} (${mediaType(f)}) is not accepted for writes`)
    try {
      return codec.decode(payload, { basePath, models: this.tree })
    } catch (e) {
      throw new OperationError('bad_request', isCodecError(e) ? e.message : `undecodable payload: ${(e as Error).message}`)
    }
  }

  // ---- requests from the server ------------------------------------------------------------

  private handleRequest(req: IncomingRequest, res: Responder): void {
    this.serve(req, res).catch((e: unknown) => {
      const error = toOperationError(e)
      if (error.kind === 'internal') this.log('error', `${req.method} /${req.pathSegments.join('/')} failed: ${error.message}`)
      res.respond(error.code, error.message)
    })
  }

  /** The LwM2M path of a request, below the alternate root; 4.04 for anything else. */
  private requestPath(segments: readonly string[]): Lwm2mPath {
    const root = this.rootPrefix().split('/').filter((s) => s !== '')
    const where = `/${segments.join('/')}`
    if (root.some((s, i) => segments[i] !== s)) throw new OperationError('not_found', `${where} is outside the client's root ${this.rootPrefix()}`)
    const rest = segments.slice(root.length)
    if (rest.length > 4 || rest.some((s) => !/^(0|[1-9][0-9]{0,4})$/.test(s) || Number(s) > MAX_ID)) throw new OperationError('not_found', `${where} is not an LwM2M path`)
    return makePath(rest.map(Number))
  }

  private async serve(req: IncomingRequest, res: Responder): Promise<void> {
    const path = this.requestPath(req.pathSegments)
    const depth = pathDepth(path)
    switch (req.method) {
      case 'GET':
        if (req.accept === ContentFormat.LINK) return this.discover(path, res)
        if (req.observe === 0 && res.observe) return this.observe(req, res, [path], false)
        if (req.observe === 1) this.observations.cancel(req.peer, req.token ?? '')
        return this.read(req, res, path)
      case 'FETCH':
        return this.fetch(req, res)
      case 'iPATCH':
        return this.compositeWrite(req, res)
      case 'PUT':
        if (req.payload.length === 0 && req.contentFormat === undefined && req.query.length > 0) return this.writeAttributes(req, res, path)
        if (depth < 2) throw new OperationError('not_allowed', `Write targets an object instance, resource or resource instance, not ${formatPath(path)}`)
        await this.tree.write(path, this.decode(req.contentFormat, path, req.payload), { replace: true })
        return res.respond('2.04')
      case 'POST':
        return this.post(req, res, path)
      case 'DELETE':
        this.tree.delete(path)
        return res.respond('2.02')
    }
  }

  private async read(req: IncomingRequest, res: Responder, path: Lwm2mPath): Promise<void> {
    const records = await this.tree.read(path)
    const format = req.accept ?? this.defaultFormat()
    res.respond('2.05', this.encode(format, path, records), { contentFormat: format })
  }

  private async observe(req: IncomingRequest, res: Responder, paths: readonly Lwm2mPath[], composite: boolean, requestFormat?: number): Promise<void> {
    const token = req.token ?? ''
    const key = observationKey(req.peer, token)
    // A retransmitted Observe (a slow handler) must not start a second observation.
    if (this.pendingObserves.has(key)) return
    this.pendingObserves.add(key)
    try {
      const records = composite ? await this.readComposite(paths) : await this.tree.read(paths[0] as Lwm2mPath)
      const format = req.accept ?? requestFormat ?? this.defaultFormat()
      const basePath = composite ? {} : (paths[0] as Lwm2mPath)
      const payload = this.encode(format, basePath, records)
      if (!res.observe) return res.respond('2.05', payload, { contentFormat: format })
      const channel = res.observe(payload, { contentFormat: format })
      this.observations.add({ token, peer: req.peer, paths, composite, format, channel, initial: records })
    } finally {
      this.pendingObserves.delete(key)
    }
  }

  private async readComposite(paths: readonly Lwm2mPath[]): Promise<Lwm2mRecord[]> {
    const out: Lwm2mRecord[] = []
    let found = 0
    for (const p of paths) {
      try {
        out.push(...(await this.tree.read(p)))
        found++
      } catch (e) {
        if (!(e instanceof OperationError && e.kind === 'not_found')) throw e
      }
    }
    if (found === 0) throw new OperationError('not_found', `none of ${paths.map(formatPath).join(', ')} exists`)
    return out
  }

  /** The paths of a composite request: a SenML list of names (`[{"n":"/3/0/0"},{"n":"/1/0/1"}]`). */
  private compositePaths(req: IncomingRequest): Lwm2mPath[] {
    if (req.contentFormat === undefined || !SENML.has(req.contentFormat)) {
      throw new OperationError('unsupported_format', `a composite request carries its paths in SenML JSON or CBOR, not content-format ${req.contentFormat ?? 'none'}`)
    }
    const codec = req.contentFormat === ContentFormat.SENML_CBOR ? 'SenML CBOR' : 'SenML JSON'
    try {
      const pack = req.contentFormat === ContentFormat.SENML_CBOR ? parseSenmlCbor(req.payload) : parseSenmlJson(req.payload)
      let bn = ''
      const paths = pack.map((item, i) => {
        const rec = readSenmlRecord(item, i, codec)
        if (rec.bn !== undefined) bn = rec.bn
        return parsePath(bn + (rec.n ?? ''))
      })
      if (paths.length === 0) throw new OperationError('bad_request', 'the composite request names no path')
      return paths
    } catch (e) {
      throw toOperationError(e)
    }
  }

  private async fetch(req: IncomingRequest, res: Responder): Promise<void> {
    const paths = this.compositePaths(req)
    if (req.observe === 0 && res.observe) return this.observe(req, res, paths, true, req.contentFormat)
    if (req.observe === 1) this.observations.cancel(req.peer, req.token ?? '')
    const format = req.accept ?? (req.contentFormat as number)
    res.respond('2.05', this.encode(format, {}, await this.readComposite(paths)), { contentFormat: format })
  }

  /** Write-Composite (iPATCH): each value is written to its own resource or resource instance. */
  private async compositeWrite(req: IncomingRequest, res: Responder): Promise<void> {
    if (req.contentFormat === undefined || !SENML.has(req.contentFormat)) throw new OperationError('unsupported_format', `Write-Composite carries SenML JSON or CBOR, not content-format ${req.contentFormat ?? 'none'}`)
    const records = this.decode(req.contentFormat, {}, req.payload)
    for (const r of records) await this.tree.write(r.path, [r], { replace: true })
    res.respond('2.04')
  }

  private writeAttributes(req: IncomingRequest, res: Responder, path: Lwm2mPath): void {
    let attrs
    try {
      attrs = parseAttributesQuery(req.query)
    } catch (e) {
      throw toOperationError(e)
    }
    if (!this.tree.has(path)) throw new OperationError('not_found', `${formatPath(path)} does not exist`)
    if (path.objectId === 0) throw new OperationError('unauthorized', 'object 0 (LwM2M Security) is not accessible to a server')
    const type = path.objectId !== undefined && path.resourceId !== undefined ? this.tree.resource(path.objectId, path.resourceId)?.type : undefined
    this.attributes.write(path, attrs, type)
    this.observations.onAttributesChanged(path)
    res.respond('2.04')
    this.emit({ kind: 'attributesChanged', path: formatPath(path) })
  }

  private discover(path: Lwm2mPath, res: Responder): void {
    const links: Link[] = this.tree.discover(path).map((entry) => ({
      uri: formatPath(entry.path),
      params: {
        ...(entry.version !== undefined ? { ver: entry.version } : {}),
        ...(entry.dim !== undefined ? { dim: String(entry.dim) } : {}),
        ...this.attributes.linkParams(entry.path),
      },
    }))
    res.respond('2.05', formatLinks(links), { contentFormat: ContentFormat.LINK })
  }

  private async post(req: IncomingRequest, res: Responder, path: Lwm2mPath): Promise<void> {
    const { objectId, instanceId, resourceId } = path
    if (objectId === undefined || path.resourceInstanceId !== undefined) throw new OperationError('not_allowed', `POST is not allowed on ${formatPath(path)}`)
    if (instanceId === undefined) return this.create(req, res, objectId)
    if (resourceId === undefined) {
      if (!this.tree.has(path)) {
        // Create with the instance id in the path, as LwM2M 1.0 servers such as lwm2m-node-lib send it.
        const records = req.payload.length > 0 ? this.decode(req.contentFormat, path, req.payload) : []
        const [created] = this.tree.create(objectId, records, instanceId)
        return res.respond('2.01', undefined, { locationPath: [String(objectId), String(created)] })
      }
      await this.tree.write(path, this.decode(req.contentFormat, path, req.payload), { replace: false })
      return res.respond('2.04')
    }
    const model = this.tree.resource(objectId, resourceId)
    if (model?.operations.includes('E') || req.payload.length === 0 || !model?.multiple) {
      await this.tree.execute(path, req.payload.length > 0 ? utf8Decoder.decode(req.payload) : '')
      return res.respond('2.04')
    }
    // POST on a multiple resource with a payload: its instances are added or replaced (Partial Update).
    await this.tree.write(path, this.decode(req.contentFormat, path, req.payload), { replace: false })
    res.respond('2.04')
  }

  private create(req: IncomingRequest, res: Responder, objectId: number): void {
    const base: Lwm2mPath = { objectId }
    let records = req.payload.length > 0 ? this.decode(req.contentFormat, base, req.payload) : []
    const format = req.contentFormat ?? this.defaultFormat()
    // TLV resources without an object-instance wrapper: the client picks the id (the codec reads them as instance 0).
    const unwrappedTlv = (format === ContentFormat.TLV || format === ContentFormat.LEGACY_TLV) && req.payload.length > 0 && ((req.payload[0] as number) >> 6) !== 0
    if (unwrappedTlv) {
      const free = this.nextInstanceId(objectId)
      records = records.map((r) => ({ ...r, path: makePath([objectId, free, r.path.resourceId as number, ...(r.path.resourceInstanceId !== undefined ? [r.path.resourceInstanceId] : [])]) }))
    }
    const [created] = this.tree.create(objectId, records)
    res.respond('2.01', undefined, { locationPath: [String(objectId), String(created)] })
  }

  private nextInstanceId(objectId: number): number {
    const used = new Set(this.tree.instanceIds(objectId))
    for (let id = 0; id <= MAX_ID; id++) if (!used.has(id)) return id
    throw new OperationError('bad_request', `object ${objectId} has no free instance id`)
  }
}
