import { hostname } from 'node:os'
import { join } from 'node:path'
import { BleAdapter, defaultNoble, hciNoble, toDeviceId, uartNoble } from '../ble/adapter/index.ts'
import type { BleAdapterState, ConnectedDevice, DisconnectEvent, DiscoveredDevice, NobleFactory, ReconnectPolicy } from '../ble/adapter/index.ts'
import type { LinkSettings } from '../ble/virtual/link-model.ts'
import { createSensors } from '../ble/virtual/sensors/index.ts'
import type { SensorKind, SimulatedSensorHandle } from '../ble/virtual/sensors/index.ts'
import { createVirtualNoble, VirtualRadio } from '../ble/virtual/virtual-radio.ts'
import type { ObjectModel } from '../../shared/lwm2m/object-model.ts'
import { makePath } from '../../shared/lwm2m/path.ts'
import type { Lwm2mPath } from '../../shared/lwm2m/path.ts'
import type { Lwm2mValue, Objlnk } from '../../shared/lwm2m/values.ts'
import { Lwm2mClient } from '../client/lwm2m-client.ts'
import type { ClientEvent, ClientOptions } from '../client/lwm2m-client.ts'
import type { ResourceHandler } from '../client/object-tree.ts'
import { OperationError } from '../client/operation-error.ts'
import { BLE_GATEWAY_MODEL, BLE_GATEWAY_OBJECT_ID, BLE_LINK_MODEL, BLE_LINK_OBJECT_ID, GatewayResource, LinkResource } from './gateway-objects.ts'
import { LinkMonitor } from './link-monitor.ts'
import type { LinkSnapshot } from './link-monitor.ts'
import { ObjectIdPool, sensorKey } from './object-id-pool.ts'
import { TwinManager } from './twin-manager.ts'
import type { TwinClient, TwinEvent } from './twin-manager.ts'

/**
 * The BLE–LwM2M gateway (REFERENCE.md §1): a BLE central of its sensors and an LwM2M client of one server. It
 * registers with its own objects (Security, Server, Device, BLE Gateway 33000, BLE Link 33001), turns every GATT
 * service of a connected sensor into an ObjectTwin, and deletes the twins when the sensor goes. Runs in process
 * (the console's local gateway) or headless (`objecttwin gateway`).
 */

/**
 * The BLE adapter: 'hci' (hci0), 'hci:N', 'uart:PATH' (an HCI controller on a serial port), 'default' (noble's
 * platform bindings: CoreBluetooth, WinRT), 'virtual' (a virtual radio with simulated sensors the gateway
 * creates), a radio of the caller's, or any noble factory.
 */
export type AdapterSpec = 'hci' | `hci:${number}` | `uart:${string}` | 'default' | 'virtual' | { readonly radio: VirtualRadio } | { readonly noble: NobleFactory }

export interface GatewayOptions {
  /** coap://HOST:PORT of the LwM2M server. */
  readonly serverUri: string
  /** Endpoint name; default "objecttwin-gw-<hostname>". */
  readonly endpoint?: string
  readonly adapter?: AdapterSpec
  /** Where the object ID mapping is kept (object-ids.json); undefined keeps it in memory. */
  readonly dataDir?: string
  readonly idPool?: { readonly min?: number; readonly max?: number }
  /**
   * Connect sensors by itself: true connects every simulated sensor of the virtual radio; a list connects these
   * addresses (any adapter). Default: true for 'virtual', else nothing.
   */
  readonly autoConnect?: boolean | readonly string[]
  /** Simulated sensors of `adapter: 'virtual'` (default one ECG, one heart-rate, one thermometer). */
  readonly virtualSensors?: readonly SensorKind[]
  /** Link settings of those simulated sensors, over the virtual radio's defaults. */
  readonly virtualLink?: Partial<LinkSettings>
  /** Reconnect sensors after unexpected disconnects (default true; twins are deleted meanwhile). */
  readonly reconnect?: boolean | ReconnectPolicy
  readonly gattTimeoutMs?: number
  readonly connectTimeoutMs?: number
  /** Link monitor: window of the drop ratio (default 5000 ms) and RSSI poll period (default 2000 ms, 0 = off). */
  readonly linkWindowMs?: number
  readonly rssiIntervalMs?: number
  /** Poll period of observed characteristics without notify (default 1000 ms). */
  readonly pollMs?: number
  /** Pauses between GATT discovery attempts of a connection (default 0.5, 1, 2 s); then the sensor gets a fresh link. */
  readonly discoveryRetryDelaysMs?: readonly number[]
  /** Further options of the LwM2M client (lifetime, version, stream batching, …). */
  readonly client?: Partial<Omit<ClientOptions, 'endpoint' | 'serverUri'>>
}

