import { EventEmitter } from 'node:events'
import { BleError } from './ble-error.ts'
import { DEFAULT_RECONNECT, backoffDelay } from './backoff.ts'
import type { ReconnectPolicy } from './backoff.ts'
import { disconnectReasonText } from './hci-reasons.ts'
import type { NobleFactory } from './noble-factory.ts'
import { normalizeUuid } from '../../../shared/ble/uuid.ts'
import { decodePresentationFormat } from '../../../shared/ble/presentation-format.ts'
import type { PresentationFormat } from '../../../shared/ble/presentation-format.ts'
import { PRESENTATION_FORMAT_UUID, USER_DESCRIPTION_UUID } from '../../../shared/ble/uuids.ts'

/**
 * The BLE central over noble (DESIGN.md, issue 4): a typed async API with a timeout on every GATT operation,
 * operations serialised per device (ATT allows one request at a time, and noble's callbacks clobber each other
 * otherwise), disconnects reported with their reason, opt-in reconnect with exponential backoff, several devices at
 * once. noble is obtained lazily from a factory, so a real adapter, a UART controller and the virtual radio run the
 * same code, and an absent adapter is a state ("unavailable: no adapter"), never a crash.
 */

// ---- noble, as far as we use it (structural: the real objects are untyped CommonJS) -----------------------------

type Listener = (...args: never[]) => void

interface Emitter {
  on(event: string, listener: Listener): unknown
  once(event: string, listener: Listener): unknown
  removeListener(event: string, listener: Listener): unknown
}

interface NobleLike extends Emitter {
  readonly state: string
  startScanning(serviceUuids: string[], allowDuplicates: boolean, callback: (error?: Error | null) => void): void
  stopScanning(callback: (error?: Error | null) => void): void
  connect(id: string, options: object, callback: (error: Error | null | undefined, peripheral: PeripheralLike | undefined) => void): void
  cancelConnect(id: string, options?: object): void
  stop(): void
  removeAllListeners?(event?: string): unknown
  _bindings?: unknown
}

interface PeripheralLike extends Emitter {
  readonly id: string
  readonly address: string
  readonly addressType: string
  readonly connectable?: boolean
  readonly advertisement: {
    localName?: string
    serviceUuids?: string[]
    manufacturerData?: Buffer
    txPowerLevel?: number
    serviceData?: Array<{ uuid: string; data: Buffer }>
  }
  readonly rssi: number
  readonly mtu: number | null
  readonly state: string
  disconnect(callback?: () => void): void
  updateRssi(callback: (error: Error | null | undefined, rssi: number) => void): void
  discoverServices(uuids: string[], callback: (error: Error | null | undefined, services: ServiceLike[]) => void): void
}

interface ServiceLike extends Emitter {
  readonly uuid: string
  readonly name: string | null
  discoverCharacteristics(uuids: string[], callback: (error: Error | null | undefined, characteristics: CharacteristicLike[]) => void): void
}

interface CharacteristicLike extends Emitter {
  readonly uuid: string
  readonly name: string | null
  readonly properties: string[]
  read(callback: (error: Error | null | undefined, data: Buffer) => void): void
  write(data: Buffer, withoutResponse: boolean, callback: (error: Error | null | undefined) => void): void
  subscribe(callback: (error: Error | null | undefined) => void): void
  unsubscribe(callback: (error: Error | null | undefined) => void): void
  discoverDescriptors(callback: (error: Error | null | undefined, descriptors: DescriptorLike[]) => void): void
}

interface DescriptorLike {
  readonly uuid: string
  readonly name: string | null
  readValue(callback: (error: Error | null | undefined, data: Buffer) => void): void
  writeValue(data: Buffer, callback: (error: Error | null | undefined) => void): void
}

/** noble's HCI bindings internals we peek at (guarded: other bindings simply lack them). */
interface HciBindingsInternals {
  _gatts?: Record<string, {
    _aclStream?: Emitter & { prependListener?(event: string, listener: Listener): unknown }
    _descriptors?: Record<string, Record<string, Record<string, { handle?: number }>>>
  }>
}

// ---- public types -------------------------------------------------------------------------------------------------

/**
 * Adapter state as a clear string: "poweredOn", "poweredOff…", "unauthorized: needs cap_net_raw …",
 * "unavailable: no adapter", "unsupported…", "unknown", "resetting", "closed".
 */
export type BleAdapterState = string

export interface ScanOptions {
  /** Only devices advertising one of these services (any UUID spelling). */
  services?: string[]
  /** Report every advertisement (RSSI updates), not only the first per device. */
  allowDuplicates?: boolean
  /** Only devices whose name contains this string (case-insensitive) or matches this pattern. */
  nameFilter?: string | RegExp
}

export interface DiscoveredDevice {
  /** noble's peripheral id: the address without colons, lowercase. */
  id: string
  address: string
  addressType: string
  name: string | undefined
  rssi: number
  connectable: boolean
  serviceUuids: string[]
  manufacturerData: Buffer | undefined
  txPowerLevel: number | undefined
  lastSeen: number
}

export interface ConnectOptions {
  /** Connection attempt timeout, ms (default: the adapter's connectTimeoutMs). */
  timeoutMs?: number
  /** Reconnect after an unexpected disconnect: true for the default policy, or a policy. */
  reconnect?: boolean | ReconnectPolicy
}

export interface ConnectedDevice {
  id: string
  address: string
  name: string | undefined
  mtu: number | null
}

export interface GattDescriptor {
  uuid: string
  name: string | undefined
  handle: number | undefined
}

export interface GattCharacteristic {
  uuid: string
  name: string | undefined
  /** noble's names: read, write, writeWithoutResponse, notify, indicate, broadcast, … */
  properties: string[]
  /** Handle of the declaration and of the value (noble's HCI bindings report them). */
  declarationHandle: number | undefined
  valueHandle: number | undefined
  descriptors: GattDescriptor[]
  /** 0x2901, when present and readable. */
  userDescription: string | undefined
  /** 0x2904, when present and well-formed. */
  presentationFormat: PresentationFormat | undefined
}

