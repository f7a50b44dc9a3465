import { BleError } from '../ble/adapter/index.ts'
import type { LinkSettings } from '../ble/virtual/link-model.ts'
import type { SensorKind } from '../ble/virtual/sensors/index.ts'
import { BleLwm2mGateway } from '../gateway/gateway.ts'
import type { AdapterSpec, GatewayEvent, GatewayOptions } from '../gateway/gateway.ts'
import type { LinkSnapshot } from '../gateway/link-monitor.ts'
import { sensorKey } from '../gateway/object-id-pool.ts'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import type { ConnectedSensor, GatewayStatus, LocalGatewaySettings, VirtualLinkInput, VirtualSensor } from '../../shared/api/gateway-schemas.ts'
import { fail, ok, type ErrorCode, type Result } from '../../shared/api/result.ts'
import { Coalescer } from './coalescer.ts'
import type { PskCredentials } from '../coap/dtls-client-transport.ts'

/**
 * The console's own BLE–LwM2M gateway (issue 6): an optional BleLwm2mGateway registered to the console's embedded
 * server, started, stopped and restarted from the settings, and shown to the UI as one GatewayStatus — pushed as
 * `gateway` console events, coalesced to a few per second and sent at once when sensors or twins come and go.
 */

export interface LocalGatewayOptions {
  /** coap://HOST:PORT of the console's own server (coaps:// with `psk`). */
  readonly serverUri: string
  /** The DTLS PSK of a coaps serverUri. */
  readonly psk?: PskCredentials
  /** Where the gateway keeps its object ID mapping; undefined keeps it in memory. */
  readonly dataDir?: string
  /** Simulated sensors of the virtual radio (default: the gateway's, one ECG, one HR, one thermometer). */
  readonly virtualSensors?: readonly SensorKind[]
  /** Further gateway options (timeouts, link monitor periods). */
  readonly gateway?: Partial<GatewayOptions>
  /** Where the `gateway` events (and the gateway's log lines) go. */
  readonly emit: (event: ConsoleEvent) => void
  /** Least time between two coalesced status events (default 250 ms). */
  readonly minEventIntervalMs?: number
  /** How long an API connect waits for the sensor (default 10 s). */
  readonly connectTimeoutMs?: number
}

function isLoopbackAddress(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || /^::ffff:127\./i.test(address)
}

/** Adapter states that will not get better by waiting: the gateway is stopped and the state becomes its error. */
const DEAD_ADAPTER = /^(unavailable|unsupported|unauthorized)/

/** Gateway events that change what the UI must show at once (others are coalesced). */
function isUrgent(event: GatewayEvent): boolean {
  switch (event.kind) {
    case 'sensorConnected':
    case 'sensorDisconnected':
    case 'connectFailed':
    case 'twinCreated':
    case 'twinDeleted':
    case 'adapterState':
      return true
    case 'client':
      return event.event.kind === 'registered' || event.event.kind === 'deregistered' || event.event.kind === 'registrationFailed'
    default:
      return false
  }
}

/** The BLE error's kind as an API error code. */
function bleErrorCode(e: unknown): ErrorCode {
  if (!(e instanceof BleError)) return 'unreachable'
  if (e.code === 'timeout') return 'timeout'
  if (e.code === 'unavailable' || e.code === 'closed') return 'unavailable'
  if (e.code === 'invalid') return 'invalid_input'
  return 'unreachable'
}

/** Link-layer retries of a notification when they are on: the link model's most, as close as it gets to real BLE's "until the supervision timeout". */
const LINK_LAYER_RETRIES = 255

/**
 * The demo's simulated links retry notifications at the link layer, as real BLE links do, so interference costs
 * capacity and loss grows with the sampling rate: the adaptive sampling settles where the link carries the stream
 * instead of walking down to its minimum. The capacity stays the radio's default (7.5 ms × 4 PDUs ≈ 533
 * notifications/s), above the control's 500 Hz maximum on a clean link (and `bench chart` streams 500 Hz on it); with
 * retries interference alone limits it, to about 200/s at 0.2, 130/s at 0.5 and 60/s at 0.7.
 */
