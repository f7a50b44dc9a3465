import type { GattServerApi, PeripheralDefinition, PeripheralHooks, ServiceDefinition, SubscriptionKind } from '../gatt-table.ts'
import { normalizeUuid } from '../gatt-table.ts'
import { batteryService, deviceInformationService } from './standard-services.ts'
import type { DeviceInformation } from './standard-services.ts'
import { encodeBatteryLevel } from '../../../../shared/ble/battery.ts'
import { BATTERY_LEVEL_UUID, BATTERY_SERVICE_UUID } from '../../../../shared/ble/uuids.ts'

export type { DeviceInformation }

/** ATT error 0x13 "Value Not Allowed" (Core 5.1+; not in the GATT table's AttError list). */
export const ATT_VALUE_NOT_ALLOWED = 0x13

/** Milliseconds from an arbitrary origin; injectable so tests can drive time. */
export type Clock = () => number

export const defaultClock: Clock = () => performance.now()

export interface CommonSensorOptions {
  /** Instance number (1, 2, …): part of the name and the address. Default 1. */
  index?: number
  seed?: number
  /** Initial battery level, % (default 100 − a little per index). */
  batteryPercent?: number
  /** Battery drain, % per hour (default 2). */
  batteryDrainPerHour?: number
  clock?: Clock
  /** Overrides of the Device Information strings. */
  deviceInformation?: Partial<DeviceInformation>
}

/** Packet counters of a sensor's notifications / indications. */
export interface SendStats {
  /** Packets produced by the sensor (ECG: one per sample). */
  generated: number
  /** Accepted by the link (queued for transmission). */
  sent: number
  /** Refused by the link at the sensor: transmit queue full, not subscribed, or not connected. */
  dropped: number
}

/** The measurement a sensor streams while its characteristic is subscribed. */
export interface MeasurementStream {
  /** The characteristic whose subscription starts and stops the stream. */
  uuid: string
  periodMs: number
  tick: () => void
  /** Called as the stream starts, before its timer. */
  onStart?: () => void
}

/** What sets one kind of sensor apart in its peripheral definition. */
export interface SensorProfile {
  /** The name reads `ObjectTwin <label> <index>`. */
  label: string
  /** Kind byte of the address (see {@link sensorAddress}). */
  kindCode: number
  /** GAP appearance, if any. */
  appearance?: number
  /** The sensor's own service, advertised; without one the sensor advertises Battery. */
  service?: ServiceDefinition
  /** Device Information defaults; the serial number is `<serialPrefix>-<index>-<seed>`. */
  device: Omit<DeviceInformation, 'manufacturer' | 'serial'> & { serialPrefix: string }
}

const MANUFACTURER = 'ObjectTwin Labs'

/** A battery that drains linearly with time; the level can be set (a swap, a demo). */
export class Battery {
  private readonly clock: Clock
  private readonly drainPerMs: number
  private levelAtSet: number
  private setAt: number

  constructor(percent: number, drainPerHour: number, clock: Clock) {
    this.clock = clock
    this.drainPerMs = drainPerHour / 3_600_000
    this.levelAtSet = percent
    this.setAt = clock()
  }

  /** Whole percent, 0..100 (rounded: a level just set reads back as set). */
  get level(): number {
    const v = this.levelAtSet - (this.clock() - this.setAt) * this.drainPerMs
    return Math.max(0, Math.min(100, Math.round(v)))
  }

  set(percent: number): void {
    this.levelAtSet = Math.max(0, Math.min(100, percent))
    this.setAt = this.clock()
  }
}

/** Battery service check period: the level changes by 1 % every half hour at the default drain. */
const BATTERY_CHECK_MS = 5_000

/**
 * What every simulated sensor shares: the link (GattServerApi while connected), Battery and Device Information
 * services, timers that stop with the link, and the peripheral definition's hooks.
 */
export abstract class SimulatedSensor {
  readonly index: number
  readonly seed: number
  readonly clock: Clock
  readonly battery: Battery
  protected api: GattServerApi | undefined
  private readonly timers = new Set<ReturnType<typeof setInterval>>()
  private batteryTimer: ReturnType<typeof setInterval> | undefined
  private streamTimer: ReturnType<typeof setInterval> | undefined
  /** Set by a sensor that streams a measurement; without it only Battery subscriptions do anything. */
  protected measurement: MeasurementStream | undefined
  private lastBatteryNotified = -1
  private disposed = false

  constructor(options: CommonSensorOptions) {
    this.index = options.index ?? 1
    this.seed = options.seed ?? this.index
    this.clock = options.clock ?? defaultClock
    this.battery = new Battery(options.batteryPercent ?? 100 - ((this.index * 7) % 20), options.batteryDrainPerHour ?? 2, this.clock)
  }