export interface GattService {
  uuid: string
  name: string | undefined
  startHandle: number | undefined
  endHandle: number | undefined
  characteristics: GattCharacteristic[]
}

export interface GattTree {
  id: string
  services: GattService[]
  /** Descriptors that could not be read (the tree is still complete). */
  problems: string[]
}

export interface DisconnectEvent {
  id: string
  /** HCI status (0x08 supervision timeout, 0x13 remote terminated, 0x16 local host…) or noble's string. */
  reason: number | string
  reasonText: string
  /** What made us end the link, when we did: a disconnect() call, a GATT timeout, a reconnect() call, close(). */
  cause: 'user' | 'gatt-timeout' | 'reconnect' | 'close' | undefined
  willReconnect: boolean
}

export interface Subscription {
  unsubscribe(): Promise<void>
}

export interface BleAdapterEvents {
  state: (state: BleAdapterState) => void
  scanStart: () => void
  scanStop: () => void
  discover: (device: DiscoveredDevice) => void
  connect: (device: ConnectedDevice) => void
  disconnect: (event: DisconnectEvent) => void
  reconnecting: (event: { id: string; attempt: number; delayMs: number }) => void
  reconnected: (event: { id: string; attempts: number }) => void
  reconnectFailed: (event: { id: string; attempts: number; error: BleError }) => void
  rssi: (event: { id: string; rssi: number }) => void
  warning: (message: string) => void
}

export interface BleAdapterOptions {
  noble: NobleFactory
  /** Timeout of each GATT request, ms (default 5000). */
  gattTimeoutMs?: number
  /** Timeout of a connection attempt, ms (default 10 000). */
  connectTimeoutMs?: number
  /** How long to wait for the link to go down after a disconnect request, ms (default 3000). */
  disconnectTimeoutMs?: number
  /** How long to wait for the adapter's first state, ms (default 5000). */
  stateTimeoutMs?: number
  /**
   * After a first state other than poweredOn, how long init() still waits for poweredOn, ms (default 1500): noble
   * reports poweredOff while a UART controller is being reset, and flaps between states without an adapter.
   */
  stateSettleMs?: number
  /** End the link when a GATT request times out (ATT: a timed-out bearer is unusable). Default true. */
  disconnectOnTimeout?: boolean
  /** Random source for the backoff jitter. */
  random?: () => number
}

// ---- internals ----------------------------------------------------------------------------------------------------

type StepKind = 'read' | 'write' | 'subscribe' | 'descriptor' | 'discovery' | 'rssi'

/** ATT request opcodes whose error response fails a step of this kind. */
const FATAL_ATT_REQUESTS: Record<StepKind, readonly number[]> = {
  read: [0x0a, 0x0c],
  write: [0x12, 0x16, 0x18],
  subscribe: [0x08, 0x12],
  descriptor: [0x0a, 0x0c, 0x12],
  // Read By Type and Read By Group Type, but for Attribute Not Found: how discovery ends (see the tap). Find
  // Information is left out: servers answer an empty handle range variously.
  discovery: [0x08, 0x10],
  rssi: [],
}

const ATT_ATTRIBUTE_NOT_FOUND = 0x0a

interface Step {
  kind: StepKind
  what: string
  fail(error: BleError): void
}

interface CharEntry {
  service: string
  char: CharacteristicLike
  declarationHandle: number | undefined
  valueHandle: number | undefined
  descriptors: Map<string, DescriptorLike> | undefined
}

interface SubEntry {
  listener: (data: Buffer) => void
  handler: ((data: Buffer, isNotification: boolean) => void) | undefined
  char: CharacteristicLike | undefined
}

interface Link {
  id: string
  peripheral: PeripheralLike | undefined
  state: 'connecting' | 'connected' | 'disconnecting' | 'disconnected'
  chain: Promise<unknown>
  current: Step | undefined
  services: Map<string, { service: ServiceLike; startHandle: number | undefined; endHandle: number | undefined }>
  chars: Map<string, CharEntry>
  discovered: boolean
  subs: Map<string, SubEntry>
  reconnect: Required<ReconnectPolicy> | undefined
  reconnectTimer: ReturnType<typeof setTimeout> | undefined
  reconnecting: boolean
  /** Reconnect attempts since the link was last fully restored. */
  attempts: number
  cause: DisconnectEvent['cause']
  detach: (() => void) | undefined
  connecting: Promise<ConnectedDevice> | undefined
  disconnectWaiters: Array<(e: DisconnectEvent) => void>
}

const key = (service: string, char: string): string => `${normalizeUuid(service)}/${normalizeUuid(char)}`

export function toDeviceId(idOrAddress: string): string {
  const id = idOrAddress.trim().toLowerCase().replace(/[:-]/g, '')
  if (!/^[0-9a-f]+$/.test(id)) throw new BleError('invalid', `'${idOrAddress}' is neither a device id nor an address`)
  return id
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e))
}

export class BleAdapter {
  private readonly factory: NobleFactory
  private readonly gattTimeoutMs: number
  private readonly connectTimeoutMs: number
  private readonly disconnectTimeoutMs: number
  private readonly stateTimeoutMs: number
  private readonly stateSettleMs: number
  private readonly disconnectOnTimeout: boolean
  private readonly random: () => number
  private readonly events = new EventEmitter()
  private noble: NobleLike | undefined
  private initPromise: Promise<BleAdapterState> | undefined
  private currentState: BleAdapterState = 'unknown'
  private nobleState = 'unknown'
  private readonly nobleListeners: Array<[string, Listener]> = []
  private readonly links = new Map<string, Link>()
  private readonly seen = new Map<string, DiscoveredDevice>()
  private scanWanted: ScanOptions | undefined
  private scanning = false
  private closed = false

