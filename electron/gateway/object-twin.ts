import type { BleAdapter, GattCharacteristic, GattService, Subscription } from '../ble/adapter/index.ts'
import { isBleError } from '../ble/adapter/index.ts'
import type { BleError } from '../ble/adapter/index.ts'
import { readEcgPayload } from '../../shared/ble/ecg-payload.ts'
import type { EcgPayload } from '../../shared/ble/ecg-payload.ts'
import { expandUuid } from '../../shared/ble/uuid.ts'
import { ddfXml } from '../../shared/lwm2m/ddf-writer.ts'
import { isCodecError } from '../../shared/lwm2m/errors.ts'
import { defineObject } from '../../shared/lwm2m/models/compact.ts'
import type { ResourceDef } from '../../shared/lwm2m/models/compact.ts'
import type { ObjectModel, Operations } from '../../shared/lwm2m/object-model.ts'
import { makePath } from '../../shared/lwm2m/path.ts'
import type { Lwm2mPath } from '../../shared/lwm2m/path.ts'
import type { Lwm2mValue, ResourceType } from '../../shared/lwm2m/values.ts'
import type { ResourceContent, ResourceHandler } from '../client/object-tree.ts'
import { OperationError } from '../client/operation-error.ts'
import { controlCommand, describeBytes, resolveCharacteristic, serviceName } from './characteristic-profiles.ts'
import type { ResolvedCharacteristic } from './characteristic-profiles.ts'

/**
 * An ObjectTwin (REFERENCE.md §1): the LwM2M object standing for one GATT service of a connected sensor. Resource
 * 0 describes the service; resource k (1, 2, …) stands for the k-th characteristic and holds only its access
 * parameters (sensor, UUID, properties, handle, data type). Every operation on it is a BLE operation: Read reads
 * the characteristic (or, without Read, waits for its next notification), Write writes it, Execute writes the
 * control command, Observe subscribes (or polls at pmin/pmax when it cannot notify). ECG notifications stream to
 * the server as timestamped samples, never one notification per sample.
 */

/** Resource ids of values derived from a characteristic (the RR intervals of 0x2A37): this offset + its resource id. */
export const DERIVED_RESOURCE_OFFSET = 1000

/** The access parameters of one characteristic: what the twin stores, and all it stores (paper: ~22 bytes). */
export interface TwinResource {
  readonly resourceId: number
  readonly uuid: string
  readonly properties: readonly string[]
  /** ATT value handle, when the bindings report it. */
  readonly handle: number | undefined
  readonly type: ResourceType
  readonly operations: Operations
  readonly codec: ResolvedCharacteristic
  readonly derivedResourceId?: number
}

/** What a twin needs from the LwM2M client (the gateway passes the client's object tree and stream API). */
export interface TwinHost {
  /** A handler-backed resource's value changed: observations of it notify (pmin, gt/lt/st permitting). */
  valueChanged(path: Lwm2mPath, value: ResourceContent): void
  /**
   * Timestamped values (seconds since the epoch) of a resource: the last becomes its value, and every one reaches
   * its observations (batched into SenML notifications where the format carries time).
   */
  pushSamples(path: Lwm2mPath, times: ArrayLike<number>, values: ArrayLike<number> | readonly Lwm2mValue[]): void
  /** pmin / pmax (s) that apply to an observation of the resource, for polling characteristics without notify. */
  observeAttributes?(path: Lwm2mPath): { pmin?: number; pmax?: number }
}

export interface TwinContext {
  readonly adapter: BleAdapter
  readonly host: TwinHost
  /** How long a read waits for a notify-only characteristic's next value, ms. */
  readonly notifyReadTimeoutMs: number
  /** Poll period of an observed characteristic without notify when no pmin/pmax says otherwise, ms. */
  readonly defaultPollMs: number
  /** Each notification of the sensor (link monitor: notifications/s, last seen). */
  readonly onNotification: (sensorId: string) => void
  /** Each ECG sequence number (link monitor: drop ratio). */
  readonly onSequence: (sensorId: string, seq: number) => void
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void
  /** Wall clock in ms with sub-millisecond resolution (arrival times of samples). */
  readonly nowMs: () => number
}