export type GatewayEvent =
  | TwinEvent
  | { readonly kind: 'sensorConnected'; readonly sensor: string; readonly name: string | undefined }
  | { readonly kind: 'sensorDisconnected'; readonly sensor: string; readonly reason: string; readonly willReconnect: boolean }
  | { readonly kind: 'connectFailed'; readonly sensor: string; readonly reason: string }
  | { readonly kind: 'adapterState'; readonly state: BleAdapterState }
  | { readonly kind: 'client'; readonly event: ClientEvent }
  | { readonly kind: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string }
  /** A sensor's link snapshot changed (window end, RSSI poll, connect, disconnect). */
  | { readonly kind: 'link'; readonly snapshot: LinkSnapshot }

export const OBJECT_ID_FILE = 'object-ids.json'

const DEFAULT_VIRTUAL_SENSORS: readonly SensorKind[] = ['ecg', 'hr', 'thermometer']

/**
 * ECG batching: a notification at most every 20 ms per stream, at most 400 per second in all. Stream
 * notifications are NON, whose message IDs must not repeat within NON_LIFETIME (145 s): 65536 / 145 s ≈ 450/s.
 */
const GATEWAY_STREAM = { flushIntervalMs: 20, maxNotificationsPerSecond: 400 } as const

function nobleFor(spec: AdapterSpec, radio: VirtualRadio | undefined): NobleFactory {
  if (typeof spec === 'object' && 'noble' in spec) return spec.noble
  if (radio) return Object.assign(() => createVirtualNoble(radio), { label: 'virtual radio' })
  if (spec === 'hci') return hciNoble()
  if (spec === 'default') return defaultNoble()
  if (typeof spec === 'string' && spec.startsWith('hci:')) {
    const n = Number(spec.slice(4))
    if (!Number.isInteger(n) || n < 0) throw new Error(`adapter '${spec}': hci:N needs a device number`)
    return hciNoble({ deviceId: n })
  }
  if (typeof spec === 'string' && spec.startsWith('uart:')) {
    const path = spec.slice(5)
    if (path === '') throw new Error(`adapter '${spec}' names no serial port (uart:/dev/ttyACM0)`)
    return uartNoble(path)
  }
  throw new Error(`adapter '${String(spec)}' is not hci, hci:N, uart:PATH, default or virtual`)
}

/** The first Execute argument's value: `0='c0:07:01:00:00:01'` → the address; a bare value is taken as is. */
export function executeArgument(args: string): string | undefined {
  const text = args.trim()
  if (text === '') return undefined
  const m = /^\d+(?:='([^']*)')?(?:,|$)/.exec(text)
  if (m) return m[1]
  return text.replace(/^'|'$/g, '')
}

export class BleLwm2mGateway {
  readonly client: Lwm2mClient
  readonly adapter: BleAdapter
  readonly pool: ObjectIdPool
  readonly twins: TwinManager
  readonly links: LinkMonitor
  /** The virtual radio, when the adapter is one (created here for 'virtual', or the caller's). */
  readonly radio: VirtualRadio | undefined
  /** The simulated sensors this gateway created (adapter 'virtual'). */
  readonly simulatedSensors: readonly SimulatedSensorHandle[]
  private readonly opts: GatewayOptions
  private readonly ownsRadio: boolean
  private readonly listeners = new Set<(event: GatewayEvent) => void>()
  private readonly offs: Array<() => void> = []
  private readonly linkInstances = new Map<string, number>()
  private scanTimer: ReturnType<typeof setTimeout> | undefined
  private scanHolders = 0
  private scanStarting: Promise<void> | undefined
  private discoveredTimer: ReturnType<typeof setTimeout> | undefined
  private lastEvent = ''
  private readonly earlyLogs: GatewayEvent[] = []
  private started = false
  private stopped = false
  private clientStarting: Promise<void> | undefined