  constructor(options: BleAdapterOptions) {
    this.factory = options.noble
    this.gattTimeoutMs = options.gattTimeoutMs ?? 5000
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000
    this.disconnectTimeoutMs = options.disconnectTimeoutMs ?? 3000
    this.stateTimeoutMs = options.stateTimeoutMs ?? 5000
    this.stateSettleMs = options.stateSettleMs ?? 1500
    this.disconnectOnTimeout = options.disconnectOnTimeout ?? true
    this.random = options.random ?? Math.random
    // Listeners are per device and per test; many are normal.
    this.events.setMaxListeners(0)
  }

  // ---- events -----------------------------------------------------------------------------------------------------

  /** Subscribe to an event; returns the function that unsubscribes. */
  on<E extends keyof BleAdapterEvents>(event: E, listener: BleAdapterEvents[E]): () => void {
    this.events.on(event, listener)
    return () => this.events.off(event, listener)
  }

  once<E extends keyof BleAdapterEvents>(event: E, listener: BleAdapterEvents[E]): () => void {
    this.events.once(event, listener)
    return () => this.events.off(event, listener)
  }

  private emit<E extends keyof BleAdapterEvents>(event: E, ...args: Parameters<BleAdapterEvents[E]>): void {
    try {
      this.events.emit(event, ...args)
    } catch (e) {
      // A throwing listener must not break the adapter's own bookkeeping.
      if (event !== 'warning') this.emit('warning', `listener of '${event}' threw: ${asError(e).message}`)
    }
  }

  // ---- state ------------------------------------------------------------------------------------------------------

  get state(): BleAdapterState {
    return this.currentState
  }

  /** Load noble (once) and wait for the adapter's first state. Never throws: failures become the state. */
  init(): Promise<BleAdapterState> {
    if (this.closed) return Promise.resolve(this.currentState)
    this.initPromise ??= this.doInit()
    return this.initPromise
  }