export const DEMO_VIRTUAL_LINK: Readonly<Partial<LinkSettings>> = { retransmissions: LINK_LAYER_RETRIES }

/** Short ids per simulated sensor: the kind, numbered from the second of a kind on (`ecg`, `hr`, `ecg2`). */
function virtualIds(kinds: readonly string[]): string[] {
  const counts = new Map<string, number>()
  return kinds.map((kind) => {
    const n = (counts.get(kind) ?? 0) + 1
    counts.set(kind, n)
    return n === 1 ? kind : `${kind}${n}`
  })
}

export class LocalGateway {
  private readonly opts: LocalGatewayOptions
  private settings: LocalGatewaySettings
  private gateway: BleLwm2mGateway | undefined
  private starting: Promise<void> = Promise.resolve()
  /** Restarts run one after the other. */
  private queue: Promise<void> = Promise.resolve()
  private error: string | undefined
  private adapterState = 'off'
  /** Sensors that dropped and that the adapter reconnects: still listed, as not connected. */
  private readonly reconnecting = new Set<string>()
  private offs: Array<() => void> = []
  private readonly events: Coalescer
  private closed = false

  constructor(settings: LocalGatewaySettings, options: LocalGatewayOptions) {
    this.settings = settings
    this.opts = options
    this.events = new Coalescer(() => options.emit({ kind: 'gateway', time: Date.now(), status: this.status() }), options.minEventIntervalMs ?? 250)
  }

  /**
   * Whether a plain-CoAP registration as `endpoint` from `peer` is this gateway's own: its endpoint name, from
   * loopback, from the very UDP port its client opened. No other process can send from that port while the
   * gateway holds it, so the console lets its own gateway in whatever its NoSec policy says.
   */
  isOwnSession(endpoint: string, peer: { address: string; port: number }): boolean {
    const g = this.gateway
    return g !== undefined && g.endpoint === endpoint && isLoopbackAddress(peer.address) && g.client.localPort === peer.port
  }

  /** The running gateway, if any (tests, the Electron shell's diagnostics). */
  get current(): BleLwm2mGateway | undefined {
    return this.gateway
  }

  /**
   * Stop the running gateway (it de-registers) and start one with these settings when they enable it. Resolves once
   * the new one has begun starting; {@link whenStarted} follows the rest (adapter, auto-connected sensors).
   */
  apply(settings: LocalGatewaySettings): Promise<void> {
    return this.enqueue(() => this.restart(settings))
  }

  /** Starts and stops take turns, so that two never work on one gateway. */
  private enqueue(op: () => Promise<void>): Promise<void> {
    const next = this.queue.then(op)
    this.queue = next.catch(() => undefined)
    return next
  }

  /** Resolves when the current start has finished (sensors of the virtual radio connected) or failed. */
  async whenStarted(): Promise<void> {
    await this.queue
    await this.starting
  }

  /** Stop for good (the console closes): the gateway de-registers. */
  async close(): Promise<void> {
    this.closed = true
    this.events.cancel()
    await this.enqueue(() => this.stopGateway())
  }

  private async restart(settings: LocalGatewaySettings): Promise<void> {
    await this.stopGateway()
    this.settings = settings
    this.error = undefined
    this.adapterState = settings.enabled ? 'unknown' : 'off'
    if (this.closed || !settings.enabled) {
      this.changed(true)
      return
    }
    let gateway: BleLwm2mGateway
    try {
      gateway = new BleLwm2mGateway({
        ...this.opts.gateway,
        ...(this.opts.psk ? { client: { ...this.opts.gateway?.client, psk: this.opts.psk } } : {}),
        serverUri: this.opts.serverUri,
        endpoint: settings.endpoint,
        adapter: settings.adapter as AdapterSpec,
        ...(this.opts.dataDir !== undefined ? { dataDir: this.opts.dataDir } : {}),
        ...(this.opts.virtualSensors ? { virtualSensors: this.opts.virtualSensors } : {}),
        virtualLink: { ...DEMO_VIRTUAL_LINK, ...this.opts.gateway?.virtualLink },
      })
    } catch (e) {
      this.error = `the local gateway cannot start: ${(e as Error).message}`
      this.changed(true)
      return
    }
    this.gateway = gateway
    this.follow(gateway)
    this.starting = gateway.start().then(
      () => (DEAD_ADAPTER.test(gateway.adapter.state) ? this.failed(gateway, `BLE adapter ${settings.adapter}: ${gateway.adapter.state}`) : undefined),
      (e: unknown) => this.failed(gateway, `the local gateway failed to start: ${(e as Error).message}`),
    )
    this.changed(true)
  }