  constructor(options: GatewayOptions) {
    this.opts = options
    const spec = options.adapter ?? 'hci'
    if (spec === 'virtual') {
      this.radio = new VirtualRadio()
      this.ownsRadio = true
      const sensors = createSensors(options.virtualSensors ?? DEFAULT_VIRTUAL_SENSORS)
      for (const s of sensors) this.radio.addPeripheral(s.definition, options.virtualLink ? { link: options.virtualLink } : {})
      this.simulatedSensors = sensors
    } else {
      this.radio = typeof spec === 'object' && 'radio' in spec ? spec.radio : undefined
      this.ownsRadio = false
      this.simulatedSensors = []
    }
    this.adapter = new BleAdapter({
      noble: nobleFor(spec, this.radio),
      ...(options.gattTimeoutMs !== undefined ? { gattTimeoutMs: options.gattTimeoutMs } : {}),
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    })
    this.pool = new ObjectIdPool({
      ...options.idPool,
      ...(options.dataDir !== undefined ? { file: join(options.dataDir, OBJECT_ID_FILE) } : {}),
      onWarning: (message) => this.log('warn', message),
    })
    this.client = new Lwm2mClient({
      device: { manufacturer: 'ObjectTwin', model: 'BLE-LwM2M gateway', deviceType: 'BLE gateway', software: 'objecttwin' },
      ...options.client,
      stream: { ...GATEWAY_STREAM, ...options.client?.stream },
      endpoint: options.endpoint ?? `objecttwin-gw-${hostname()}`,
      serverUri: options.serverUri,
    })
    this.links = new LinkMonitor({
      ...(options.linkWindowMs !== undefined ? { windowMs: options.linkWindowMs } : {}),
      ...(options.rssiIntervalMs !== undefined ? { rssiIntervalMs: options.rssiIntervalMs } : {}),
      readRssi: (id) => this.adapter.readRssi(id),
      onSnapshot: (snap) => this.showLink(snap),
      onWarning: (message) => this.log('warn', message),
    })
    const client = this.client
    const twinClient: TwinClient = {
      addObject: (model, instances) => client.addObject(model, instances, { creatable: false, deletable: false }),
      removeObject: (id) => client.removeObject(id),
      valueChanged: (path, value) => client.valueChanged(path, value),
      observeAttributes: (path) => client.observeAttributes(path),
      pushSamples: (path, times, values) => {
        if (typeof values[0] === 'number') client.pushSamples(path, { times, values: values as ArrayLike<number> })
        else client.pushSamples(path, Array.from(values as readonly Lwm2mValue[], (value, i) => ({ value, time: times[i] as number })))
      },
    }
    this.twins = new TwinManager({
      adapter: this.adapter,
      client: twinClient,
      pool: this.pool,
      ...(options.pollMs !== undefined ? { defaultPollMs: options.pollMs } : {}),
      ...(options.discoveryRetryDelaysMs !== undefined ? { discoveryRetryDelaysMs: options.discoveryRetryDelaysMs } : {}),
      ...(options.gattTimeoutMs !== undefined ? { notifyReadTimeoutMs: options.gattTimeoutMs } : {}),
      onNotification: (id) => this.links.notification(id),
      onSequence: (id, seq) => this.links.sequence(id, seq),
      onEvent: (event) => this.onTwinEvent(event),
      log: (level, message) => this.log(level, message),
    })
  }

  get endpoint(): string {
    return this.client.endpoint
  }

  onEvent(listener: (event: GatewayEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private emit(event: GatewayEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // Listeners must not break the gateway.
      }
    }
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    // Before start() nobody listens yet (a damaged ID file is found in the constructor): told at start.
    if (!this.started) this.earlyLogs.push({ kind: 'log', level, message })
    else this.emit({ kind: 'log', level, message })
  }

  /** The generated models of the twins exposed now. */
  twinModels(): ObjectModel[] {
    return this.twins.models()
  }