export interface SensorIdentity {
  /** noble's id (the address without colons). */
  readonly id: string
  readonly address: string
  readonly name: string | undefined
}

/** How long a subscription made for a read stays up, in case an observation follows. */
const SUBSCRIPTION_LINGER_MS = 1000

const READ_PROPS = ['read']
const NOTIFY_PROPS = ['notify', 'indicate']
const WRITE_PROPS = ['write', 'writeWithoutResponse']

function operationsOf(properties: readonly string[], codec: ResolvedCharacteristic): Operations {
  if (codec.control) return properties.some((p) => WRITE_PROPS.includes(p)) ? 'E' : ''
  const r = properties.some((p) => READ_PROPS.includes(p) || NOTIFY_PROPS.includes(p))
  const w = properties.some((p) => WRITE_PROPS.includes(p))
  return r && w ? 'RW' : r ? 'R' : w ? 'W' : ''
}

function hex4(n: number | undefined): string {
  return n === undefined ? '?' : `0x${n.toString(16).padStart(4, '0')}`
}

/** What a failed BLE operation means to the server: 5.04 for a timeout, 5.03 for a link that is not there, … */
export function bleOperationError(e: unknown, what: string): OperationError {
  if (e instanceof OperationError) return e
  if (!isBleError(e)) {
    if (isCodecError(e)) return new OperationError('bad_request', `${what}: ${e.message}`)
    return new OperationError('internal', `${what}: ${e instanceof Error ? e.message : String(e)}`)
  }
  const err: BleError = e
  switch (err.code) {
    case 'timeout': return new OperationError('gateway_timeout', `${what}: ${err.message}`)
    case 'not-found': return new OperationError('not_found', `${what}: ${err.message}`)
    case 'invalid': return new OperationError('bad_request', `${what}: ${err.message}`)
    case 'att-error': {
      const code = err.attError ?? 0
      if (code === 0x02 || code === 0x03 || code === 0x06) return new OperationError('not_allowed', `${what}: ${err.message}`)
      if (code === 0x05 || code === 0x08 || code === 0x0c || code === 0x0f) return new OperationError('unauthorized', `${what}: ${err.message}`)
      if (code === 0x0d || code === 0x13 || code === 0xff || (code >= 0x80 && code <= 0x9f)) return new OperationError('bad_request', `${what}: ${err.message}`)
      return new OperationError('unavailable', `${what}: ${err.message}`)
    }
    default: return new OperationError('unavailable', `${what}: ${err.message}`)
  }
}

/** One subscription per characteristic, shared by its resource, its derived resource and waiting reads. */
class CharacteristicChannel {
  private readonly twin: ObjectTwin
  readonly res: TwinResource
  private sub: Subscription | undefined
  private subscribing: Promise<void> | undefined
  private readonly observers = new Set<number>()
  private readonly waiters = new Set<(data: Buffer) => void>()
  private pollTimer: ReturnType<typeof setTimeout> | undefined
  private lingerTimer: ReturnType<typeof setTimeout> | undefined
  private polling = false
  /** ECG: the sensor clock's offset to the wall clock (ms), set by the first timestamped sample. */
  private clockOffsetMs: number | undefined
  private lastSensorMs = 0
  private wraps = 0
  private lastTimeS = 0
  private readonly payload: EcgPayload = { seq: 0, sample: 0, timestampMs: undefined }
  private readonly times = new Float64Array(1)
  private readonly values = new Float64Array(1)
  private readonly oneValue: Lwm2mValue[] = [0]
  private closed = false

  private readonly mainPath: Lwm2mPath

  constructor(twin: ObjectTwin, res: TwinResource) {
    this.twin = twin
    this.res = res
    this.mainPath = makePath([twin.objectId, 0, res.resourceId])
  }