  private failed(gateway: BleLwm2mGateway, reason: string): Promise<void> {
    return this.enqueue(async () => {
      if (this.gateway !== gateway) return
      this.log('error', reason)
      this.error = reason
      await this.stopGateway()
    })
  }

  private async stopGateway(): Promise<void> {
    const gateway = this.gateway
    if (!gateway) return
    this.gateway = undefined
    // What the adapter was: the status shows it (and not 'closed') while the gateway is down.
    this.adapterState = this.settings.enabled ? gateway.adapter.state : 'off'
    try {
      await gateway.stop()
    } catch (e) {
      this.log('warn', `stopping the local gateway: ${(e as Error).message}`)
    }
    for (const off of this.offs.splice(0)) off()
    this.reconnecting.clear()
    this.changed(true)
  }

  private follow(gateway: BleLwm2mGateway): void {
    this.offs.push(gateway.onEvent((event) => {
      if (event.kind === 'log') this.log(event.level, event.message)
      if (event.kind === 'sensorConnected') this.reconnecting.delete(event.sensor)
      if (event.kind === 'sensorDisconnected') {
        if (event.willReconnect) this.reconnecting.add(event.sensor)
        else this.reconnecting.delete(event.sensor)
      }
      if (event.kind !== 'log') this.changed(isUrgent(event))
    }))
    // Scan results and the scanning flag are the adapter's own news.
    for (const name of ['discover', 'scanStart', 'scanStop'] as const) this.offs.push(gateway.adapter.on(name, () => this.changed(false)))
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.opts.emit({ kind: 'log', time: Date.now(), level, message: `local gateway: ${message}` })
  }

  /** Something the status shows changed: an event at once when urgent, else at most one per interval. */
  private changed(urgent: boolean): void {
    if (!this.closed || urgent) this.events.changed(urgent)
  }

  // ---- the status ----------------------------------------------------------------------------------------------

  status(): GatewayStatus {
    const g = this.gateway
    const common = { adapter: this.settings.adapter, ...(this.error !== undefined ? { error: this.error } : {}) }
    if (!g) {
      return { running: false, endpoint: this.settings.endpoint, ...common, adapterState: this.adapterState, registered: false, scanning: false, discovered: [], sensors: [] }
    }
    const virtualSensors = this.virtualSensors(g)
    return {
      running: true,
      endpoint: g.endpoint,
      ...common,
      adapterState: g.adapter.state,
      registered: g.client.state === 'registered',
      scanning: g.adapter.isScanning,
      discovered: g.adapter.discoveredDevices().map((d) => ({
        address: sensorKey(d.address, d.id), ...(d.name !== undefined ? { name: d.name } : {}), rssi: d.rssi, connectable: d.connectable, serviceUuids: d.serviceUuids, lastSeen: d.lastSeen,
      })),
      sensors: g.links.snapshots().filter((s) => s.connected || this.reconnecting.has(s.address)).map((s) => this.sensorOf(g, s)),
      ...(virtualSensors ? { virtualSensors } : {}),
    }
  }

  private sensorOf(g: BleLwm2mGateway, s: LinkSnapshot): ConnectedSensor {
    return {
      address: s.address,
      ...(s.name !== '' ? { name: s.name } : {}),
      connected: s.connected,
      ...(s.rssi !== undefined ? { rssi: s.rssi } : {}),
      dropRatio: s.dropRatio,
      notificationsPerSecond: s.notificationsPerSecond,
      lastSeen: s.lastSeen,
      twins: g.twins.twinsOf(s.sensorId).map((t) => ({ objectId: t.objectId, service: t.serviceUuid, name: t.serviceName })),
    }
  }