  /** True while a central is connected. */
  get connected(): boolean {
    return this.api?.connected === true
  }

  /** True while the measurement is subscribed and streams. */
  get streaming(): boolean {
    return this.streamTimer !== undefined
  }

  /** The link of the current connection, if any (tests and the controller's fault injection may look at it). */
  get link(): GattServerApi | undefined {
    return this.api
  }

  /** The peripheral: the profile's service, then Battery and Device Information (`overrides` over its defaults). */
  protected peripheral(profile: SensorProfile, overrides: Partial<DeviceInformation> | undefined): PeripheralDefinition {
    const n = this.index
    const { serialPrefix, ...device } = profile.device
    const info = { manufacturer: MANUFACTURER, serial: serialNumber(serialPrefix, n, this.seed), ...device, ...overrides }
    return {
      name: `ObjectTwin ${profile.label} ${n}`,
      address: sensorAddress(profile.kindCode, n),
      addressType: 'random',
      advertisedServices: [profile.service?.uuid ?? BATTERY_SERVICE_UUID],
      ...(profile.appearance === undefined ? {} : { appearance: profile.appearance }),
      services: [
        ...(profile.service === undefined ? [] : [profile.service]),
        batteryService(() => this.battery.level),
        deviceInformationService(info),
      ],
      hooks: this.hooks(),
    }
  }

  /** The hooks to put into the PeripheralDefinition. */
  protected hooks(): PeripheralHooks {
    return {
      onConnect: (api) => {
        this.api = api
        this.lastBatteryNotified = -1
        this.onLinkUp()
      },
      onDisconnect: () => {
        this.api = undefined
        this.stopBatteryTimer()
        this.onLinkDown()
      },
      onSubscribe: (uuid, kinds) => {
        const u = normalizeUuid(uuid)
        if (u === BATTERY_LEVEL_UUID) {
          if (kinds.length > 0) this.startBatteryTimer()
          else this.stopBatteryTimer()
          return
        }
        this.onSubscribe(u, kinds)
      },
    }
  }

  private startBatteryTimer(): void {
    if (this.batteryTimer !== undefined || this.disposed) return
    this.lastBatteryNotified = this.battery.level
    this.batteryTimer = this.every(BATTERY_CHECK_MS, () => this.checkBattery())
  }

  private stopBatteryTimer(): void {
    this.cancel(this.batteryTimer)
    this.batteryTimer = undefined
  }

  private startStream(): void {
    const m = this.measurement
    if (m === undefined || this.streamTimer !== undefined || this.disposed) return
    m.onStart?.()
    this.streamTimer = this.every(m.periodMs, m.tick)
  }

  protected stopStream(): void {
    this.cancel(this.streamTimer)
    this.streamTimer = undefined
  }

  /** Notify the battery level if it changed (also called after set()). */
  checkBattery(): void {
    const api = this.api
    const level = this.battery.level
    if (api === undefined || level === this.lastBatteryNotified || !api.isSubscribed(BATTERY_LEVEL_UUID)) return
    this.lastBatteryNotified = level
    api.notify(BATTERY_LEVEL_UUID, encodeBatteryLevel(level))
  }

  /** An unref'd interval that dispose() clears. */
  private every(ms: number, fn: () => void): ReturnType<typeof setInterval> {
    const t = setInterval(fn, ms)
    t.unref()
    this.timers.add(t)
    return t
  }

  private cancel(t: ReturnType<typeof setInterval> | undefined): void {
    if (t === undefined) return
    clearInterval(t)
    this.timers.delete(t)
  }

  /** Stop every timer; the sensor stays usable as a definition but streams nothing. */
  dispose(): void {
    this.disposed = true
    for (const t of this.timers) clearInterval(t)
    this.timers.clear()
    this.batteryTimer = undefined
    this.onLinkDown()
  }

  protected onLinkUp(): void {}

  protected onLinkDown(): void {
    this.stopStream()
  }

  protected onSubscribe(uuid: string, kinds: SubscriptionKind[]): void {
    if (uuid !== this.measurement?.uuid) return
    if (kinds.length > 0) this.startStream()
    else this.stopStream()
  }

  abstract readonly definition: PeripheralDefinition
}

/**
 * A random static address per kind and instance: c0:07:<kind>:00:<index hi>:<index lo>
 * (the two top bits of the first byte set, as random static addresses require).
 */
export function sensorAddress(kindCode: number, index: number): string {
  const b = [0xc0, 0x07, kindCode & 0xff, 0x00, (index >>> 8) & 0xff, index & 0xff]
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':')
}

export function serialNumber(prefix: string, index: number, seed: number): string {
  return `${prefix}-${String(index).padStart(4, '0')}-${((seed >>> 0) % 0x10000).toString(16).padStart(4, '0').toUpperCase()}`
}