  private get notifies(): boolean {
    return this.res.properties.some((p) => NOTIFY_PROPS.includes(p))
  }

  private path(resourceId = this.res.resourceId): Lwm2mPath {
    return resourceId === this.res.resourceId ? this.mainPath : makePath([this.twin.objectId, 0, resourceId])
  }

  /** A resource of this characteristic gained its first observation or lost its last. */
  async observe(resourceId: number, active: boolean): Promise<void> {
    if (active) this.observers.add(resourceId)
    else this.observers.delete(resourceId)
    if (this.notifies) {
      clearTimeout(this.lingerTimer)
      this.lingerTimer = undefined
      if (this.observers.size > 0 || this.waiters.size > 0) await this.ensureSubscribed()
      else await this.dropSubscription()
      return
    }
    // The Observe's own read just fetched a fresh value: the first poll is one period later.
    if (this.observers.size > 0) this.schedulePoll(this.pollPeriodMs())
    else this.stopPolling()
  }

  private async ensureSubscribed(): Promise<void> {
    if (this.sub || this.closed) return
    this.subscribing ??= (async () => {
      const t = this.twin
      try {
        const sub = await t.ctx.adapter.subscribe(t.sensor.id, t.serviceUuid, this.res.uuid, (data) => this.onData(data))
        // Closed meanwhile: nobody will drop it later.
        if (this.closed) await sub.unsubscribe().catch(() => undefined)
        else this.sub = sub
      } finally {
        this.subscribing = undefined
      }
    })()
    await this.subscribing
  }

  private async dropSubscription(): Promise<void> {
    if (this.subscribing) await this.subscribing.catch(() => undefined)
    const sub = this.sub
    this.sub = undefined
    if (!sub) return
    try {
      await sub.unsubscribe()
    } catch (e) {
      if (!this.closed) this.twin.ctx.log('warn', `unsubscribe ${this.twin.describeResource(this.res)}: ${(e as Error).message}`)
    }
  }

