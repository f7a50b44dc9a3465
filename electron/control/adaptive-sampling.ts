import { describeIssues } from '../../shared/api/console-api.ts'
import { z } from 'zod'
import {
  ControlSettings, DEFAULT_CONTROL_SETTINGS, START_RATE_HZ, type ConfigureControlInput, type ControlLoopStatus, type ControlStatus,
} from '../../shared/api/control-schemas.ts'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import { fail, ok, type Result } from '../../shared/api/result.ts'
import type { Attributes, ClientInfo, DmResult, RecordJson } from '../../shared/api/schemas.ts'
import { ecgTwinFromDescription, ecgTwinOf, type EcgTwin } from '../../shared/lwm2m/ecg-twin.ts'
import { BLE_LINK_OBJECT_ID, LinkResource } from '../../shared/lwm2m/models/objecttwin.ts'
import type { ObjectModel } from '../../shared/lwm2m/object-model.ts'
import { clampRate, decideRate, windowDropRatio, type PacketCounts } from './sampling-rule.ts'

/**
 * The paper's backend application (REFERENCE.md §1, Fig. 10b) for any ObjectTwin gateway registered to the console:
 * for each ECG twin, observe its sensor's BLE Link instance (33001) and, once per window, lower the twin's sampling
 * rate by a step when the packet drop ratio exceeded the threshold and raise it by a step when it stayed below.
 * Everything goes through LwM2M like any other operation (observe, read, write), and every decision is a `control`
 * event. A failed operation is logged and tried again the next window; a window without packets decides nothing.
 */

/** What the controller uses of the console: its LwM2M server's operations and events, and the settings store. */
export interface ControlBackend {
  onEvent(listener: (event: ConsoleEvent) => void): () => void
  listClients(): readonly ClientInfo[]
  getClient(endpoint: string): ClientInfo | undefined
  /** The models of a client's objects (built-in, and those its gateway published); waits for ones being learned. */
  models(endpoint: string): Promise<readonly ObjectModel[] | undefined>
  read(endpoint: string, path: string): Promise<Result<DmResult>>
  write(endpoint: string, path: string, value: number): Promise<Result<DmResult>>
  observe(endpoint: string, path: string, attributes: Attributes): Promise<Result<DmResult & { observationId?: string }>>
  /** Whether the server still holds this observation (a new registration or a cancel from elsewhere ends it). */
  hasObservation(endpoint: string, observationId: string): boolean
  cancelObservation(observationId: string, active: boolean): Promise<void>
  emit(event: ConsoleEvent): void
  /** Per-device settings kept across restarts; without them they live in memory. */
  loadSettings?(): Record<string, ControlSettings> | undefined
  saveSettings?(all: Record<string, ControlSettings>): void
}

export interface AdaptiveSamplingOptions {
  /** Settings of devices not configured yet (default DEFAULT_CONTROL_SETTINGS). */
  readonly defaults?: Partial<ControlSettings>
  readonly now?: () => number
}

/** The stored form: the settings of each configured device. */
export const StoredControlSettings = z.record(z.string(), ControlSettings)

const LINK_RESOURCES = {
  [LinkResource.address]: 'address',
  [LinkResource.connected]: 'connected',
  [LinkResource.dropRatio]: 'dropRatio',
  [LinkResource.receivedPackets]: 'received',
  [LinkResource.lostPackets]: 'lost',
} as const

/** What one notification of a BLE Link instance says. */
interface LinkReading {
  connected?: boolean
  dropRatio?: number
  received?: number
  lost?: number
}

function readingOf(records: readonly RecordJson[], linkPath: string): LinkReading {
  const reading: LinkReading = {}
  for (const r of records) {
    if (!r.path.startsWith(`${linkPath}/`)) continue
    const field = LINK_RESOURCES[Number(r.path.slice(linkPath.length + 1)) as keyof typeof LINK_RESOURCES]
    if (field === 'connected' && typeof r.value === 'boolean') reading.connected = r.value
    else if ((field === 'dropRatio' || field === 'received' || field === 'lost') && typeof r.value === 'number') reading[field] = r.value
  }
  return reading
}

function countsOf(reading: LinkReading): PacketCounts | undefined {
  return reading.received !== undefined && reading.lost !== undefined ? { received: reading.received, lost: reading.lost } : undefined
}

