import { describeIssues } from '../../shared/api/console-api.ts'
import { join } from 'node:path'
import type { DatabaseSync } from 'node:sqlite'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import { fail, ok, type Result } from '../../shared/api/result.ts'
import type { Attributes, ClientInfo, DmResult, ObjectModelJson, ObservationInfo } from '../../shared/api/schemas.ts'
import { isFormatName, formatNumber } from '../../shared/lwm2m/content-format.ts'
import { ObjectRegistry } from '../../shared/lwm2m/object-registry.ts'
import { recordsFromJson } from '../../shared/lwm2m/payload-json.ts'
import type { Lwm2mRecord } from '../../shared/lwm2m/values.ts'
import { UdpTransport } from '../coap/udp-transport.ts'
import { DtlsTransport } from '../coap/dtls-transport.ts'
import type { DtlsServerOptions, PskLookup } from '../coap/dtls/server.ts'
import { Lwm2mServer } from '../server/lwm2m-server.ts'
import { learnTwinDefinitions } from './twin-definitions.ts'
import { objectModelToJson } from '../../shared/api/model-json.ts'
import { openDatabase } from '../store/database.ts'
import { RegistrationStore } from '../store/registration-store.ts'
import { SettingsStore } from '../store/settings-store.ts'
import type { SensorKind } from '../ble/virtual/sensors/index.ts'
import type { GatewayOptions } from '../gateway/gateway.ts'
import { ConsoleSettings, LocalGatewaySettings, SettingsPatch, type GatewayStatus, type VirtualLinkInput } from '../../shared/api/gateway-schemas.ts'
import { LocalGateway } from './local-gateway.ts'
import { MqttBridge } from '../mqtt/mqtt-bridge.ts'
import { mergeMqttSettings } from '../mqtt/mqtt-settings.ts'
import { MqttSettingsStore } from '../mqtt/mqtt-settings-store.ts'
import { MqttSettings, type MqttConfigureInput, type MqttStatus } from '../../shared/api/mqtt-schemas.ts'
import { HistoryStore, type HistoryOptions, type HistoryQuery, type SamplePage } from '../store/history-store.ts'
import type { HistoryResult, HistorySeries } from '../../shared/api/history-schemas.ts'
import { AdaptiveSamplingController, StoredControlSettings } from '../control/adaptive-sampling.ts'
import type { ConfigureControlInput, ControlSettings, ControlStatus } from '../../shared/api/control-schemas.ts'
import { SetSecurityInput, type DeleteSecurityResult, type SecurityEntry, type SecurityPolicy, type SecurityPolicyInput } from '../../shared/api/security-schemas.ts'
import { FileKeyProtector, MemoryKeyProtector, type KeyProtector } from '../store/key-protector.ts'
// The Electron shell picks the protection of stored keys (safeStorage, or this key file as the fallback).
export { FileKeyProtector, type KeyProtector }
import { SecurityStore } from '../store/security-store.ts'
import type { PskCredentials } from '../coap/dtls-client-transport.ts'
import { securityAccess } from '../server/registration-access.ts'
import { redactEvent, rememberSecret } from '../../shared/security/redact.ts'

export interface ConsoleOptions {
  /** Where the database lives; undefined keeps everything in memory. */
  readonly dataDir?: string
  /** Address the CoAP endpoint binds to (IPv4 or IPv6). */
  readonly coapHost?: string
  /** 0 = any free port. */
  readonly coapPort?: number
  /** The CoAP-over-DTLS (coaps) port, on the same host; default 5684 (any free port when coapPort is 0), 0 = any free port. */
  readonly coapsPort?: number
  /** The key of a PSK identity for DTLS handshakes; default: the security store's device identities. */
  readonly pskFor?: PskLookup
  /** Limits and timers of the DTLS server (tests). */
  readonly dtls?: Partial<Omit<DtlsServerOptions, 'pskFor' | 'log'>>
  readonly requestTimeoutMs?: number
  readonly reobserveOnRegister?: boolean
  /** Most registrations held at once; a Register beyond it gets 5.03. */
  readonly maxClients?: number
  /** Retention and flushing of the value history. */
  readonly history?: HistoryOptions
  /**
   * The local gateway's settings until some are stored (first run; the Electron shell turns the demo on with
   * `{enabled: true, adapter: 'virtual'}`), and the simulated sensors of the virtual radio.
   */
  readonly localGateway?: Partial<LocalGatewaySettings> & {
    readonly virtualSensors?: readonly SensorKind[]
    /** Register the local gateway over DTLS with this PSK (bound to its endpoint in the security store) instead of plain CoAP. */
    readonly psk?: PskCredentials
  }
  /** Run the local gateway on the virtual radio this time, whatever the settings say, without storing that (`serve --demo`). */
  readonly demo?: boolean
  /** Further options of the local gateway (timeouts, link monitor periods; tests). */
  readonly gatewayOptions?: Partial<GatewayOptions>
  /** MQTT bridge settings for this run, over the stored ones and not stored (`serve --mqtt URL` gives `{enabled: true, url}`). */
  readonly mqtt?: Partial<MqttSettings>
  /** Adaptive sampling settings of devices not configured yet (default: on, the paper's 5 s / 0.02 / 5 Hz rule). */
  readonly adaptiveSampling?: Partial<ControlSettings>
  /** Warnings at start, such as damaged stored settings (default: console.warn). */
  readonly onWarning?: (message: string) => void
  /**
   * How PSK keys are encrypted at rest: the desktop app passes Electron's safeStorage; by default a key file only
   * its owner can read in the data directory (`objecttwin.key`), or a per-process key without a data directory.
   */
  readonly keyProtector?: KeyProtector
}