  /** The next notified value (a read of a notify-only characteristic). */
  async nextNotification(timeoutMs: number): Promise<Buffer> {
    let waiter: ((data: Buffer) => void) | undefined
    const next = new Promise<Buffer>((resolve) => {
      waiter = resolve
      this.waiters.add(resolve)
    })
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      await this.ensureSubscribed()
      return await new Promise<Buffer>((resolve, reject) => {
        timer = setTimeout(() => reject(new OperationError('gateway_timeout', `${this.twin.describeResource(this.res)} sent no notification within ${timeoutMs} ms`)), timeoutMs)
        next.then(resolve, reject)
      })
    } finally {
      clearTimeout(timer)
      if (waiter) this.waiters.delete(waiter)
      this.lingerThenDrop()
    }
  }

  /** After a read, keep the subscription a moment: an Observe reads first, then subscribes. */
  private lingerThenDrop(): void {
    if (this.observers.size > 0 || this.waiters.size > 0 || this.lingerTimer) return
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined
      if (this.observers.size === 0 && this.waiters.size === 0) void this.dropSubscription()
    }, SUBSCRIPTION_LINGER_MS)
    this.lingerTimer.unref()
  }

  /** Hot path: one notification of the characteristic. */
  private onData(data: Buffer): void {
    if (this.closed) return
    const t = this.twin
    t.ctx.onNotification(t.sensor.id)
    for (const w of this.waiters) w(data)
    this.waiters.clear()
    if (this.observers.size === 0) return
    const codec = this.res.codec
    if (codec.stream === 'ecg') {
      this.onEcg(data)
      return
    }
    let value: Lwm2mValue
    try {
      value = codec.decode(data)
    } catch (e) {
      t.ctx.log('warn', `${t.describeResource(this.res)}: notification ${describeBytes(data)} not understood: ${(e as Error).message}`)
      return
    }
    // Every notification is forwarded (Fig. 7), with its arrival time, even when the value did not change.
    this.times[0] = this.nextTime(t.ctx.nowMs())
    this.oneValue[0] = value
    t.ctx.host.pushSamples(this.mainPath, this.times, this.oneValue)
    if (this.res.derivedResourceId !== undefined && codec.derived) {
      try {
        const list = codec.derived.decode(data)
        t.ctx.host.valueChanged(this.path(this.res.derivedResourceId), new Map(list.map((v, i) => [i, v])))
      } catch {
        // The main value went out; a derived value the payload does not carry is simply not updated.
      }
    }
  }

  private onEcg(data: Buffer): void {
    const t = this.twin
    const p = this.payload
    try {
      readEcgPayload(data, p)
    } catch (e) {
      t.ctx.log('warn', `${t.describeResource(this.res)}: ${(e as Error).message}`)
      return
    }
    t.ctx.onSequence(t.sensor.id, p.seq)
    let ms: number
    if (p.timestampMs !== undefined) {
      // The sensor's clock (ms since its power-on, uint32) anchored to the wall clock at the first sample.
      if (this.clockOffsetMs === undefined) {
        this.clockOffsetMs = t.ctx.nowMs() - p.timestampMs
        this.lastSensorMs = p.timestampMs
        this.wraps = 0
      } else if (p.timestampMs < this.lastSensorMs - 0x80000000) {
        this.wraps++
      }
      this.lastSensorMs = p.timestampMs
      ms = this.clockOffsetMs + p.timestampMs + this.wraps * 0x100000000
    } else {
      this.clockOffsetMs = undefined
      ms = t.ctx.nowMs()
    }
    this.times[0] = this.nextTime(ms)
    this.values[0] = p.sample
    t.ctx.host.pushSamples(this.mainPath, this.times, this.values)
  }

  /** Seconds since the epoch, strictly increasing: two samples within the clock's resolution stay apart. */
  private nextTime(ms: number): number {
    let s = ms / 1000
    if (s <= this.lastTimeS) s = this.lastTimeS + 1e-6
    this.lastTimeS = s
    return s
  }

  private schedulePoll(delayMs: number): void {
    if (this.closed || this.pollTimer || this.observers.size === 0) return
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined
      void this.poll()
    }, delayMs)
    this.pollTimer.unref()
  }

  private pollPeriodMs(): number {
    const { pmin, pmax } = this.twin.ctx.host.observeAttributes?.(this.path()) ?? {}
    let ms = pmin !== undefined && pmin > 0 ? pmin * 1000 : this.twin.ctx.defaultPollMs
    if (pmax !== undefined && pmax > 0) ms = Math.min(ms, pmax * 1000)
    return Math.max(100, ms)
  }

  /** Fig. 7: read periodically; the tree reports a change only when the value differs. */
  private async poll(): Promise<void> {
    if (this.closed || this.polling || this.observers.size === 0) return
    this.polling = true
    try {
      const value = await this.twin.readValue(this.res)
      if (!this.closed && this.observers.size > 0) this.twin.ctx.host.valueChanged(this.path(), value)
    } catch (e) {
      if (!this.closed) this.twin.ctx.log('warn', `polling ${this.twin.describeResource(this.res)}: ${(e as Error).message}`)
    } finally {
      this.polling = false
      this.schedulePoll(this.pollPeriodMs())
    }
  }

  private stopPolling(): void {
    clearTimeout(this.pollTimer)
    this.pollTimer = undefined
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.lingerTimer)
    this.stopPolling()
    this.observers.clear()
    this.waiters.clear()
    await this.dropSubscription()
  }
}

export class ObjectTwin {
  readonly objectId: number
  readonly sensor: SensorIdentity
  readonly serviceUuid: string
  readonly serviceName: string
  readonly startHandle: number | undefined
  readonly endHandle: number | undefined
  readonly resources: readonly TwinResource[]
  readonly model: ObjectModel
  readonly ctx: TwinContext
  private ddf: string | undefined
  private readonly channels = new Map<number, CharacteristicChannel>()
  private closed = false

