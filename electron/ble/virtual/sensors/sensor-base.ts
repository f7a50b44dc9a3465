import type { GattServerApi, PeripheralDefinition, PeripheralHooks, ServiceDefinition, SubscriptionKind } from '../gatt-table.ts'
import { normalizeUuid } from '../gatt-table.ts'
import { encodeBatteryLevel } from '../../../../shared/ble/battery.ts'
import {
  BATTERY_LEVEL_UUID, BATTERY_SERVICE_UUID, DEVICE_INFORMATION_SERVICE_UUID, FIRMWARE_REVISION_UUID, HARDWARE_REVISION_UUID,
  MANUFACTURER_NAME_UUID, MODEL_NUMBER_UUID, SERIAL_NUMBER_UUID, SOFTWARE_REVISION_UUID,
} from '../../../../shared/ble/uuids.ts'

/** ATT error 0x13 "Value Not Allowed" (Core 5.1+; not in the GATT table's AttError list). */
export const ATT_VALUE_NOT_ALLOWED = 0x13

/** Milliseconds from an arbitrary origin; injectable so tests can drive time. */
export type Clock = () => number

export const defaultClock: Clock = () => performance.now()

export interface DeviceInformation {
  manufacturer: string
  model: string
  serial: string
  firmware: string
  hardware: string
  software: string
}

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

const utf8 = new TextEncoder()

export function deviceInformationService(info: DeviceInformation): ServiceDefinition {
  const str = (uuid: string, value: string, description: string) =>
    ({ uuid, properties: ['read' as const], initialValue: utf8.encode(value), userDescription: description })
  return {
    uuid: DEVICE_INFORMATION_SERVICE_UUID,
    characteristics: [
      str(MANUFACTURER_NAME_UUID, info.manufacturer, 'Manufacturer Name'),
      str(MODEL_NUMBER_UUID, info.model, 'Model Number'),
      str(SERIAL_NUMBER_UUID, info.serial, 'Serial Number'),
      str(FIRMWARE_REVISION_UUID, info.firmware, 'Firmware Revision'),
      str(HARDWARE_REVISION_UUID, info.hardware, 'Hardware Revision'),
      str(SOFTWARE_REVISION_UUID, info.software, 'Software Revision'),
    ],
  }
}

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

  /** The link of the current connection, if any (tests and the controller's fault injection may look at it). */
  get link(): GattServerApi | undefined {
    return this.api
  }

  protected batteryService(): ServiceDefinition {
    return {
      uuid: BATTERY_SERVICE_UUID,
      characteristics: [{
        uuid: BATTERY_LEVEL_UUID,
        properties: ['read', 'notify'],
        userDescription: 'Battery level (%)',
        presentationFormat: { format: 0x04, exponent: 0, unit: 0x27ad, namespace: 0x01, description: 0 },
        onRead: () => encodeBatteryLevel(this.battery.level),
      }],
    }
  }

  protected deviceInformation(defaults: DeviceInformation, overrides: Partial<DeviceInformation> | undefined): ServiceDefinition {
    return deviceInformationService({ ...defaults, ...overrides })
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
    if (this.batteryTimer === undefined) return
    this.cancel(this.batteryTimer)
    this.batteryTimer = undefined
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
  protected every(ms: number, fn: () => void): ReturnType<typeof setInterval> {
    const t = setInterval(fn, ms)
    t.unref()
    this.timers.add(t)
    return t
  }

  protected cancel(t: ReturnType<typeof setInterval> | undefined): void {
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

  protected get isDisposed(): boolean {
    return this.disposed
  }

  protected onLinkUp(): void {}
  protected onLinkDown(): void {}
  protected abstract onSubscribe(uuid: string, kinds: SubscriptionKind[]): void
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
