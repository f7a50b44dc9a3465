import { setTimeout as sleep } from 'node:timers/promises'
import type { BleAdapter, ConnectedDevice, DisconnectEvent, GattTree } from '../ble/adapter/index.ts'
import { normalizeUuid } from '../../shared/ble/uuid.ts'
import { GAP_SERVICE_UUID, GATT_SERVICE_UUID } from '../../shared/ble/uuids.ts'
import type { ObjectModel } from '../../shared/lwm2m/object-model.ts'
import type { InstancesInit } from '../client/object-tree.ts'
import type { ObjectIdPool } from './object-id-pool.ts'
import { sensorKey } from './object-id-pool.ts'
import { ObjectTwin } from './object-twin.ts'
import type { SensorIdentity, TwinHost } from './object-twin.ts'

/**
 * Creates the ObjectTwins of a sensor when it connects and deletes them when it disconnects (REFERENCE.md §1,
 * Fig. 6): discover the GATT services, take an object ID per service from the pool, generate the object model,
 * add the object to the LwM2M client (which sends a registration Update), and the reverse on disconnect.
 */

/** The LwM2M client as the twin manager uses it (Lwm2mClient has these). */
export interface TwinClient extends TwinHost {
  addObject(model: ObjectModel, instances?: InstancesInit): void
  removeObject(objectId: number): boolean
}

export type TwinEvent =
  | { readonly kind: 'twinCreated'; readonly sensor: string; readonly objectId: number; readonly service: string; readonly name: string; readonly reused: boolean }
  | { readonly kind: 'twinDeleted'; readonly sensor: string; readonly objectId: number; readonly service: string; readonly reason: string }
  | { readonly kind: 'serviceNotExposed'; readonly sensor: string; readonly service: string; readonly reason: string }
  /**
   * GATT discovery of a connected sensor failed; `next` says what follows: another attempt after a pause, a fresh
   * link (the sensor is disconnected and the adapter reconnects it), or — after several fresh links — a disconnect
   * for good.
   */
  | { readonly kind: 'discoveryFailed'; readonly sensor: string; readonly reason: string; readonly attempt: number; readonly next: 'retry' | 'reconnect' | 'disconnect' }

export interface TwinManagerOptions {
  readonly adapter: BleAdapter
  readonly client: TwinClient
  readonly pool: ObjectIdPool
  /** Services never exposed (default: Generic Access 0x1800 and Generic Attribute 0x1801). */
  readonly skipServices?: readonly string[]
  readonly notifyReadTimeoutMs?: number
  readonly defaultPollMs?: number
  readonly onNotification?: (sensorId: string) => void
  readonly onSequence?: (sensorId: string, seq: number) => void
  readonly onEvent?: (event: TwinEvent) => void
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void
  /** Wall clock in ms with sub-millisecond resolution. */
  readonly nowMs?: () => number
  /** Pauses before each new GATT discovery attempt of a connection (default 0.5, 1 and 2 s: four attempts). */
  readonly discoveryRetryDelaysMs?: readonly number[]
  /** Connections in a row whose discovery failed before the sensor is disconnected for good (default 3). */
  readonly maxFailedDiscoveryLinks?: number
}

interface SensorState {
  readonly identity: SensorIdentity
  /** Bumped on every connect and disconnect: a discovery that finishes after the link changed is discarded. */
  generation: number
  twins: ObjectTwin[]
  /** Connections in a row on which every discovery attempt failed. */
  failedLinks: number
}

export const DEFAULT_SKIPPED_SERVICES: readonly string[] = [GAP_SERVICE_UUID, GATT_SERVICE_UUID]
export const DEFAULT_DISCOVERY_RETRY_DELAYS_MS: readonly number[] = [500, 1000, 2000]
const DEFAULT_MAX_FAILED_DISCOVERY_LINKS = 3

export class TwinManager {
  private readonly opts: TwinManagerOptions
  private readonly sensors = new Map<string, SensorState>()
  private readonly skip: Set<string>
  private readonly offs: Array<() => void> = []
  private readonly pending = new Set<Promise<void>>()
  /** Ends the pauses between discovery attempts when the manager closes. */
  private readonly closing = new AbortController()
  private closed = false