  constructor(objectId: number, sensor: SensorIdentity, service: GattService, ctx: TwinContext) {
    this.objectId = objectId
    this.sensor = sensor
    this.serviceUuid = service.uuid
    this.serviceName = serviceName(service.uuid)
    this.startHandle = service.startHandle
    this.endHandle = service.endHandle
    this.ctx = ctx
    const resources: TwinResource[] = []
    service.characteristics.forEach((c: GattCharacteristic, i) => {
      const codec = resolveCharacteristic(c)
      const operations = operationsOf(c.properties, codec)
      const resourceId = i + 1
      const derived = codec.derived && operations.includes('R') ? { derivedResourceId: DERIVED_RESOURCE_OFFSET + resourceId } : {}
      resources.push({ resourceId, uuid: c.uuid, properties: [...c.properties], handle: c.valueHandle, type: codec.control ? 'none' : codec.type, operations, codec, ...derived })
    })
    this.resources = resources
    for (const r of resources) this.channels.set(r.resourceId, new CharacteristicChannel(this, r))
    this.model = this.buildModel()
  }

  get label(): string {
    return this.sensor.name ?? this.sensor.address
  }

  /** Resource 0: what this twin stands for. */
  get description(): string {
    const handles = this.startHandle === undefined ? '' : `, handles ${hex4(this.startHandle)}..${hex4(this.endHandle)}`
    return `${this.serviceName} service ${expandUuid(this.serviceUuid)} of "${this.label}" (${this.sensor.address})${handles}`
  }

  describeResource(r: TwinResource): string {
    return `/${this.objectId}/0/${r.resourceId} (${r.codec.name}, ${expandUuid(r.uuid)} on ${this.sensor.address})`
  }

  /** The access parameters as text (also the resource's description in the generated model). */
  static accessParameters(r: TwinResource, sensorAddress: string): string {
    return `sensor ${sensorAddress}; uuid ${expandUuid(r.uuid)}; properties ${r.properties.join(',') || 'none'}; handle ${hex4(r.handle)}; type ${r.type} (${r.codec.source}). ${r.codec.description}`
  }

  private buildModel(): ObjectModel {
    const defs: ResourceDef[] = [[0, 'Service', 'R', 'string', { mandatory: true, description: `GATT service ${expandUuid(this.serviceUuid)}` }]]
    for (const r of this.resources) {
      const c = r.codec
      defs.push([r.resourceId, c.name, r.operations, r.type, {
        description: ObjectTwin.accessParameters(r, this.sensor.address),
        ...(c.units !== undefined ? { units: c.units } : {}),
        ...(c.range !== undefined ? { range: c.range } : {}),
      }])
      if (r.derivedResourceId !== undefined && c.derived) {
        const d = c.derived
        defs.push([r.derivedResourceId, d.name, 'R', d.type, {
          multiple: d.multiple, description: `${d.description ?? d.name}; derived from ${expandUuid(r.uuid)}`, ...(d.units !== undefined ? { units: d.units } : {}),
        }])
      }
    }
    return defineObject({ id: this.objectId, name: `${this.serviceName} (${this.label})`, description: this.description }, defs)
  }

  /** The generated model as a DDF file (what a server loads to name this twin's resources). */
  get definition(): string {
    this.ddf ??= ddfXml(this.model)
    return this.ddf
  }

  /** The instance the client serves: resource 0 a plain value, every characteristic handler-backed. */
  instance(): Record<number, Lwm2mValue | ResourceHandler> {
    const out: Record<number, Lwm2mValue | ResourceHandler> = { 0: this.description }
    for (const r of this.resources) {
      out[r.resourceId] = this.handlerFor(r)
      if (r.derivedResourceId !== undefined) out[r.derivedResourceId] = this.derivedHandler(r)
    }
    return out
  }