  private async doInit(): Promise<BleAdapterState> {
    let noble: NobleLike
    try {
      const n: unknown = await this.factory()
      if (n === null || typeof n !== 'object' || typeof (n as NobleLike).startScanning !== 'function' || typeof (n as NobleLike).on !== 'function') {
        throw new Error('the noble factory did not return a noble instance')
      }
      noble = n as NobleLike
    } catch (e) {
      this.setState(`unavailable: noble could not be loaded (${asError(e).message})`)
      return this.currentState
    }
    if (this.closed) {
      this.safeStop(noble)
      return this.currentState
    }
    this.noble = noble
    try {
      // Reading `state` before anyone listens to 'stateChange' initialises noble's bindings synchronously, inside
      // this try: a driver that throws while opening the adapter becomes a state, not an exception on a later tick.
      const initial = noble.state
      if (initial !== 'unknown') this.onNobleState(initial)
    } catch (e) {
      this.setState(`unavailable: ${this.label()}could not be opened (${asError(e).message})`)
      return this.currentState
    }
    const first = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.stateTimeoutMs)
      timer.unref()
      this.onNoble('stateChange', (state: string) => {
        clearTimeout(timer)
        this.onNobleState(state)
        resolve()
      })
    })
    this.onNoble('scanStart', () => {
      this.scanning = true
      this.emit('scanStart')
    })
    this.onNoble('scanStop', () => {
      this.scanning = false
      this.emit('scanStop')
    })
    this.onNoble('discover', (p: PeripheralLike) => this.onDiscover(p))
    this.onNoble('warning', (message: string) => this.emit('warning', `noble: ${message}`))
    if (this.nobleState === 'unknown') await first
    if (this.nobleState === 'unknown') this.setState(`unknown: ${this.label()}did not report a state within ${this.stateTimeoutMs} ms`)
    else if (this.nobleState !== 'poweredOn') await this.poweredOnWithin(this.stateSettleMs)
    return this.currentState
  }

  private label(): string {
    return this.factory.label ? `${this.factory.label} ` : ''
  }

  private onNoble(event: string, listener: Listener): void {
    this.noble?.on(event, listener)
    this.nobleListeners.push([event, listener])
  }

  private onNobleState(state: string): void {
    this.nobleState = state
    const explained = this.factory.explainState?.(state)
    this.setState(explained ?? state)
    if (state !== 'poweredOn') this.scanning = false
  }

  private setState(state: BleAdapterState): void {
    if (state === this.currentState) return
    this.currentState = state
    this.emit('state', state)
  }

  /** Resolve true as soon as noble is poweredOn, false after timeoutMs. */
  private poweredOnWithin(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off()
        resolve(false)
      }, timeoutMs)
      const off = this.on('state', () => {
        if (this.nobleState !== 'poweredOn') return
        clearTimeout(timer)
        off()
        resolve(true)
      })
    })
  }

  /** Resolve when the adapter is poweredOn; reject with 'unavailable' (naming the state) after timeoutMs. */
  async waitForPoweredOn(timeoutMs = this.stateTimeoutMs): Promise<void> {
    await this.init()
    if (this.nobleState === 'poweredOn') return
    this.assertOpen()
    if (!(await this.poweredOnWithin(timeoutMs))) {
      throw new BleError('unavailable', `adapter not powered on within ${timeoutMs} ms: ${this.currentState}`)
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new BleError('closed', 'the BLE adapter was closed')
  }

  private async ready(): Promise<NobleLike> {
    this.assertOpen()
    await this.init()
    this.assertOpen()
    const noble = this.noble
    if (noble === undefined || this.nobleState !== 'poweredOn') throw new BleError('unavailable', `BLE adapter not usable: ${this.currentState}`)
    return noble
  }

  // ---- scanning ---------------------------------------------------------------------------------------------------

  async startScan(options: ScanOptions = {}): Promise<void> {
    const noble = await this.ready()
    this.scanWanted = { ...options }
    await this.nobleStartScan(noble)
  }

  private nobleStartScan(noble: NobleLike): Promise<void> {
    const allowDuplicates = this.scanWanted?.allowDuplicates ?? false
    return this.withTimeout('start scanning', this.gattTimeoutMs, (done) => {
      // Filtering by service happens here (UUID spellings differ); noble reports everything.
      noble.startScanning([], allowDuplicates, (error) => done(error ? new BleError('failed', `start scanning: ${error.message}`) : undefined))
    })
  }

  async stopScan(): Promise<void> {
    this.scanWanted = undefined
    const noble = this.noble
    if (noble === undefined || this.nobleState !== 'poweredOn' || !this.scanning) return
    await this.withTimeout('stop scanning', this.gattTimeoutMs, (done) => noble.stopScanning(() => done(undefined)))
  }

  get isScanning(): boolean {
    return this.scanning
  }

  /** Devices seen since the adapter started (latest advertisement of each). */
  discoveredDevices(): DiscoveredDevice[] {
    return [...this.seen.values()]
  }

  private onDiscover(p: PeripheralLike): void {
    const adv = p.advertisement ?? {}
    const serviceUuids: string[] = []
    for (const u of adv.serviceUuids ?? []) {
      try {
        serviceUuids.push(normalizeUuid(u))
      } catch {
        // An odd UUID in someone else's advertisement is not our problem.
      }
    }
    const prev = this.seen.get(p.id)
    const device: DiscoveredDevice = {
      id: p.id,
      address: p.address,
      addressType: p.addressType,
      name: adv.localName ?? prev?.name,
      rssi: p.rssi,
      connectable: p.connectable !== false,
      serviceUuids: serviceUuids.length > 0 ? serviceUuids : prev?.serviceUuids ?? [],
      manufacturerData: adv.manufacturerData ?? prev?.manufacturerData,
      txPowerLevel: adv.txPowerLevel ?? prev?.txPowerLevel,
      lastSeen: Date.now(),
    }
    this.seen.set(p.id, device)
    const filter = this.scanWanted
    if (filter === undefined) return
    if (filter.services && filter.services.length > 0) {
      const wanted = filter.services.map((s) => normalizeUuid(s))
      if (!device.serviceUuids.some((u) => wanted.includes(u))) return
    }
    if (filter.nameFilter !== undefined) {
      const name = device.name ?? ''
      const f = filter.nameFilter
      if (typeof f === 'string' ? !name.toLowerCase().includes(f.toLowerCase()) : !f.test(name)) return
    }
    this.emit('discover', device)
  }

  /** Scan until a device matching `options` shows up; resolves with it (scanning goes on if it was on before). */
  async findDevice(options: ScanOptions, timeoutMs = 10_000): Promise<DiscoveredDevice> {
    const wasScanning = this.scanWanted
    let off: (() => void) | undefined
    const found = new Promise<DiscoveredDevice>((resolve) => {
      off = this.on('discover', (d) => resolve(d))
    })
    try {
      await this.startScan({ ...wasScanning, ...options })
      return await this.race(found, timeoutMs, () => new BleError('timeout', `no device matching ${describeScan(options)} within ${timeoutMs} ms`))
    } finally {
      off?.()
      if (wasScanning) this.scanWanted = wasScanning
      else await this.stopScan().catch(() => undefined)
    }
  }

  // ---- connections ------------------------------------------------------------------------------------------------

  /** Connect (idempotent while connected or connecting). */
  async connect(idOrAddress: string, options: ConnectOptions = {}): Promise<ConnectedDevice> {
    const id = toDeviceId(idOrAddress)
    await this.ready()
    const link = this.link(id)
    if (options.reconnect !== undefined) this.setReconnect(id, options.reconnect)
    link.cause = undefined
    if (link.state === 'connected' && link.peripheral) return this.describe(link)
    if (link.connecting) return link.connecting
    if (link.reconnecting) {
      // An explicit connect replaces the pending automatic one; the caller subscribes again.
      this.cancelReconnect(link)
      for (const sub of link.subs.values()) this.detachListener(sub)
      link.subs.clear()
      link.attempts = 0
    }
    link.connecting = this.establish(link, options.timeoutMs ?? this.connectTimeoutMs).finally(() => {
      link.connecting = undefined
    })
    return link.connecting
  }

  /** Turn reconnecting on (true / a policy) or off (false) for a device. */
  setReconnect(idOrAddress: string, policy: boolean | ReconnectPolicy): void {
    const link = this.link(toDeviceId(idOrAddress))
    link.reconnect = policy === false ? undefined : { ...DEFAULT_RECONNECT, ...(policy === true ? {} : policy) }
    if (link.reconnect === undefined) this.cancelReconnect(link)
  }

  private link(id: string): Link {
    let link = this.links.get(id)
    if (!link) {
      link = {
        id, peripheral: undefined, state: 'disconnected', chain: Promise.resolve(), current: undefined, services: new Map(), chars: new Map(),
        discovered: false, subs: new Map(), reconnect: undefined, reconnectTimer: undefined, reconnecting: false, attempts: 0, cause: undefined,
        detach: undefined, connecting: undefined, disconnectWaiters: [],
      }
      this.links.set(id, link)
    }
    return link
  }

  private describe(link: Link): ConnectedDevice {
    const p = link.peripheral
    return { id: link.id, address: p?.address ?? link.id, name: p?.advertisement?.localName ?? this.seen.get(link.id)?.name, mtu: p?.mtu ?? null }
  }

  private async establish(link: Link, timeoutMs: number): Promise<ConnectedDevice> {
    const noble = await this.ready()
    link.state = 'connecting'
    let peripheral: PeripheralLike
    try {
      peripheral = await this.withTimeout(`connect to ${link.id}`, timeoutMs, (done) => {
        noble.connect(link.id, {}, (error, p) => {
          if (error) done(new BleError('failed', `connect to ${link.id}: ${error.message}`))
          else if (!p) done(new BleError('failed', `connect to ${link.id}: noble returned no peripheral`))
          else done(undefined, p)
        })
      }, () => {
        try {
          noble.cancelConnect(link.id)
        } catch {
          // Nothing to cancel.
        }
      })
    } catch (e) {
      link.state = 'disconnected'
      this.resumeScan()
      throw e
    }
    link.peripheral = peripheral
    link.state = 'connected'
    link.services.clear()
    link.chars.clear()
    link.discovered = false
    this.attach(link, peripheral)
    this.resumeScan()
    const device = this.describe(link)
    this.emit('connect', device)
    return device
  }

  /**
   * noble's HCI bindings stop scanning to connect and leave it off: turn it back on if the user scans, once no
   * connection attempt is pending (noble would otherwise enable scanning and initiate at the same time).
   */
  private resumeScan(): void {
    setImmediate(() => {
      const noble = this.noble
      if (this.closed || this.scanWanted === undefined || this.scanning || noble === undefined || this.nobleState !== 'poweredOn') return
      for (const l of this.links.values()) if (l.connecting) return
      this.nobleStartScan(noble).catch((e: unknown) => this.emit('warning', `could not resume scanning: ${asError(e).message}`))
    })
  }

  private attach(link: Link, peripheral: PeripheralLike): void {
    const onDisconnect = (reason: number | string): void => this.onLinkDown(link, reason ?? 'unknown')
    peripheral.on('disconnect', onDisconnect)
    const detachTap = this.tapAttErrors(link)
    link.detach = () => {
      peripheral.removeListener('disconnect', onDisconnect)
      detachTap()
    }
  }

  /**
   * noble's GATT layer drops most ATT error responses (no callback, or an empty read). With the HCI bindings we see
   * the raw ATT PDUs before noble does and fail the pending step with the error code right away.
   */
  private tapAttErrors(link: Link): () => void {
    const gatts = (this.noble?._bindings as HciBindingsInternals | undefined)?._gatts
    const stream = gatts?.[link.id]?._aclStream
    if (!stream || typeof stream.prependListener !== 'function') return () => undefined
    const tap = (cid: number, data: Buffer): void => {
      if (cid !== 4 || !Buffer.isBuffer(data) || data.length < 5 || data[0] !== 0x01) return
      const step = link.current
      const request = data[1] as number
      if (!step || !FATAL_ATT_REQUESTS[step.kind].includes(request)) return
      const code = data[4] as number
      // noble takes any other error as the end of the list too, and would hand on a truncated GATT tree.
      if (step.kind === 'discovery' && code === ATT_ATTRIBUTE_NOT_FOUND) return
      step.fail(BleError.att(step.what, code, data.readUInt16LE(2)))
    }
    stream.prependListener('data', tap as Listener)
    return () => stream.removeListener('data', tap as Listener)
  }

  private onLinkDown(link: Link, reason: number | string): void {
    if (link.state === 'disconnected') return
    link.detach?.()
    link.detach = undefined
    link.state = 'disconnected'
    link.peripheral = undefined
    link.discovered = false
    link.services.clear()
    link.chars.clear()
    const cause = link.cause
    const event: DisconnectEvent = {
      id: link.id, reason, reasonText: disconnectReasonText(reason), cause,
      willReconnect: link.reconnect !== undefined && cause !== 'user' && cause !== 'close' && !this.closed,
    }
    const error = new BleError('disconnected', `${link.id} disconnected: ${event.reasonText}`, { reason })
    link.current?.fail(error)
    for (const sub of link.subs.values()) this.detachListener(sub)
    if (!event.willReconnect) link.subs.clear()
    for (const w of link.disconnectWaiters.splice(0)) w(event)
    this.emit('disconnect', event)
    if (event.willReconnect && link.reconnectTimer === undefined && link.connecting === undefined) this.scheduleReconnect(link, link.attempts + 1)
  }

  /** Disconnect (and stop reconnecting). Resolves with the disconnect event once the link is down. */
  async disconnect(idOrAddress: string): Promise<DisconnectEvent | undefined> {
    const id = toDeviceId(idOrAddress)
    const link = this.links.get(id)
    if (!link) return undefined
    link.cause = 'user'
    this.cancelReconnect(link)
    if (link.connecting) await link.connecting.catch(() => undefined)
    return this.dropLink(link, 'user')
  }

  /**
   * Drop the link as if it had been lost, keeping the reconnect policy: with reconnecting on, the adapter connects
   * again with its backoff (a fresh link for a device whose GATT server misbehaves); without, it stays down.
   */
  async reconnect(idOrAddress: string): Promise<DisconnectEvent | undefined> {
    const link = this.links.get(toDeviceId(idOrAddress))
    return link ? this.dropLink(link, 'reconnect') : undefined
  }

  private async dropLink(link: Link, cause: NonNullable<DisconnectEvent['cause']>): Promise<DisconnectEvent | undefined> {
    const peripheral = link.peripheral
    if (link.state !== 'connected' || !peripheral) return undefined
    link.cause = cause
    link.state = 'disconnecting'
    const down = new Promise<DisconnectEvent>((resolve) => link.disconnectWaiters.push(resolve))
    try {
      peripheral.disconnect()
    } catch (e) {
      this.emit('warning', `disconnect ${link.id}: ${asError(e).message}`)
    }
    const timer = setTimeout(() => {
      // The controller never confirmed: consider the link gone so that nothing waits forever.
      this.onLinkDown(link, `no Disconnection Complete within ${this.disconnectTimeoutMs} ms`)
    }, this.disconnectTimeoutMs)
    timer.unref()
    try {
      return await down
    } finally {
      clearTimeout(timer)
    }
  }

  isConnected(idOrAddress: string): boolean {
    return this.links.get(toDeviceId(idOrAddress))?.state === 'connected'
  }

  connectedDevices(): ConnectedDevice[] {
    return [...this.links.values()].filter((l) => l.state === 'connected').map((l) => this.describe(l))
  }

  // ---- reconnect --------------------------------------------------------------------------------------------------

  private scheduleReconnect(link: Link, attempt: number): void {
    const policy = link.reconnect
    if (!policy || this.closed) return
    link.attempts = attempt
    if (attempt > policy.maxAttempts) {
      link.reconnecting = false
      link.subs.clear()
      this.emit('reconnectFailed', { id: link.id, attempts: attempt - 1, error: new BleError('failed', `gave up reconnecting to ${link.id} after ${attempt - 1} attempts`) })
      return
    }
    link.reconnecting = true
    const delayMs = backoffDelay(policy, attempt, this.random)
    this.emit('reconnecting', { id: link.id, attempt, delayMs })
    link.reconnectTimer = setTimeout(() => {
      link.reconnectTimer = undefined
      this.attemptReconnect(link, attempt).catch((e: unknown) => this.emit('warning', `reconnect ${link.id}: ${asError(e).message}`))
    }, delayMs)
  }

  private async attemptReconnect(link: Link, attempt: number): Promise<void> {
    if (!link.reconnect || this.closed || link.state !== 'disconnected') {
      link.reconnecting = false
      return
    }
    try {
      link.cause = undefined
      link.connecting = this.establish(link, this.connectTimeoutMs).finally(() => {
        link.connecting = undefined
      })
      await link.connecting
      // Restore what the user had: the GATT cache and the subscriptions (with their listeners).
      const subs = [...link.subs.entries()]
      if (subs.length > 0) {
        await this.enqueue(link, async () => {
          await this.discoverCharacteristics(link)
          for (const [k, sub] of subs) {
            const entry = link.chars.get(k)
            if (!entry) throw new BleError('not-found', `characteristic ${k} is gone after reconnecting`)
            await this.enableNotifications(link, entry, sub)
          }
        })
      }
      link.reconnecting = false
      link.attempts = 0
      this.emit('reconnected', { id: link.id, attempts: attempt })
    } catch (e) {
      const error = e instanceof BleError ? e : new BleError('failed', asError(e).message)
      // establish() changed the state meanwhile (TypeScript keeps the narrowing from the check above).
      if ((link.state as Link['state']) === 'connected') {
        // Connected but could not restore the subscriptions: drop the link; its disconnect schedules the next try.
        this.emit('warning', `reconnect ${link.id}: ${error.message}`)
        await this.dropLink(link, 'gatt-timeout').catch(() => undefined)
        return
      }
      if (!link.reconnect || this.closed) {
        link.reconnecting = false
        link.subs.clear()
        this.emit('reconnectFailed', { id: link.id, attempts: attempt, error })
        return
      }
      this.scheduleReconnect(link, attempt + 1)
    }
  }

  private cancelReconnect(link: Link): void {
    if (link.reconnectTimer) clearTimeout(link.reconnectTimer)
    link.reconnectTimer = undefined
    link.reconnecting = false
  }

  // ---- the per-device operation queue and its timed steps ----------------------------------------------------------

  private enqueue<T>(link: Link, op: () => Promise<T>): Promise<T> {
    const run = (): Promise<T> => op()
    const result = link.chain.then(run, run)
    link.chain = result.catch(() => undefined)
    return result
  }

  private connected(idOrAddress: string): Link {
    this.assertOpen()
    const id = toDeviceId(idOrAddress)
    const link = this.links.get(id)
    if (!link || link.state !== 'connected') {
      throw new BleError('not-connected', `${id} is not connected${link?.reconnecting ? ' (reconnecting)' : ''}`)
    }
    return link
  }

  /** One noble request with a timeout; ATT errors seen by the tap and disconnects fail it at once. */
  private step<T>(link: Link, kind: StepKind, what: string, start: (done: (error: BleError | undefined, value?: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (link.state !== 'connected') {
        reject(new BleError('not-connected', `${what}: ${link.id} is not connected`))
        return
      }
      let settled = false
      const finish = (error: BleError | undefined, value?: T): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (link.current === current) link.current = undefined
        if (error) {
          reject(error)
          // ATT: a request that timed out leaves the bearer unusable (noble's queue is stuck behind it).
          if (error.code === 'timeout' && kind !== 'rssi' && this.disconnectOnTimeout && link.state === 'connected') {
            this.dropLink(link, 'gatt-timeout').catch(() => undefined)
          }
        } else {
          resolve(value as T)
        }
      }
      const current: Step = { kind, what, fail: (e) => finish(e) }
      const timer = setTimeout(() => finish(new BleError('timeout', `${what}: no answer from ${link.id} within ${this.gattTimeoutMs} ms`)), this.gattTimeoutMs)
      link.current = current
      try {
        start(finish)
      } catch (e) {
        finish(new BleError('failed', `${what}: ${asError(e).message}`))
      }
    })
  }

  private nobleError(what: string, error: Error | null | undefined): BleError | undefined {
    return error ? new BleError('failed', `${what}: ${error.message}`) : undefined
  }

  // ---- discovery --------------------------------------------------------------------------------------------------

  private async discoverCharacteristics(link: Link): Promise<void> {
    const peripheral = link.peripheral
    if (!peripheral) throw new BleError('not-connected', `${link.id} is not connected`)
    const handles = new Map<string, { start: number; end: number }>()
    const onServices = (_p: unknown, raw: Array<{ uuid: string; startHandle: number; endHandle: number }>): void => {
      for (const s of raw ?? []) handles.set(normalizeUuid(s.uuid), { start: s.startHandle, end: s.endHandle })
    }
    peripheral.on('servicesDiscovered', onServices as Listener)
    let services: ServiceLike[]
    try {
      services = await this.step<ServiceLike[]>(link, 'discovery', `discover services of ${link.id}`, (done) =>
        peripheral.discoverServices([], (error, s) => done(this.nobleError('discover services', error), s ?? [])))
    } finally {
      peripheral.removeListener('servicesDiscovered', onServices as Listener)
    }
    link.services.clear()
    link.chars.clear()
    for (const service of services) {
      const su = normalizeUuid(service.uuid)
      const h = handles.get(su)
      link.services.set(su, { service, startHandle: h?.start, endHandle: h?.end })
      const charHandles = new Map<string, { start: number; value: number }>()
      const onChars = (raw: Array<{ uuid: string; startHandle: number; valueHandle: number }>): void => {
        for (const c of raw ?? []) charHandles.set(normalizeUuid(c.uuid), { start: c.startHandle, value: c.valueHandle })
      }
      service.on('characteristicsDiscovered', onChars as Listener)
      let chars: CharacteristicLike[]
      try {
        chars = await this.step<CharacteristicLike[]>(link, 'discovery', `discover characteristics of ${su} on ${link.id}`, (done) =>
          service.discoverCharacteristics([], (error, c) => done(this.nobleError('discover characteristics', error), c ?? [])))
      } finally {
        service.removeListener('characteristicsDiscovered', onChars as Listener)
      }
      for (const char of chars) {
        const cu = normalizeUuid(char.uuid)
        const ch = charHandles.get(cu)
        link.chars.set(`${su}/${cu}`, { service: su, char, declarationHandle: ch?.start, valueHandle: ch?.value, descriptors: undefined })
      }
    }
    link.discovered = true
  }

  private async descriptorsOf(link: Link, entry: CharEntry): Promise<Map<string, DescriptorLike>> {
    if (entry.descriptors) return entry.descriptors
    const cu = normalizeUuid(entry.char.uuid)
    const list = await this.step<DescriptorLike[]>(link, 'discovery', `discover descriptors of ${cu} on ${link.id}`, (done) =>
      entry.char.discoverDescriptors((error, d) => done(this.nobleError('discover descriptors', error), d ?? [])))
    entry.descriptors = new Map(list.map((d) => [normalizeUuid(d.uuid), d]))
    return entry.descriptors
  }

  private descriptorHandle(link: Link, entry: CharEntry, d: DescriptorLike): number | undefined {
    const gatts = (this.noble?._bindings as HciBindingsInternals | undefined)?._gatts
    const byService = gatts?.[link.id]?._descriptors
    if (!byService) return undefined
    for (const [svc, chars] of Object.entries(byService)) {
      if (normalizeUuid(svc) !== entry.service) continue
      const h = chars?.[entry.char.uuid]?.[d.uuid]?.handle
      if (typeof h === 'number') return h
    }
    return undefined
  }

  /**
   * The whole GATT tree: services → characteristics (properties, handles) → descriptors, with the 0x2901 user
   * descriptions and 0x2904 presentation formats read.
   */
  async discover(idOrAddress: string): Promise<GattTree> {
    const link = this.connected(idOrAddress)
    return this.enqueue(link, async () => {
      await this.discoverCharacteristics(link)
      const tree: GattTree = { id: link.id, services: [], problems: [] }
      for (const [su, s] of link.services) {
        const service: GattService = { uuid: su, name: s.service.name ?? undefined, startHandle: s.startHandle, endHandle: s.endHandle, characteristics: [] }
        tree.services.push(service)
        for (const entry of link.chars.values()) {
          if (entry.service !== su) continue
          const cu = normalizeUuid(entry.char.uuid)
          const descriptors = await this.descriptorsOf(link, entry)
          const c: GattCharacteristic = {
            uuid: cu, name: entry.char.name ?? undefined, properties: [...entry.char.properties],
            declarationHandle: entry.declarationHandle, valueHandle: entry.valueHandle,
            descriptors: [...descriptors.entries()].map(([du, d]) => ({ uuid: du, name: d.name ?? undefined, handle: this.descriptorHandle(link, entry, d) })),
            userDescription: undefined, presentationFormat: undefined,
          }
          const ud = descriptors.get(USER_DESCRIPTION_UUID)
          if (ud) {
            try {
              c.userDescription = new TextDecoder('utf-8', { fatal: false }).decode(await this.readDescriptorValue(link, ud, `read 0x2901 of ${cu}`))
            } catch (e) {
              if (link.state !== 'connected') throw e
              tree.problems.push(asError(e).message)
            }
          }
          const pf = descriptors.get(PRESENTATION_FORMAT_UUID)
          if (pf) {
            try {
              c.presentationFormat = decodePresentationFormat(await this.readDescriptorValue(link, pf, `read 0x2904 of ${cu}`))
            } catch (e) {
              if (link.state !== 'connected') throw e
              tree.problems.push(asError(e).message)
            }
          }
          service.characteristics.push(c)
        }
      }
      return tree
    })
  }

  private async entry(link: Link, service: string, characteristic: string): Promise<CharEntry> {
    if (!link.discovered) await this.discoverCharacteristics(link)
    const k = key(service, characteristic)
    const e = link.chars.get(k)
    if (!e) throw new BleError('not-found', `${link.id} has no characteristic ${normalizeUuid(characteristic)} in service ${normalizeUuid(service)}`)
    return e
  }

  // ---- GATT operations --------------------------------------------------------------------------------------------

  async read(idOrAddress: string, service: string, characteristic: string): Promise<Buffer> {
    const link = this.connected(idOrAddress)
    return this.enqueue(link, async () => {
      const e = await this.entry(link, service, characteristic)
      const what = `read ${normalizeUuid(characteristic)} on ${link.id}`
      return this.step<Buffer>(link, 'read', what, (done) => e.char.read((error, data) => done(this.nobleError(what, error), data)))
    })
  }

  async write(idOrAddress: string, service: string, characteristic: string, data: Uint8Array, options: { withoutResponse?: boolean } = {}): Promise<void> {
    const link = this.connected(idOrAddress)
    const withoutResponse = options.withoutResponse ?? false
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    return this.enqueue(link, async () => {
      const e = await this.entry(link, service, characteristic)
      const what = `write ${normalizeUuid(characteristic)} on ${link.id}${withoutResponse ? ' (without response)' : ''}`
      await this.step<void>(link, 'write', what, (done) => e.char.write(buf, withoutResponse, (error) => done(this.nobleError(what, error))))
    })
  }

  private readDescriptorValue(link: Link, d: DescriptorLike, what: string): Promise<Buffer> {
    return this.step<Buffer>(link, 'descriptor', `${what} on ${link.id}`, (done) => d.readValue((error, data) => done(this.nobleError(what, error), data)))
  }

  async readDescriptor(idOrAddress: string, service: string, characteristic: string, descriptor: string): Promise<Buffer> {
    const link = this.connected(idOrAddress)
    return this.enqueue(link, async () => {
      const e = await this.entry(link, service, characteristic)
      const d = (await this.descriptorsOf(link, e)).get(normalizeUuid(descriptor))
      if (!d) throw new BleError('not-found', `${link.id}: characteristic ${normalizeUuid(characteristic)} has no descriptor ${normalizeUuid(descriptor)}`)
      return this.readDescriptorValue(link, d, `read descriptor ${normalizeUuid(descriptor)} of ${normalizeUuid(characteristic)}`)
    })
  }

  /**
   * Enable notifications (or indications, whichever the characteristic has) and call `listener` with each value.
   * The subscription survives reconnects when reconnecting is on.
   */
  async subscribe(idOrAddress: string, service: string, characteristic: string, listener: (data: Buffer) => void): Promise<Subscription> {
    const link = this.connected(idOrAddress)
    const k = key(service, characteristic)
    return this.enqueue(link, async () => {
      const e = await this.entry(link, service, characteristic)
      const props = e.char.properties
      if (!props.includes('notify') && !props.includes('indicate')) {
        throw new BleError('invalid', `${normalizeUuid(characteristic)} on ${link.id} has neither notify nor indicate (properties: ${props.join(', ')})`)
      }
      const previous = link.subs.get(k)
      if (previous) this.detachListener(previous)
      const sub: SubEntry = { listener, handler: undefined, char: undefined }
      link.subs.set(k, sub)
      try {
        await this.enableNotifications(link, e, sub)
      } catch (err) {
        this.detachListener(sub)
        if (link.subs.get(k) === sub) link.subs.delete(k)
        throw err
      }
      return { unsubscribe: () => this.unsubscribe(link.id, service, characteristic) }
    })
  }

  private async enableNotifications(link: Link, e: CharEntry, sub: SubEntry): Promise<void> {
    const handler = (data: Buffer, isNotification: boolean): void => {
      if (isNotification) sub.listener(data)
    }
    sub.handler = handler
    sub.char = e.char
    e.char.on('data', handler as Listener)
    const what = `subscribe to ${normalizeUuid(e.char.uuid)} on ${link.id}`
    await this.step<void>(link, 'subscribe', what, (done) => e.char.subscribe((error) => done(this.nobleError(what, error))))
  }

  private detachListener(sub: SubEntry): void {
    if (sub.char && sub.handler) sub.char.removeListener('data', sub.handler as Listener)
    sub.char = undefined
    sub.handler = undefined
  }

  async unsubscribe(idOrAddress: string, service: string, characteristic: string): Promise<void> {
    const id = toDeviceId(idOrAddress)
    const link = this.links.get(id)
    const k = key(service, characteristic)
    const sub = link?.subs.get(k)
    if (!link || !sub) return
    link.subs.delete(k)
    this.detachListener(sub)
    if (link.state !== 'connected') return
    return this.enqueue(link, async () => {
      if (link.state !== 'connected') return
      const e = await this.entry(link, service, characteristic)
      const what = `unsubscribe from ${normalizeUuid(characteristic)} on ${link.id}`
      await this.step<void>(link, 'subscribe', what, (done) => e.char.unsubscribe((error) => done(this.nobleError(what, error))))
    })
  }

  async readRssi(idOrAddress: string): Promise<number> {
    const link = this.connected(idOrAddress)
    return this.enqueue(link, async () => {
      const peripheral = link.peripheral
      if (!peripheral) throw new BleError('not-connected', `${link.id} is not connected`)
      const what = `read RSSI of ${link.id}`
      const rssi = await this.step<number>(link, 'rssi', what, (done) => peripheral.updateRssi((error, value) => done(this.nobleError(what, error), value)))
      this.emit('rssi', { id: link.id, rssi })
      return rssi
    })
  }

  // ---- shutdown ---------------------------------------------------------------------------------------------------

  /** Disconnect everything, stop scanning and noble; the adapter cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return
    const noble = this.noble
    for (const link of this.links.values()) this.cancelReconnect(link)
    await Promise.all([...this.links.values()].map(async (link) => {
      link.reconnect = undefined
      if (link.connecting) await link.connecting.catch(() => undefined)
      await this.dropLink(link, 'close').catch(() => undefined)
    }))
    await this.stopScan().catch(() => undefined)
    this.closed = true
    if (noble) {
      for (const [event, listener] of this.nobleListeners.splice(0)) noble.removeListener(event, listener)
      this.safeStop(noble)
    }
    this.noble = undefined
    this.setState('closed')
    this.events.removeAllListeners()
  }

  private safeStop(noble: NobleLike): void {
    try {
      noble.stop()
    } catch {
      // noble.stop() on an adapter that never opened may throw; nothing is left to release then.
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------------------------

  private withTimeout<T>(what: string, timeoutMs: number, start: (done: (error: BleError | undefined, value?: T) => void) => void, onTimeout?: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false
      const timer = setTimeout(() => {
        if (settled) return
        settled = true
        onTimeout?.()
        reject(new BleError('timeout', `${what}: no answer within ${timeoutMs} ms`))
      }, timeoutMs)
      const done = (error: BleError | undefined, value?: T): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (error) reject(error)
        else resolve(value as T)
      }
      try {
        start(done)
      } catch (e) {
        done(new BleError('failed', `${what}: ${asError(e).message}`))
      }
    })
  }

  private race<T>(p: Promise<T>, timeoutMs: number, error: () => BleError): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(error()), timeoutMs)
      p.then((v) => {
        clearTimeout(timer)
        resolve(v)
      }, (e: unknown) => {
        clearTimeout(timer)
        reject(e)
      })
    })
  }
}

function describeScan(o: ScanOptions): string {
  const parts: string[] = []
  if (o.services?.length) parts.push(`services ${o.services.join(', ')}`)
  if (o.nameFilter !== undefined) parts.push(`name ${String(o.nameFilter)}`)
  return parts.length ? parts.join(' and ') : 'any device'
}