  constructor(options: TwinManagerOptions) {
    this.opts = options
    this.skip = new Set((options.skipServices ?? DEFAULT_SKIPPED_SERVICES).map((u) => normalizeUuid(u)))
  }

  /** Follow the adapter's connects and disconnects (including its own reconnects). */
  start(): void {
    if (this.offs.length > 0) return
    const { adapter } = this.opts
    this.offs.push(adapter.on('connect', (device) => this.track(this.onConnect(device))))
    this.offs.push(adapter.on('disconnect', (event) => this.track(this.onDisconnect(event))))
    // Sensors connected before the manager started.
    for (const device of adapter.connectedDevices()) this.track(this.onConnect(device))
  }

  private track(p: Promise<void>): void {
    this.pending.add(p)
    p.finally(() => this.pending.delete(p)).catch(() => undefined)
  }

  /** Resolves once every connect / disconnect seen so far is handled (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
  }

  twins(): ObjectTwin[] {
    return [...this.sensors.values()].flatMap((s) => s.twins)
  }

  twinsOf(sensorIdOrAddress: string): ObjectTwin[] {
    const id = sensorIdOrAddress.toLowerCase().replace(/[:-]/g, '')
    return this.sensors.get(id)?.twins ?? []
  }

  twin(objectId: number): ObjectTwin | undefined {
    return this.twins().find((t) => t.objectId === objectId)
  }

  /** The generated models of the twins exposed now (a console may add them to its registry to name them). */
  models(): ObjectModel[] {
    return this.twins().map((t) => t.model)
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.opts.log?.(level, message)
  }

  private emit(event: TwinEvent): void {
    try {
      this.opts.onEvent?.(event)
    } catch {
      // A listener's failure must not stop twins from being created or deleted.
    }
  }

  private async onConnect(device: ConnectedDevice): Promise<void> {
    if (this.closed) return
    const previous = this.sensors.get(device.id)
    // A connect without the disconnect before it (a reconnect the adapter did by itself): start over.
    if (previous && previous.twins.length > 0) await this.removeTwins(previous, 'the sensor connected again')
    const identity: SensorIdentity = { id: device.id, address: sensorKey(device.address, device.id), name: device.name ?? previous?.identity.name }
    const current: SensorState = { identity, generation: (previous?.generation ?? 0) + 1, twins: [], failedLinks: previous?.failedLinks ?? 0 }
    this.sensors.set(device.id, current)
    const generation = current.generation
    const tree = await this.discover(current)
    if (tree === undefined || current.generation !== generation || this.closed) return
    current.failedLinks = 0
    for (const problem of tree.problems) this.log('warn', `${identity.address}: ${problem}`)
    const ctx = {
      adapter: this.opts.adapter,
      host: this.opts.client,
      notifyReadTimeoutMs: this.opts.notifyReadTimeoutMs ?? 5000,
      defaultPollMs: this.opts.defaultPollMs ?? 1000,
      onNotification: this.opts.onNotification ?? (() => undefined),
      onSequence: this.opts.onSequence ?? (() => undefined),
      log: (level: 'info' | 'warn' | 'error', message: string) => this.log(level, message),
      nowMs: this.opts.nowMs ?? (() => performance.timeOrigin + performance.now()),
    }
    // Services of one UUID appearing twice on a sensor are told apart by their position.
    const seen = new Map<string, number>()
    for (const service of tree.services) {
      const uuid = normalizeUuid(service.uuid)
      if (this.skip.has(uuid)) continue
      const n = (seen.get(uuid) ?? 0) + 1
      seen.set(uuid, n)
      const key = n === 1 ? uuid : `${uuid}#${n}`
      const taken = this.opts.pool.acquire(identity.address, key)
      if (!taken.ok) {
        const reason = `service ${uuid} of ${identity.address} is not exposed: ${taken.reason}`
        this.log('warn', reason)
        this.emit({ kind: 'serviceNotExposed', sensor: identity.address, service: uuid, reason })
        continue
      }
      let twin: ObjectTwin
      try {
        twin = new ObjectTwin(taken.objectId, identity, service, ctx)
        this.opts.client.addObject(twin.model, [twin.instance()])
      } catch (e) {
        this.opts.pool.release(taken.objectId)
        const reason = `service ${uuid} of ${identity.address} is not exposed: ${(e as Error).message}`
        this.log('error', reason)
        this.emit({ kind: 'serviceNotExposed', sensor: identity.address, service: uuid, reason })
        continue
      }
      current.twins.push(twin)
      if (taken.reassignedFrom) this.log('info', `object ${taken.objectId} taken over from service ${taken.reassignedFrom.service} of ${taken.reassignedFrom.sensor} (least recently used)`)
      this.log('info', `twin /${twin.objectId} created: ${twin.description}`)
      this.emit({ kind: 'twinCreated', sensor: identity.address, objectId: twin.objectId, service: uuid, name: twin.model.name, reused: taken.reused })
    }
  }