  private handlerFor(r: TwinResource): ResourceHandler {
    const handler: ResourceHandler = {}
    if (r.operations.includes('R')) {
      handler.read = () => this.readValue(r)
      handler.observe = (active) => this.channel(r).observe(r.resourceId, active)
    }
    if (r.operations.includes('W')) handler.write = (value) => this.writeValue(r, value)
    if (r.operations === 'E') handler.execute = (args) => this.executeControl(r, args)
    return handler
  }

  private derivedHandler(r: TwinResource): ResourceHandler {
    const id = r.derivedResourceId as number
    return {
      read: async () => {
        const bytes = await this.readBytes(r)
        const derived = r.codec.derived
        if (!derived) throw new OperationError('internal', `${this.describeResource(r)} has no derived value`)
        try {
          return new Map(derived.decode(bytes).map((v, i) => [i, v]))
        } catch (e) {
          throw new OperationError('internal', `${this.describeResource(r)}: the sensor sent ${describeBytes(bytes)}: ${(e as Error).message}`)
        }
      },
      observe: (active) => this.channel(r).observe(id, active),
    }
  }

  private channel(r: TwinResource): CharacteristicChannel {
    return this.channels.get(r.resourceId) as CharacteristicChannel
  }

  private assertOpen(r: TwinResource): void {
    if (this.closed) throw new OperationError('unavailable', `${this.describeResource(r)}: the sensor disconnected`)
  }

  /** Fresh bytes: a GATT read, or the next notification when the characteristic cannot be read. */
  private async readBytes(r: TwinResource): Promise<Buffer> {
    this.assertOpen(r)
    try {
      if (r.properties.includes('read')) return await this.ctx.adapter.read(this.sensor.id, this.serviceUuid, r.uuid)
      return await this.channel(r).nextNotification(this.ctx.notifyReadTimeoutMs)
    } catch (e) {
      throw bleOperationError(e, `read ${this.describeResource(r)}`)
    }
  }

  async readValue(r: TwinResource): Promise<Lwm2mValue> {
    const bytes = await this.readBytes(r)
    try {
      return r.codec.decode(bytes)
    } catch (e) {
      throw new OperationError('internal', `${this.describeResource(r)}: the sensor sent ${describeBytes(bytes)}: ${(e as Error).message}`)
    }
  }

  private async writeValue(r: TwinResource, content: ResourceContent): Promise<void> {
    this.assertOpen(r)
    if (content instanceof Map) throw new OperationError('bad_request', `${this.describeResource(r)} takes one value`)
    const value = content as Lwm2mValue
    let bytes: Uint8Array
    try {
      bytes = r.codec.encode ? r.codec.encode(value) : value instanceof Uint8Array ? value : new TextEncoder().encode(String(value))
    } catch (e) {
      throw new OperationError('bad_request', `${this.describeResource(r)}: ${(e as Error).message}`)
    }
    await this.writeBytes(r, bytes, 'write')
  }

  private async writeBytes(r: TwinResource, bytes: Uint8Array, what: string): Promise<void> {
    const withoutResponse = !r.properties.includes('write') && r.properties.includes('writeWithoutResponse')
    try {
      await this.ctx.adapter.write(this.sensor.id, this.serviceUuid, r.uuid, bytes, { withoutResponse })
    } catch (e) {
      throw bleOperationError(e, `${what} ${describeBytes(bytes)} to ${this.describeResource(r)}`)
    }
  }

  private async executeControl(r: TwinResource, args: string): Promise<void> {
    this.assertOpen(r)
    const control = r.codec.control
    if (!control) throw new OperationError('not_allowed', `${this.describeResource(r)} is not a control point`)
    let bytes: Uint8Array
    try {
      bytes = controlCommand(args, control.command)
    } catch (e) {
      throw new OperationError('bad_request', `${this.describeResource(r)}: ${(e as Error).message}`)
    }
    await this.writeBytes(r, bytes, 'execute: write')
  }

  /** The sensor went away or the twin is deleted: subscriptions and polls end. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all([...this.channels.values()].map((c) => c.close()))
  }
}