  /** Open the adapter, register with the server, start following sensors; connects the auto-connect ones. */
  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    for (const event of this.earlyLogs.splice(0)) this.emit(event)
    this.installObjects()
    this.offs.push(this.client.onEvent((event) => this.emit({ kind: 'client', event })))
    this.offs.push(this.adapter.on('state', (state) => {
      this.client.setValue(this.gatewayPath(GatewayResource.adapterState), state)
      this.emit({ kind: 'adapterState', state })
    }))
    this.offs.push(this.adapter.on('scanStart', () => this.client.setValue(this.gatewayPath(GatewayResource.scanning), true)))
    this.offs.push(this.adapter.on('scanStop', () => this.client.setValue(this.gatewayPath(GatewayResource.scanning), false)))
    this.offs.push(this.adapter.on('discover', () => this.scheduleDiscoveredUpdate()))
    this.offs.push(this.adapter.on('connect', (device) => this.onSensorConnected(device)))
    this.offs.push(this.adapter.on('disconnect', (event) => this.onSensorDisconnected(event)))
    this.offs.push(this.adapter.on('warning', (message) => this.log('warn', `BLE: ${message}`)))
    this.twins.start()
    this.links.start()
    this.clientStarting = this.client.start()
    await this.clientStarting
    const state = await this.adapter.init()
    this.client.setValue(this.gatewayPath(GatewayResource.adapterState), state)
    if (state !== 'poweredOn') this.log('warn', `BLE adapter not usable: ${state}`)
    const auto = this.opts.autoConnect ?? this.radio !== undefined
    const addresses = auto === true ? [...(this.radio?.peripherals() ?? [])].map((p) => p.address) : auto === false ? [] : [...auto]
    if (addresses.length > 0 && state === 'poweredOn') await this.connectSensors(addresses)
  }

  /**
   * Connect several sensors one after the other, each with its twins in place before the next (so that a fresh
   * pool hands out IDs in this order); failures are reported, not thrown.
   */
  async connectSensors(addresses: readonly string[], timeoutMs = 15_000): Promise<void> {
    const held = await this.holdScan().then(() => true, () => false)
    try {
      for (const a of addresses) {
        if (this.stopped) return
        await this.connectSensor(a, timeoutMs).catch(() => undefined)
        await this.twins.settled()
      }
    } finally {
      if (held) this.releaseScan()
    }
  }

  /** Scan until the sensor advertises, then connect (with reconnects per the options). Throws naming the cause. */
  async connectSensor(address: string, timeoutMs = 15_000): Promise<ConnectedDevice> {
    let id: string
    try {
      id = toDeviceId(address)
      if (!this.adapter.discoveredDevices().some((d) => d.id === id)) await this.waitForAdvertisement(id, timeoutMs)
      const reconnect = this.opts.reconnect ?? true
      return await this.adapter.connect(id, { reconnect })
    } catch (e) {
      const reason = (e as Error).message
      this.setLastEvent(`connect ${address} failed: ${reason}`)
      this.emit({ kind: 'connectFailed', sensor: address, reason })
      throw e
    }
  }

  /** Scanning shared by everyone who waits for a device (and the Scan resource): on while anyone needs it. */
  private async holdScan(): Promise<void> {
    this.scanHolders++
    if (this.scanHolders === 1) {
      this.scanStarting = this.adapter.startScan({ allowDuplicates: false }).finally(() => {
        this.scanStarting = undefined
      })
    }
    try {
      await this.scanStarting
    } catch (e) {
      this.releaseScan()
      throw e
    }
  }

  private releaseScan(): void {
    this.scanHolders = Math.max(0, this.scanHolders - 1)
    if (this.scanHolders === 0 && !this.stopped) this.adapter.stopScan().catch((e: unknown) => this.log('warn', `stop scanning: ${(e as Error).message}`))
  }

  private async waitForAdvertisement(id: string, timeoutMs: number): Promise<DiscoveredDevice> {
    let off: (() => void) | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    const seen = new Promise<DiscoveredDevice>((resolve, reject) => {
      off = this.adapter.on('discover', (d) => {
        if (d.id === id) resolve(d)
      })
      timer = setTimeout(() => reject(new Error(`${id} did not advertise within ${timeoutMs} ms`)), timeoutMs)
    })
    seen.catch(() => undefined)
    try {
      await this.holdScan()
    } catch (e) {
      off?.()
      clearTimeout(timer)
      throw e
    }
    try {
      return this.adapter.discoveredDevices().find((d) => d.id === id) ?? (await seen)
    } finally {
      off?.()
      clearTimeout(timer)
      this.releaseScan()
    }
  }

  async disconnectSensor(address: string): Promise<void> {
    await this.adapter.disconnect(toDeviceId(address))
  }

  /** De-register, disconnect every sensor, close the adapter (and the radio the gateway created). */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    clearTimeout(this.scanTimer)
    clearTimeout(this.discoveredTimer)
    this.links.stop()
    // A stop during start: the client must have opened first, or its registration would outlive the stop.
    await this.clientStarting?.catch(() => undefined)
    await this.client.stop()
    await this.twins.close()
    for (const off of this.offs.splice(0)) off()
    await this.adapter.close()
    for (const s of this.simulatedSensors) s.dispose()
    if (this.ownsRadio) await this.radio?.close()
  }

  // ---- the gateway's own objects --------------------------------------------------------------------------------

  private gatewayPath(resourceId: number): Lwm2mPath {
    return makePath([BLE_GATEWAY_OBJECT_ID, 0, resourceId])
  }

  private installObjects(): void {
    const exec = (fn: (args: string) => Promise<void> | void): ResourceHandler => ({ execute: (args) => fn(args) })
    this.client.addObject(BLE_GATEWAY_MODEL, [{
      [GatewayResource.adapterState]: this.adapter.state,
      [GatewayResource.scanning]: false,
      [GatewayResource.scan]: exec((args) => this.executeScan(args)),
      [GatewayResource.stopScan]: exec(() => this.executeStopScan()),
      [GatewayResource.connect]: exec((args) => this.executeConnect(args)),
      [GatewayResource.disconnect]: exec((args) => this.executeDisconnect(args)),
      [GatewayResource.discoveredDevices]: [],
      [GatewayResource.connectedSensors]: [],
      [GatewayResource.twinObjects]: [],
      [GatewayResource.twinDefinitions]: new Map(),
      [GatewayResource.freeObjectIds]: this.pool.free,
      [GatewayResource.lastEvent]: this.lastEvent,
    }], { creatable: false, deletable: false })
    this.client.addObject(BLE_LINK_MODEL, [], { creatable: false, deletable: false })
  }

  private executeScan(args: string): void {
    const arg = executeArgument(args)
    const seconds = arg === undefined ? 10 : Number(arg)
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) throw new OperationError('bad_request', `Scan takes a duration in seconds (0 < s ≤ 3600), not '${arg}'`)
    this.scanFor(seconds)
  }

  /** Scan for `seconds` (a scan in progress is prolonged), as the Scan resource does; throws OperationError when the adapter is not on. */
  scanFor(seconds: number): void {
    if (this.adapter.state !== 'poweredOn') throw new OperationError('unavailable', `cannot scan: the BLE adapter is ${this.adapter.state}`)
    if (this.scanTimer === undefined) this.holdScan().catch((e: unknown) => this.setLastEvent(`scan failed: ${(e as Error).message}`))
    clearTimeout(this.scanTimer)
    this.scanTimer = setTimeout(() => this.executeStopScan(), seconds * 1000)
    this.scanTimer.unref()
    this.setLastEvent(`scanning for ${seconds} s`)
  }

  /** Ends a scan started with {@link scanFor} (scans of pending connections go on). */
  stopScan(): void {
    this.executeStopScan()
  }

  private executeStopScan(): void {
    if (this.scanTimer === undefined) return
    clearTimeout(this.scanTimer)
    this.scanTimer = undefined
    this.releaseScan()
  }

  /** Execute answers at once; the connection (scan, connect, discovery, twins) follows and shows in Last Event. */
  private executeConnect(args: string): void {
    const address = this.addressArgument(args, 'Connect')
    if (this.adapter.state !== 'poweredOn') throw new OperationError('unavailable', `cannot connect: the BLE adapter is ${this.adapter.state}`)
    this.setLastEvent(`connecting ${address}`)
    this.connectSensor(address).catch(() => undefined)
  }

  private executeDisconnect(args: string): void {
    const address = this.addressArgument(args, 'Disconnect')
    if (!this.adapter.isConnected(toDeviceId(address))) throw new OperationError('not_found', `${address} is not connected`)
    this.disconnectSensor(address).catch((e: unknown) => this.setLastEvent(`disconnect ${address} failed: ${(e as Error).message}`))
  }

  private addressArgument(args: string, what: string): string {
    const arg = executeArgument(args)
    if (arg === undefined) throw new OperationError('bad_request', `${what} needs the sensor's address as argument: 0='c0:07:01:00:00:01'`)
    try {
      return sensorKey(arg)
    } catch (e) {
      throw new OperationError('bad_request', `${what}: ${(e as Error).message}`)
    }
  }

  private setLastEvent(text: string): void {
    this.lastEvent = text
    this.log('info', text)
    if (this.started && !this.stopped) this.client.setValue(this.gatewayPath(GatewayResource.lastEvent), text)
  }

  private scheduleDiscoveredUpdate(): void {
    if (this.discoveredTimer || this.stopped) return
    this.discoveredTimer = setTimeout(() => {
      this.discoveredTimer = undefined
      const list = this.adapter.discoveredDevices().map((d) => `${d.address};${d.name ?? ''};${d.rssi}`)
      this.client.setValue(this.gatewayPath(GatewayResource.discoveredDevices), list)
    }, 500)
    this.discoveredTimer.unref()
  }

  private refreshSensorLists(): void {
    if (this.stopped) return
    const connected = this.adapter.connectedDevices().map((d) => `${sensorKey(d.address, d.id)};${d.name ?? ''}`)
    this.client.setValue(this.gatewayPath(GatewayResource.connectedSensors), connected)
    const twins = this.twins.twins()
    const links: Objlnk[] = twins.map((t) => ({ objectId: t.objectId, instanceId: 0 }))
    this.client.setValue(this.gatewayPath(GatewayResource.twinObjects), links)
    this.client.setValue(this.gatewayPath(GatewayResource.twinDefinitions), new Map(twins.map((t) => [t.objectId, t.definition])))
    this.client.setValue(this.gatewayPath(GatewayResource.freeObjectIds), this.pool.free)
    for (const [sensorId, instanceId] of this.linkInstances) {
      const own = this.twins.twinsOf(sensorId).map((t) => ({ objectId: t.objectId, instanceId: 0 }))
      this.client.setValue(makePath([BLE_LINK_OBJECT_ID, instanceId, LinkResource.twinObjects]), own)
    }
  }

  private onSensorConnected(device: ConnectedDevice): void {
    const address = sensorKey(device.address, device.id)
    this.setLastEvent(`connected ${address}${device.name ? ` (${device.name})` : ''}`)
    this.links.connected(device.id, address, device.name ?? '')
    this.refreshSensorLists()
    this.emit({ kind: 'sensorConnected', sensor: address, name: device.name })
  }

  private onSensorDisconnected(event: DisconnectEvent): void {
    const snapshot = this.links.snapshot(event.id)
    const address = snapshot?.address ?? event.id
    this.setLastEvent(`disconnected ${address}: ${event.reasonText}${event.willReconnect ? ' (reconnecting)' : ''}`)
    this.links.disconnected(event.id)
    this.refreshSensorLists()
    this.emit({ kind: 'sensorDisconnected', sensor: address, reason: event.reasonText, willReconnect: event.willReconnect })
  }

  private onTwinEvent(event: TwinEvent): void {
    if (event.kind === 'serviceNotExposed') this.setLastEvent(event.reason)
    if (event.kind === 'discoveryFailed') this.setLastEvent(event.reason)
    if (event.kind === 'twinCreated' || event.kind === 'twinDeleted') this.refreshSensorLists()
    this.emit(event)
  }

  /** The sensor's BLE Link instance (created at its first connection, kept afterwards). */
  private showLink(snap: LinkSnapshot): void {
    if (this.stopped) return
    this.emit({ kind: 'link', snapshot: snap })
    const values: Record<number, Lwm2mValue> = {}
    Object.assign(values, {
      [LinkResource.address]: snap.address,
      [LinkResource.name]: snap.name,
      [LinkResource.connected]: snap.connected,
      [LinkResource.dropRatio]: snap.dropRatio,
      [LinkResource.notificationsPerSecond]: snap.notificationsPerSecond,
      [LinkResource.lastSeen]: Math.floor(snap.lastSeen / 1000),
      [LinkResource.receivedPackets]: snap.received,
      [LinkResource.lostPackets]: snap.lost,
    })
    if (snap.rssi !== undefined) values[LinkResource.rssi] = snap.rssi
    let instanceId = this.linkInstances.get(snap.sensorId)
    if (instanceId === undefined) {
      instanceId = this.pool.sensorIndex(snap.address)
      this.linkInstances.set(snap.sensorId, instanceId)
      this.client.tree.addInstance(BLE_LINK_OBJECT_ID, { ...values, [LinkResource.twinObjects]: [] }, instanceId)
      return
    }
    for (const [rid, value] of Object.entries(values)) this.client.setValue(makePath([BLE_LINK_OBJECT_ID, instanceId, Number(rid)]), value)
  }
}