function dmFailure(what: string, result: Result<DmResult>): string | undefined {
  if (!result.ok) return `${what}: ${result.error.message}`
  if (!result.value.success) return `${what}: ${result.value.code}${result.value.diagnostic ? ` ${result.value.diagnostic}` : ''}`
  return undefined
}

/** The control of one ECG twin: its measurement window, its link observation, its decisions. */
class ControlLoop {
  readonly endpoint: string
  readonly path: string
  readonly sensor: string | undefined
  readonly linkPath: string | undefined
  rate: number | undefined
  dropRatio: number | undefined
  lastDecisionAt: number | undefined
  error: string | undefined
  observationId: string | undefined
  private readonly controller: AdaptiveSamplingController
  private readonly backend: ControlBackend
  private timer: ReturnType<typeof setInterval> | undefined
  /** The latest link reading of the current window (undefined: no notification yet). */
  private latest: LinkReading | undefined
  /** The packet counters at the end of the last window (where the next window's count starts). */
  private baseline: PacketCounts | undefined
  /** The start rate has been written. */
  private started = false
  private busy = false
  private running = false
  /** Counts starts and stops: work begun before the last one sees it is stale. */
  private generation = 0

  constructor(controller: AdaptiveSamplingController, backend: ControlBackend, endpoint: string, path: string, sensor: string | undefined, linkPath: string | undefined) {
    this.controller = controller
    this.backend = backend
    this.endpoint = endpoint
    this.path = path
    this.sensor = sensor
    this.linkPath = linkPath
  }

  get state(): ControlLoopStatus['state'] {
    return this.linkPath === undefined ? 'no-link' : this.running ? 'running' : 'off'
  }

  status(): ControlLoopStatus {
    return {
      path: this.path,
      state: this.state,
      ...(this.sensor !== undefined ? { sensor: this.sensor } : {}),
      ...(this.linkPath !== undefined ? { linkPath: this.linkPath } : {}),
      ...(this.rate !== undefined ? { rate: this.rate } : {}),
      ...(this.dropRatio !== undefined ? { dropRatio: this.dropRatio } : {}),
      ...(this.lastDecisionAt !== undefined ? { lastDecisionAt: this.lastDecisionAt } : {}),
      ...(this.error !== undefined ? { error: this.error } : {}),
    }
  }

  /** Observe the link and write the start rate now, then decide once per window. */
  start(): void {
    if (this.running || this.linkPath === undefined) return
    this.running = true
    this.generation++
    this.started = false
    this.timer = setInterval(() => void this.tick(), this.settings().windowS * 1000)
    this.timer.unref()
    void this.tick()
  }

  /** A new window length: a new timer, and the link observed again with its pmax. */
  restartWindow(): void {
    if (!this.running) return
    clearInterval(this.timer)
    this.timer = setInterval(() => void this.tick(), this.settings().windowS * 1000)
    this.timer.unref()
    void this.dropObservation(true)
  }

  async stop(active: boolean): Promise<void> {
    this.running = false
    this.generation++
    clearInterval(this.timer)
    this.timer = undefined
    await this.dropObservation(active)
  }

  /** A notification of the observed link instance. */
  onLink(records: readonly RecordJson[]): void {
    if (this.linkPath === undefined) return
    this.latest = { ...this.latest, ...readingOf(records, this.linkPath) }
  }

  private settings(): ControlSettings {
    return this.controller.settingsOf(this.endpoint)
  }

  private async dropObservation(active: boolean): Promise<void> {
    const id = this.observationId
    this.observationId = undefined
    this.controller.forgetObservation(id)
    if (id !== undefined) await this.backend.cancelObservation(id, active)
  }

  private failed(message: string): void {
    this.error = message
    this.backend.emit({ kind: 'log', time: this.controller.now(), level: 'warn', message: `adaptive sampling of ${this.path} on ${this.endpoint}: ${message}; trying again next window` })
  }

  /** One window: (re)establish what is missing, else measure and decide. Overlapping windows are skipped. */
  private async tick(): Promise<void> {
    if (this.busy || !this.running) return
    this.busy = true
    const generation = this.generation
    try {
      if (this.observationId === undefined || !this.backend.hasObservation(this.endpoint, this.observationId)) await this.observeLink(generation)
      else if (!this.started) await this.writeStartRate(generation)
      else await this.decide(generation)
    } finally {
      this.busy = false
    }
  }