/** The default protection of stored PSK keys (see ConsoleOptions.keyProtector). */
function defaultKeyProtector(dataDir: string | undefined): KeyProtector {
  return dataDir === undefined ? new MemoryKeyProtector() : new FileKeyProtector(join(dataDir, 'objecttwin.key'))
}

export const DEFAULT_LOCAL_GATEWAY: LocalGatewaySettings = { enabled: false, adapter: 'default', endpoint: 'objecttwin-local' }

/** Where the local gateway reaches the console's server: the bound address, or loopback for a wildcard. */
function localServerUri(host: string, ports: { port4?: number; port6?: number }, scheme: 'coap' | 'coaps' = 'coap'): string {
  const { host4, host6 } = endpointsFor(host)
  if (ports.port4 !== undefined) return `${scheme}://${host4 === '0.0.0.0' ? '127.0.0.1' : host4}:${ports.port4}`
  return `${scheme}://[${host6 === undefined || host6 === '::' ? '::1' : host6}]:${ports.port6}`
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
  private dtls!: DtlsTransport
  private readonly db: DatabaseSync
  /** Every observed and sent value, with its time. */
  readonly historyStore: HistoryStore
  private closed = false
  /** Listeners of the console's own events (the local gateway's), besides the server's. */
  private readonly listeners = new Set<(event: ConsoleEvent) => void>()
  private settingsStore!: SettingsStore
  private settings!: ConsoleSettings
  private local!: LocalGateway
  /** Publishes the console's events to an MQTT broker and takes commands from it (off unless its settings turn it on). */
  private mqttBridge!: MqttBridge
  /** The bridge's stored settings, the password encrypted. */
  private mqttSettings!: MqttSettingsStore
  private control!: AdaptiveSamplingController
  /** Device identities (PSK identity and encrypted key, or NoSec, per endpoint) and the NoSec policy. */
  private security!: SecurityStore
  /** The PSK the local gateway registers with over DTLS (ConsoleOptions.localGateway.psk), if any. */
  private localPsk: PskCredentials | undefined

  /** The CoAP port of each address family that is open. */
  readonly coapPorts: { readonly ipv4?: number; readonly ipv6?: number }
  /** The CoAP-over-DTLS port of each address family that is open. */
  coapsPorts: { readonly ipv4?: number; readonly ipv6?: number } = {}

  get coapsPort(): number {
    return this.coapsPorts.ipv4 ?? this.coapsPorts.ipv6 ?? 0
  }

  /** DTLS sessions and handshakes (counts only). */
  dtlsStats(): ReturnType<DtlsTransport['stats']> {
    return this.dtls.stats()
  }

  private constructor(server: Lwm2mServer, registry: ObjectRegistry, transport: UdpTransport, db: DatabaseSync, ports: { port4?: number; port6?: number }, history: HistoryStore) {
    this.server = server
    this.historyStore = history
    server.onEvent((e) => {
      if (e.kind === 'notification' || e.kind === 'send') history.appendRecords(e.endpoint, e.records, e.time)
    })
    this.registry = registry
    this.transport = transport
    this.db = db
    this.coapPort = ports.port4 ?? ports.port6 ?? 0
    this.coapPorts = { ...(ports.port4 !== undefined ? { ipv4: ports.port4 } : {}), ...(ports.port6 !== undefined ? { ipv6: ports.port6 } : {}) }
  }

  static async create(options: ConsoleOptions = {}): Promise<ConsoleService> {
    const db = openDatabase(options.dataDir ? join(options.dataDir, 'objecttwin.db') : ':memory:')
    // Before the transports: the DTLS server asks it for the key of each PSK identity.
    const security = new SecurityStore(db, options.keyProtector ?? defaultKeyProtector(options.dataDir), options.onWarning ?? ((message) => console.warn(message)))
    const host = options.coapHost ?? '127.0.0.1'
    const transport = new UdpTransport({ ...endpointsFor(host), port: options.coapPort ?? 5683 })
    let ports: { port4?: number; port6?: number }
    try {
      ports = await transport.listen()
    } catch (e) {
      db.close()
      throw new Error(`cannot open the CoAP port ${host}:${options.coapPort ?? 5683}: ${(e as Error).message}`, { cause: e })
    }
    // The transports and the server call back into the service, which exists only once they do.
    const created: { service?: ConsoleService } = {}
    const coapsPort = options.coapsPort ?? (options.coapPort === 0 ? 0 : 5684)
    const dtls = new DtlsTransport({
      ...endpointsFor(host),
      port: coapsPort,
      identityHint: 'objecttwin',
      ...options.dtls,
      pskFor: options.pskFor ?? ((identity) => security.keyForIdentity(identity)?.key),
      log: (level, message) => created.service?.emitEvent({ kind: 'log', time: Date.now(), level, message }),
    })
    let securePorts: { port4?: number; port6?: number }
    try {
      securePorts = await dtls.listen()
    } catch (e) {
      await transport.close()
      db.close()
      throw new Error(`cannot open the CoAP/DTLS port ${host}:${coapsPort}: ${(e as Error).message}`, { cause: e })
    }
    const registry = ObjectRegistry.withBuiltins()
    // The console's own local gateway speaks plain CoAP on loopback: it is let in whatever the NoSec policy says.
    const trusted = (endpoint: string, session: { peer: { address: string; port: number } }): boolean => created.service?.localGateway.isOwnSession(endpoint, session.peer) === true
    const server = new Lwm2mServer({
      transports: [transport, dtls],
      registry,
      store: new RegistrationStore(db),
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      ...(options.reobserveOnRegister !== undefined ? { reobserveOnRegister: options.reobserveOnRegister } : {}),
      ...(options.maxClients !== undefined ? { maxClients: options.maxClients } : {}),
      // ObjectTwin gateways publish their twins' definitions: reads and notifications get names and types.
      learnModels: learnTwinDefinitions,
      access: securityAccess(security, { trusted }),
    })
    await server.start()
    const service = (created.service = new ConsoleService(server, registry, transport, db, ports, new HistoryStore(db, { onError: options.onWarning ?? ((message) => console.warn(message)), ...options.history })))
    service.security = security
    service.dtls = dtls
    service.coapsPorts = { ...(securePorts.port4 !== undefined ? { ipv4: securePorts.port4 } : {}), ...(securePorts.port6 !== undefined ? { ipv6: securePorts.port6 } : {}) }
    service.setUpLocalGateway(options, options.localGateway?.psk ? localServerUri(host, securePorts, 'coaps') : localServerUri(host, ports))
    service.setUpMqtt(options)
    service.setUpControl(options)
    return service
  }

  /** The adaptive sampling control of every registered gateway's ECG twins, its per-device settings stored. */
  private setUpControl(options: ConsoleOptions): void {
    const server = this.server
    this.control = new AdaptiveSamplingController({
      onEvent: (listener) => this.onEvent(listener),
      listClients: () => server.listClients(),
      getClient: (endpoint) => server.getClient(endpoint),
      models: (endpoint) => server.clientModels(endpoint),
      read: (endpoint, path) => server.read(endpoint, path),
      write: (endpoint, path, value) => this.write(endpoint, path, { value }),
      observe: (endpoint, path, attributes) => this.observe(endpoint, [path], { attributes }),
      hasObservation: (endpoint, id) => server.listObservations(endpoint).some((o) => o.id === id),
      cancelObservation: async (id, active) => void (await server.cancelObservationById(id, { passive: !active })),
      emit: (event) => this.emitEvent(event),
      loadSettings: () => this.settingsStore.read('adaptiveSampling', StoredControlSettings),
      saveSettings: (all) => this.settingsStore.write('adaptiveSampling', all),
    }, { ...(options.adaptiveSampling ? { defaults: options.adaptiveSampling } : {}) })
    this.control.start()
  }

  /** The adaptive sampling control of one device: its settings and its ECG twins under control. */
  getControl(endpoint: string): ControlStatus {
    return this.control.status(endpoint)
  }

  /** Change a device's adaptive sampling settings (stored; its running control follows at once). */
  configureControl(input: ConfigureControlInput): Result<ControlStatus> {
    return this.control.configure(input)
  }

  /** Settings from the store (or the defaults), and the local gateway started from them in the background. */
  /** The console's own BLE gateway, registered to its server (off unless the settings or `demo` turn it on). */
  get localGateway(): LocalGateway {
    return this.local
  }

  private setUpLocalGateway(options: ConsoleOptions, serverUri: string): void {
    this.settingsStore = new SettingsStore(this.db, options.onWarning ?? ((message) => console.warn(message)))
    const { virtualSensors, psk, ...defaults } = options.localGateway ?? {}
    const stored = this.settingsStore.read('localGateway', LocalGatewaySettings)
    const chosen = stored ?? LocalGatewaySettings.parse({ ...DEFAULT_LOCAL_GATEWAY, ...defaults })
    this.settings = { localGateway: options.demo ? { ...chosen, enabled: true, adapter: 'virtual' } : chosen }
    this.localPsk = psk
    this.bindLocalGatewayPsk(this.settings.localGateway.endpoint)
    this.local = new LocalGateway(this.settings.localGateway, {
      serverUri,
      ...(psk ? { psk } : {}),
      ...(options.dataDir !== undefined ? { dataDir: join(options.dataDir, 'local-gateway') } : {}),
      ...(virtualSensors ? { virtualSensors } : {}),
      ...(options.gatewayOptions ? { gateway: options.gatewayOptions } : {}),
      emit: (event) => this.emitEvent(event),
    })
    void this.local.apply(this.settings.localGateway)
  }

  /**
   * The local gateway's PSK (when it registers over DTLS) belongs to its current endpoint: bound there, and moved
   * along when the endpoint is renamed in the settings.
   */
  private bindLocalGatewayPsk(endpoint: string): void {
    const psk = this.localPsk
    if (!psk) return
    rememberSecret(Buffer.from(psk.key).toString('hex'))
    // Straight to the store, not through enforceSecurity: the same key moves along, and the gateway restarts under its new name.
    const owner = this.security.endpointOfIdentity(psk.identity)
    if (owner !== undefined && owner !== endpoint) this.security.delete(owner)
    const bound = this.security.setPsk(endpoint, psk.identity, psk.key)
    if (!bound.ok) this.emitEvent({ kind: 'log', time: Date.now(), level: 'warn', message: `local gateway: ${bound.error.message}` })
  }

  /** The MQTT bridge with the stored settings (first run: the defaults, stored so the client id stays), started if they enable it. */
  private setUpMqtt(options: ConsoleOptions): void {
    const warn = options.onWarning ?? ((message: string) => console.warn(message))
    // The password is sealed by the same protector as the device keys.
    this.mqttSettings = new MqttSettingsStore(this.settingsStore, this.security.protector, warn)
    let settings = this.mqttSettings.load()
    if (options.mqtt) {
      const override = MqttSettings.safeParse({ ...settings, ...options.mqtt })
      if (override.success) settings = override.data
      else warn(`mqtt: the given settings are invalid (${describeIssues(override.error)}); using the stored ones`)
    }
    this.mqttBridge = new MqttBridge(settings, { console: this })
    void this.mqttBridge.apply(settings, this.unusableMqtt(settings))
  }

  /** Settings without a password, while the stored one does not decrypt, cannot be used: the bridge says why. */
  private unusableMqtt(settings: MqttSettings): string | undefined {
    return settings.password === undefined ? this.mqttSettings.passwordError : undefined
  }

  /** Connection state, counters and settings of the MQTT bridge (never the password). */
  mqttStatus(): MqttStatus {
    return this.mqttBridge.status()
  }

  /** Change the bridge's settings: stored, then the bridge reconnects with them (or stops, when they disable it). */
  async configureMqtt(input: MqttConfigureInput): Promise<Result<MqttStatus>> {
    const next = mergeMqttSettings(this.mqttBridge.settings, input)
    if (!next.ok) return next
    // A stored password that does not decrypt is kept unless this change gives a new one or removes it.
    const saved = this.mqttSettings.save(next.value, { keepUnreadable: input.password === undefined })
    if (!saved.ok) return saved
    await this.mqttBridge.apply(next.value, this.unusableMqtt(next.value))
    return ok(this.mqttBridge.status())
  }

  private emitEvent(event: ConsoleEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // A faulty listener must not break the console.
      }
    }
  }

  /** Idempotent: a second close (e.g. a second SIGINT) is a no-op. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.control.close()
    // The gateway de-registers while the server still answers.
    await this.localGateway.close()
    // After the gateway, so that its de-registration reaches the broker too.
    await this.mqttBridge.close()
    await this.server.stop()
    await this.transport.close()
    await this.dtls.close()
    this.historyStore.close()
    this.db.close()
  }

  /** Every event of the server and the console; log lines with secrets (keys, tokens, passwords) redacted. */
  onEvent(listener: (event: ConsoleEvent) => void): () => void {
    const redacted = (event: ConsoleEvent): void => listener(redactEvent(event))
    const off = this.server.onEvent(redacted)
    this.listeners.add(redacted)
    return () => {
      off()
      this.listeners.delete(redacted)
    }
  }

  /** The local gateway: adapter, scan results, connected sensors with their twins, the virtual radio's sensors. */
  gatewayStatus(): GatewayStatus {
    return this.localGateway.status()
  }

  /** Scan for `seconds` (default 10); 0 ends the scan. */
  gatewayScan(seconds?: number): Result<GatewayStatus> {
    return this.localGateway.scan(seconds)
  }

  async gatewayConnect(address: string): Promise<Result<GatewayStatus>> {
    return this.localGateway.connect(address)
  }

  async gatewayDisconnect(address: string): Promise<Result<GatewayStatus>> {
    return this.localGateway.disconnect(address)
  }

  /** Degrade or restore a simulated sensor's link (virtual radio only). */
  setVirtualLink(input: VirtualLinkInput): Result<GatewayStatus> {
    return this.localGateway.setVirtualLink(input)
  }

  getSettings(): ConsoleSettings {
    return this.settings
  }

  /** Store the changed settings; a changed local gateway is restarted with them (the old one de-registers first). */
  async updateSettings(patch: SettingsPatch): Promise<Result<ConsoleSettings>> {
    const parsed = SettingsPatch.safeParse(patch)
    if (!parsed.success) return fail('invalid_input', describeIssues(parsed.error))
    const given = Object.fromEntries(Object.entries(parsed.data.localGateway ?? {}).filter(([, v]) => v !== undefined))
    const previous = this.settings.localGateway
    const next = ConsoleSettings.parse({ localGateway: { ...previous, ...given } })
    this.settingsStore.write('localGateway', next.localGateway)
    this.settings = next
    if (next.localGateway.endpoint !== previous.endpoint) this.bindLocalGatewayPsk(next.localGateway.endpoint)
    if (JSON.stringify(next.localGateway) !== JSON.stringify(previous)) await this.localGateway.apply(next.localGateway)
    return ok(next)
  }

  // ---- device identities -----------------------------------------------------------------------------------------

  /** Every endpoint's security entry: identity and mode, never a key. */
  listSecurity(): SecurityEntry[] {
    return this.security.list()
  }

  /** Bind a PSK identity and key (hex) to an endpoint, or allow it as NoSec; replaces what it had. */
  setSecurity(input: SetSecurityInput): Result<SecurityEntry> {
    const parsed = SetSecurityInput.safeParse(input)
    if (!parsed.success) return fail('invalid_input', describeIssues(parsed.error))
    const { endpoint, identity, key } = parsed.data
    rememberSecret(key)
    const before = this.pskOf(endpoint)
    const result = identity !== undefined && key !== undefined ? this.security.setPsk(endpoint, identity, Buffer.from(key, 'hex')) : ok(this.security.setNoSec(endpoint))
    if (!result.ok) return result
    this.emitEvent({ kind: 'log', time: Date.now(), level: 'info', message: result.value.mode === 'psk' ? `security: ${endpoint} bound to PSK identity "${identity ?? ''}"` : `security: ${endpoint} allowed to register without DTLS (NoSec)` })
    this.enforceSecurity(endpoint, before)
    return result
  }

  deleteSecurity(endpoint: string): Result<DeleteSecurityResult> {
    const before = this.pskOf(endpoint)
    if (!this.security.delete(endpoint)) return fail('not_found', `no security entry for endpoint ${endpoint}`)
    this.emitEvent({ kind: 'log', time: Date.now(), level: 'info', message: `security: the entry of ${endpoint} was removed` })
    this.enforceSecurity(endpoint, before)
    return ok({ endpoint })
  }

  /** An endpoint's PSK identity and key as stored now (the key undefined when it cannot be decrypted). */
  private pskOf(endpoint: string): { identity: string; key: Uint8Array | undefined } | undefined {
    const identity = this.security.get(endpoint)?.identity
    return identity === undefined ? undefined : { identity, key: this.security.keyForIdentity(identity)?.key }
  }

  /**
   * Applies a change of the device identities at once, not at each device's next Update or handshake: when the
   * endpoint's PSK (`before`) no longer holds, its DTLS sessions get close_notify; registrations the rules no longer
   * allow are removed (deregistered). Removed rather than left until their next Update: until then the console
   * would go on listing, reading and observing a device through credentials it has revoked.
   */
  private enforceSecurity(endpoint?: string, before?: { identity: string; key: Uint8Array | undefined }): void {
    const now = endpoint === undefined ? undefined : this.pskOf(endpoint)
    const kept = before !== undefined && now?.identity === before.identity && now.key !== undefined && before.key !== undefined && Buffer.from(now.key).equals(before.key)
    const revoked = before !== undefined && !kept ? before.identity : undefined
    if (revoked !== undefined) this.dtls.closeSessions(revoked, `the key of PSK identity "${revoked}" was revoked`)
    this.server.removeRevoked(revoked)
  }

  getSecurityPolicy(): SecurityPolicy {
    return { ...this.security.policy(), keyStorage: this.security.protector.description }
  }

  setSecurityPolicy(input: SecurityPolicyInput): SecurityPolicy {
    this.security.setPolicy({ refuseNoSec: input.refuseNoSec })
    this.emitEvent({ kind: 'log', time: Date.now(), level: 'info', message: `security: NoSec registrations are ${input.refuseNoSec ? 'refused' : 'allowed'}` })
    this.enforceSecurity()
    return this.getSecurityPolicy()
  }

  /** The key of a PSK identity, for the DTLS handshake; undefined for an identity no endpoint has. */
  pskFor(identity: string): Uint8Array | undefined {
    return this.security.keyForIdentity(identity)?.key
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

  /** The models of a client's registered objects: built-in ones and those its gateway published. */
  async clientModels(endpoint: string): Promise<Result<ObjectModelJson[]>> {
    const models = await this.server.clientModels(endpoint)
    return models ? ok(models.map(objectModelToJson)) : fail('not_found', `no client named ${endpoint} is registered`)
  }

  listObservations(endpoint?: string): ObservationInfo[] {
    return this.server.listObservations(endpoint)
  }

  /** Stored values of one resource in [from, to] (ms), min/max-decimated to at most `maxPoints`. */
  history(endpoint: string, path: string, query: HistoryQuery = {}): Result<HistoryResult> {
    return this.historyStore.query(endpoint, path, query)
  }

  /** Every stored sample of one resource in [from, to], in time order, a page at a time (the CSV export). */
  historySamples(endpoint: string, path: string, range: Pick<HistoryQuery, 'from' | 'to'> = {}): Result<Iterable<SamplePage>> {
    const checked = this.historyStore.checkRange(endpoint, path, range)
    return checked.ok ? ok(this.historyStore.samples(endpoint, checked.value.path, checked.value.from, checked.value.to)) : checked
  }

  /** The resources with stored values, of one endpoint or of all (clients gone included). */
  historySeries(endpoint?: string): HistorySeries[] {
    return this.historyStore.series(endpoint)
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
    if (!dm.ok) return dm
    const result = await this.server.observe(endpoint, paths, { ...dm.value, ...(options.attributes ? { attributes: options.attributes } : {}) })
    // The first answer is the first observed value: history starts with it.
    if (result.ok && result.value.success && result.value.records) this.historyStore.appendRecords(endpoint, result.value.records, Date.now())
    return result
  }

  async cancelObservation(endpoint: string, path?: string, options: { passive?: boolean } = {}): Promise<Result<{ cancelled: number }>> {
    return this.server.cancelObservation(endpoint, path, options)
  }
}