  /**
   * GATT discovery with a few pauses and new attempts (an ATT error, a busy sensor); when every attempt fails the
   * link is dropped so that the adapter's reconnect policy brings a fresh one, and after several such links in a
   * row the sensor is disconnected for good. Undefined when discovery failed or the link changed meanwhile.
   */
  private async discover(sensor: SensorState): Promise<GattTree | undefined> {
    const { identity, generation } = sensor
    const delays = this.opts.discoveryRetryDelaysMs ?? DEFAULT_DISCOVERY_RETRY_DELAYS_MS
    const attempts = delays.length + 1
    const stale = (): boolean => sensor.generation !== generation || this.closed
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.opts.adapter.discover(identity.id)
      } catch (e) {
        // A link that went down is handled by its disconnect (and the adapter's reconnects).
        if (stale() || !this.opts.adapter.isConnected(identity.id)) return undefined
        const failure = `GATT discovery of ${identity.address} failed (attempt ${attempt} of ${attempts}): ${(e as Error).message}`
        const delay = delays[attempt - 1]
        if (delay !== undefined) {
          this.discoveryFailed(sensor, attempt, 'retry', `${failure}; trying again in ${delay} ms`)
          try {
            await sleep(delay, undefined, { signal: this.closing.signal })
          } catch {
            return undefined // closing
          }
          if (stale()) return undefined
          continue
        }
        sensor.failedLinks++
        const maxLinks = this.opts.maxFailedDiscoveryLinks ?? DEFAULT_MAX_FAILED_DISCOVERY_LINKS
        if (sensor.failedLinks >= maxLinks) {
          sensor.failedLinks = 0
          this.discoveryFailed(sensor, attempt, 'disconnect', `${failure}; failed on ${maxLinks} connections in a row: disconnecting ${identity.address} for good (connect it again to retry)`)
          await this.opts.adapter.disconnect(identity.id).catch(() => undefined)
        } else {
          this.discoveryFailed(sensor, attempt, 'reconnect', `${failure}; disconnecting ${identity.address} so that it is connected afresh`)
          await this.opts.adapter.reconnect(identity.id).catch(() => undefined)
        }
        return undefined
      }
    }
  }

  private discoveryFailed(sensor: SensorState, attempt: number, next: 'retry' | 'reconnect' | 'disconnect', reason: string): void {
    this.log(next === 'disconnect' ? 'error' : 'warn', reason)
    this.emit({ kind: 'discoveryFailed', sensor: sensor.identity.address, reason, attempt, next })
  }

  private async onDisconnect(event: DisconnectEvent): Promise<void> {
    const state = this.sensors.get(event.id)
    if (!state) return
    state.generation++
    await this.removeTwins(state, `the sensor disconnected: ${event.reasonText}`)
  }

  private async removeTwins(state: SensorState, reason: string): Promise<void> {
    const twins = state.twins
    state.twins = []
    // Out of the client first (the server hears it in one Update), then the BLE side is released.
    for (const twin of twins) {
      this.opts.client.removeObject(twin.objectId)
      this.opts.pool.release(twin.objectId)
      this.log('info', `twin /${twin.objectId} of ${state.identity.address} deleted: ${reason}`)
      this.emit({ kind: 'twinDeleted', sensor: state.identity.address, objectId: twin.objectId, service: twin.serviceUuid, reason })
    }
    await Promise.all(twins.map((t) => t.close()))
  }

  /** Stop following the adapter and delete every twin. */
  async close(): Promise<void> {
    this.closed = true
    this.closing.abort()
    for (const off of this.offs.splice(0)) off()
    await this.settled()
    for (const state of this.sensors.values()) {
      state.generation++
      await this.removeTwins(state, 'the gateway is stopping')
    }
  }
}