  /** Still the run that began the work (not stopped, or stopped and started again, meanwhile). */
  private current(generation: number): boolean {
    return this.running && generation === this.generation
  }

  private async observeLink(generation: number): Promise<void> {
    const linkPath = this.linkPath as string
    // pmax: at least one reading per window even when nothing changed.
    const result = await this.backend.observe(this.endpoint, linkPath, { pmax: this.settings().windowS })
    if (!this.current(generation)) {
      if (result.ok && result.value.observationId) await this.backend.cancelObservation(result.value.observationId, true)
      return
    }
    const failure = dmFailure(`observing ${linkPath}`, result)
    if (failure !== undefined || !result.ok || result.value.observationId === undefined) return this.failed(failure ?? `observing ${linkPath}: no observation`)
    this.observationId = result.value.observationId
    this.controller.trackObservation(result.value.observationId, this)
    const first = readingOf(result.value.records ?? [], linkPath)
    this.baseline = countsOf(first)
    this.latest = undefined
    this.error = undefined
    if (!this.started) await this.writeStartRate(generation)
  }

  private async writeStartRate(generation: number): Promise<void> {
    const settings = this.settings()
    const rate = clampRate(START_RATE_HZ, settings)
    const failure = dmFailure(`writing the start rate ${rate} Hz`, await this.backend.write(this.endpoint, this.path, rate))
    if (!this.current(generation)) return
    if (failure !== undefined) return this.failed(failure)
    this.started = true
    this.rate = rate
    this.error = undefined
    // Packets counted before the start rate are not this rate's: the first window starts now.
    this.latest = undefined
    this.baseline = undefined
    this.backend.emit({ kind: 'log', time: this.controller.now(), level: 'info', message: `adaptive sampling of ${this.path} on ${this.endpoint} started at ${rate} Hz (sensor ${this.sensor ?? '?'}, link ${this.linkPath}, window ${settings.windowS} s, threshold ${settings.threshold}, step ${settings.step} Hz, ${settings.minRate}..${settings.maxRate} Hz)` })
  }

  /**
   * The drop ratio of this window: from the link's packet counters, over exactly the packets counted since the last
   * window (the gateway's own ratio covers its window, which need not line up with ours); from its Packet Drop
   * Ratio when it has no counters. Undefined when the window had no data.
   */
  private measure(reading: LinkReading): number | undefined {
    const counts = countsOf(reading)
    if (counts === undefined) return reading.dropRatio
    const before = this.baseline
    this.baseline = counts
    return before === undefined ? undefined : windowDropRatio(before, counts)
  }

  private async decide(generation: number): Promise<void> {
    const reading = this.latest
    this.latest = undefined
    if (reading === undefined || reading.connected === false) return
    const dropRatio = this.measure(reading)
    if (dropRatio === undefined) return
    this.dropRatio = dropRatio
    // The rate in force, read back: someone else may have written it since our last decision.
    const read = await this.backend.read(this.endpoint, this.path)
    const readFailure = dmFailure(`reading ${this.path}`, read)
    const value = read.ok ? read.value.records?.find((r) => r.path === this.path)?.value : undefined
    if (!this.current(generation)) return
    if (readFailure !== undefined || typeof value !== 'number') return this.failed(readFailure ?? `reading ${this.path}: no number in the answer`)
    const settings = this.settings()
    const { newRate } = decideRate(dropRatio, value, settings)
    if (newRate !== value) {
      const failure = dmFailure(`writing ${newRate} Hz`, await this.backend.write(this.endpoint, this.path, newRate))
      if (!this.current(generation)) return
      if (failure !== undefined) {
        this.rate = value
        return this.failed(failure)
      }
    }
    const time = this.controller.now()
    this.rate = newRate
    this.lastDecisionAt = time
    this.error = undefined
    this.backend.emit({ kind: 'control', time, endpoint: this.endpoint, path: this.path, dropRatio, oldRate: value, newRate })
  }
}

interface Device {
  /** By sampling-rate path. */
  readonly loops: Map<string, ControlLoop>
  syncing: Promise<void> | undefined
  syncAgain: boolean
  /** The last sync read all it needed (else the next registration update tries again). */
  synced: boolean
}

/** The adaptive sampling control of every registered gateway's ECG twins. */
export class AdaptiveSamplingController {
  private readonly backend: ControlBackend
  private readonly defaults: ControlSettings
  private readonly configured = new Map<string, ControlSettings>()
  private readonly devices = new Map<string, Device>()
  private readonly byObservation = new Map<string, ControlLoop>()
  private unsubscribe: (() => void) | undefined
  private closed = false
  readonly now: () => number