  private virtualSensors(g: BleLwm2mGateway): VirtualSensor[] | undefined {
    const radio = g.radio
    if (!radio) return undefined
    const sensors = g.simulatedSensors
    const ids = virtualIds(sensors.map((s) => s.kind))
    return sensors.flatMap((s, i) => {
      const p = radio.peripheral(s.address)
      return p ? [{ id: ids[i] as string, kind: s.kind, address: p.address, name: p.name, interference: p.link.interference, distanceM: p.link.distanceM, linkLayerRetries: p.link.retransmissions > 0 }] : []
    })
  }

  // ---- operations ----------------------------------------------------------------------------------------------

  private running(what: string): Result<BleLwm2mGateway> {
    if (this.gateway) return ok(this.gateway)
    return fail('unavailable', `cannot ${what}: the local gateway is not running${this.error ? ` (${this.error})` : this.settings.enabled ? '' : ' (it is off in the settings)'}`)
  }

  /** Scan for `seconds` (default 10); 0 ends a scan in progress. */
  scan(seconds = 10): Result<GatewayStatus> {
    const g = this.running('scan')
    if (!g.ok) return g
    try {
      if (seconds === 0) g.value.stopScan()
      else g.value.scanFor(seconds)
    } catch (e) {
      return fail('unavailable', (e as Error).message)
    }
    this.changed(true)
    return ok(this.status())
  }

  /** Connect a sensor (scanning until it advertises); resolves once the link is up, its twins follow. */
  async connect(address: string): Promise<Result<GatewayStatus>> {
    const g = this.running('connect')
    if (!g.ok) return g
    try {
      if (!g.value.adapter.isConnected(address)) await g.value.connectSensor(address, this.opts.connectTimeoutMs ?? 10_000)
    } catch (e) {
      return fail(bleErrorCode(e), `connect ${address}: ${(e as Error).message}`)
    }
    return ok(this.status())
  }

  /** Disconnect a sensor; resolves once its twins are gone. */
  async disconnect(address: string): Promise<Result<GatewayStatus>> {
    const g = this.running('disconnect')
    if (!g.ok) return g
    try {
      if (!g.value.adapter.isConnected(address)) return fail('not_found', `${address} is not connected to the local gateway`)
      await g.value.disconnectSensor(address)
      await g.value.twins.settled()
    } catch (e) {
      return fail(bleErrorCode(e), `disconnect ${address}: ${(e as Error).message}`)
    }
    return ok(this.status())
  }

  /** Degrade or restore a simulated sensor's link (interference, distance, link-layer retries), named by its short id (`ecg`) or its address. */
  setVirtualLink(input: VirtualLinkInput): Result<GatewayStatus> {
    const g = this.running('change a virtual link')
    if (!g.ok) return g
    const radio = g.value.radio
    if (!radio) return fail('unavailable', `the local gateway runs on adapter ${this.settings.adapter}, not on the virtual radio`)
    const wanted = input.sensor.toLowerCase()
    const known = this.virtualSensors(g.value) ?? []
    const sensor = known.find((s) => s.id === wanted) ?? known.find((s) => s.address.replace(/:/g, '') === wanted.replace(/[:-]/g, ''))
    if (!sensor) return fail('not_found', `no simulated sensor '${input.sensor}' on the virtual radio (there are ${known.map((s) => s.id).join(', ') || 'none'})`)
    try {
      radio.peripheral(sensor.address)?.setLink({
        ...(input.interference !== undefined ? { interference: input.interference } : {}),
        // The path-loss model needs a distance; 0 m means touching.
        ...(input.distanceM !== undefined ? { distanceM: Math.max(0.01, input.distanceM) } : {}),
        ...(input.linkLayerRetries !== undefined ? { retransmissions: input.linkLayerRetries ? LINK_LAYER_RETRIES : 0 } : {}),
      })
    } catch (e) {
      return fail('invalid_input', (e as Error).message)
    }
    this.changed(true)
    return ok(this.status())
  }
}