  constructor(backend: ControlBackend, options: AdaptiveSamplingOptions = {}) {
    this.backend = backend
    this.defaults = ControlSettings.parse({ ...DEFAULT_CONTROL_SETTINGS, ...options.defaults })
    this.now = options.now ?? Date.now
    for (const [endpoint, settings] of Object.entries(backend.loadSettings?.() ?? {})) this.configured.set(endpoint, settings)
  }

  /** Follow registrations from now on, and take up the clients registered already. */
  start(): void {
    if (this.unsubscribe || this.closed) return
    this.unsubscribe = this.backend.onEvent((e) => this.onEvent(e))
    for (const client of this.backend.listClients()) this.sync(client.endpoint)
  }

  async close(): Promise<void> {
    this.closed = true
    this.unsubscribe?.()
    this.unsubscribe = undefined
    const loops = [...this.devices.values()].flatMap((d) => [...d.loops.values()])
    this.devices.clear()
    await Promise.all(loops.map((l) => l.stop(false)))
  }

  settingsOf(endpoint: string): ControlSettings {
    return this.configured.get(endpoint) ?? this.defaults
  }

  status(endpoint: string): ControlStatus {
    const loops = [...(this.devices.get(endpoint)?.loops.values() ?? [])].map((l) => l.status())
    return { endpoint, settings: this.settingsOf(endpoint), configured: this.configured.has(endpoint), loops }
  }

  /** Change a device's settings (kept for it even before it registers); running loops follow at once. */
  configure(input: ConfigureControlInput): Result<ControlStatus> {
    const { endpoint, ...given } = input
    const before = this.settingsOf(endpoint)
    const parsed = ControlSettings.safeParse({ ...before, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) })
    if (!parsed.success) return fail('invalid_input', describeIssues(parsed.error))
    const next = parsed.data
    this.configured.set(endpoint, next)
    this.backend.saveSettings?.(Object.fromEntries(this.configured))
    const device = this.devices.get(endpoint)
    if (device) {
      for (const loop of device.loops.values()) {
        if (!next.enabled) void loop.stop(true)
        else if (!before.enabled) loop.start()
        else if (next.windowS !== before.windowS) loop.restartWindow()
      }
    }
    return ok(this.status(endpoint))
  }

  /** @internal (ControlLoop) */
  trackObservation(id: string, loop: ControlLoop): void {
    this.byObservation.set(id, loop)
  }

  /** @internal (ControlLoop) */
  forgetObservation(id: string | undefined): void {
    if (id !== undefined) this.byObservation.delete(id)
  }

  private onEvent(e: ConsoleEvent): void {
    switch (e.kind) {
      case 'notification':
        this.byObservation.get(e.observationId)?.onLink(e.records)
        return
      case 'registered':
        // A new registration starts afresh (the gateway may have restarted): every loop anew, from the start rate.
        void this.drop(e.client.endpoint).then(() => this.sync(e.client.endpoint))
        return
      case 'updated':
        if (e.objectsChanged || !this.devices.get(e.client.endpoint)?.synced) this.sync(e.client.endpoint)
        return
      case 'deregistered':
      case 'expired':
        void this.drop(e.endpoint)
        return
      default:
    }
  }

  private async drop(endpoint: string): Promise<void> {
    const device = this.devices.get(endpoint)
    if (!device) return
    this.devices.delete(endpoint)
    device.syncAgain = false
    await Promise.all([...device.loops.values()].map((l) => l.stop(false)))
  }

  /** Bring a device's loops in line with its registration; calls during a run coalesce into one more run. */
  private sync(endpoint: string): void {
    if (this.closed) return
    let device = this.devices.get(endpoint)
    if (!device) {
      device = { loops: new Map(), syncing: undefined, syncAgain: false, synced: false }
      this.devices.set(endpoint, device)
    }
    if (device.syncing) {
      device.syncAgain = true
      return
    }
    const run = async (d: Device): Promise<void> => {
      do {
        d.syncAgain = false
        try {
          await this.syncOnce(endpoint, d)
        } catch (e) {
          this.backend.emit({ kind: 'log', time: this.now(), level: 'warn', message: `adaptive sampling on ${endpoint}: ${(e as Error).message}` })
        }
      } while (d.syncAgain && this.devices.get(endpoint) === d && !this.closed)
      d.syncing = undefined
    }
    // After the event that called it has been handled: the server starts learning the client's models right after
    // emitting it, and `models()` then waits for them.
    device.syncing = Promise.resolve().then(() => run(device))
  }

  private async syncOnce(endpoint: string, device: Device): Promise<void> {
    const client = this.backend.getClient(endpoint)
    if (!client) return
    // Only gateways with BLE Link objects say what the control measures; other clients cost no request at all.
    const hasLinks = client.objects.some((o) => o.objectId === BLE_LINK_OBJECT_ID && o.instances.length > 0)
    const { twins, complete } = hasLinks ? await this.ecgTwins(endpoint, client) : { twins: [], complete: true }
    const links = twins.length > 0 ? await this.linkInstances(endpoint) : new Map<string, number>()
    // Without the link list the loops stay as they are.
    if (links === undefined || this.devices.get(endpoint) !== device || this.closed) return
    device.synced = complete
    const wanted = new Map<string, { twin: EcgTwin; linkPath: string | undefined }>()
    for (const twin of twins) {
      const instance = client.objects.find((o) => o.objectId === twin.objectId)?.instances[0] ?? 0
      const link = twin.sensorAddress === undefined ? undefined : links.get(twin.sensorAddress)
      wanted.set(`/${twin.objectId}/${instance}/${twin.samplingRateResource}`, { twin, linkPath: link === undefined ? undefined : `/${BLE_LINK_OBJECT_ID}/${link}` })
    }
    // Changed without waiting in between, so that no drop of the device can come between the check above and here.
    const stopped: ControlLoop[] = []
    for (const [path, loop] of device.loops) {
      const want = wanted.get(path)
      if (want && want.linkPath === loop.linkPath) continue
      device.loops.delete(path)
      stopped.push(loop)
    }
    for (const [path, { twin, linkPath }] of wanted) {
      if (device.loops.has(path)) continue
      const loop = new ControlLoop(this, this.backend, endpoint, path, twin.sensorAddress, linkPath)
      device.loops.set(path, loop)
      if (this.settingsOf(endpoint).enabled) loop.start()
    }
    await Promise.all(stopped.map((l) => l.stop(true)))
  }

  /**
   * The client's ECG twins: from the models it published, else (no model) from their description in resource 0.
   * Not `complete` when such a read failed (a twin may have been missed).
   */
  private async ecgTwins(endpoint: string, client: ClientInfo): Promise<{ twins: EcgTwin[]; complete: boolean }> {
    const models = new Map((await this.backend.models(endpoint) ?? []).map((m) => [m.id, m]))
    const twins: EcgTwin[] = []
    let complete = true
    for (const o of client.objects) {
      const model = models.get(o.objectId)
      if (model) {
        const twin = ecgTwinOf(model)
        if (twin) twins.push(twin)
        continue
      }
      // Objects without a model: only dynamic ones can be twins (ids above the OMA range); their resource 0 says which.
      if (o.objectId < 1024) continue
      const read = await this.backend.read(endpoint, `/${o.objectId}/${o.instances[0] ?? 0}/0`)
      if (!read.ok) complete = false
      const value = read.ok && read.value.success ? read.value.records?.[0]?.value : undefined
      const twin = typeof value === 'string' ? ecgTwinFromDescription(o.objectId, value) : undefined
      if (twin) twins.push(twin)
    }
    return { twins, complete }
  }

  /** The client's BLE Link instances by sensor address (lowercase); undefined when they could not be read. */
  private async linkInstances(endpoint: string): Promise<Map<string, number> | undefined> {
    const links = new Map<string, number>()
    const read = await this.backend.read(endpoint, `/${BLE_LINK_OBJECT_ID}`)
    const failure = dmFailure(`reading /${BLE_LINK_OBJECT_ID}`, read)
    if (failure !== undefined) {
      this.backend.emit({ kind: 'log', time: this.now(), level: 'warn', message: `adaptive sampling on ${endpoint}: ${failure}` })
      return undefined
    }
    for (const r of (read.ok && read.value.records) || []) {
      const [, , instance, resource] = r.path.split('/')
      if (Number(resource) === LinkResource.address && typeof r.value === 'string') links.set(r.value.toLowerCase(), Number(instance))
    }
    return links
  }
}
