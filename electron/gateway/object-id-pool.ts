import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { normalizeUuid } from '../../shared/ble/uuid.ts'

/**
 * The pool of LwM2M object IDs the gateway gives to ObjectTwins (REFERENCE.md §1: one ID per GATT service of a
 * connected sensor; the pool's size bounds how many services the gateway holds). The mapping sensor address +
 * service UUID → object ID is persisted, so the same service of the same sensor gets the same ID across
 * reconnects and gateway restarts. A new service takes the lowest ID never given out; once all are given out it
 * takes over the least recently used ID of a service that is not exposed now; when every ID is in use the pool is
 * exhausted and the service is not exposed.
 */

/** Default range: above the OMA core/reserved objects 0..1023, clear of the standard ones we use. */
export const DEFAULT_POOL_MIN = 1031
export const DEFAULT_POOL_MAX = 1099

/** Object IDs of standard or our own objects that a pool must never hand out. */
export const RESERVED_OBJECT_IDS: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 5, 6, 7, 21, 25, 26, 3300, 3303, 3316, 3320, 3346, 33000, 33001])

export interface ObjectIdPoolOptions {
  /** Lowest and highest ID of the pool (inclusive). Default 1031..1099. */
  min?: number
  max?: number
  /** Where the mapping is kept (JSON); undefined keeps it in memory only. */
  file?: string
  /** Told about a damaged file (which is then set aside and replaced) and failed writes. Never fatal. */
  onWarning?: (message: string) => void
  now?: () => number
}

export interface PoolAssignment {
  readonly sensor: string
  readonly service: string
  readonly objectId: number
  /** Milliseconds since the epoch when it was last taken. */
  readonly lastUsedAt: number
}

export type AcquireResult =
  | { readonly ok: true; readonly objectId: number; readonly reused: boolean; readonly reassignedFrom?: { sensor: string; service: string } }
  | { readonly ok: false; readonly reason: string }

interface PoolFile {
  readonly v: 1
  readonly assignments: PoolAssignment[]
  /** Sensors in the order first seen: the position is the sensor's instance id in the gateway's own objects. */
  readonly sensors: string[]
}

/** "C0:07:01:00:00:01", "c00701000001" → "c0:07:01:00:00:01". */
export function normalizeAddress(address: string): string {
  const hex = address.trim().toLowerCase().replace(/[:-]/g, '')
  if (!/^[0-9a-f]{12}$/.test(hex)) throw new RangeError(`'${address}' is not a Bluetooth device address (12 hex digits)`)
  return hex.replace(/(..)(?!$)/g, '$1:')
}

/**
 * What identifies a sensor: its address where the platform tells it, else noble's id (CoreBluetooth hides
 * addresses and gives a per-host UUID instead).
 */
export function sensorKey(addressOrId: string, fallbackId?: string): string {
  for (const candidate of [addressOrId, fallbackId]) {
    if (candidate === undefined) continue
    try {
      return normalizeAddress(candidate)
    } catch {
      // not an address
    }
  }
  const id = (fallbackId ?? addressOrId).trim().toLowerCase()
  if (!/^[0-9a-f-]{1,64}$/.test(id)) throw new RangeError(`'${addressOrId}' is neither a Bluetooth device address nor a device id`)
  return id
}

/** A service UUID, or "uuid#2" for the second service of that UUID on one sensor. */
function normalizeServiceKey(service: string): string {
  const [uuid, nth] = service.split('#')
  if (nth !== undefined && !/^[1-9]\d{0,2}$/.test(nth)) throw new RangeError(`'${service}' is not a service UUID (or uuid#n)`)
  return nth === undefined ? normalizeUuid(uuid ?? '') : `${normalizeUuid(uuid ?? '')}#${nth}`
}

function keyOf(sensor: string, service: string): string {
  return `${sensorKey(sensor)}|${normalizeServiceKey(service)}`
}

/** Write via a temporary file, fsync, rename: a crash leaves the old file or the new one, never half of one. */
export function writeFileAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  const fd = openSync(tmp, 'w', 0o644)
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, file)
}

export class ObjectIdPool {
  readonly min: number
  readonly max: number
  private readonly file: string | undefined
  private readonly warn: (message: string) => void
  private readonly now: () => number
  private readonly byKey = new Map<string, PoolAssignment>()
  private readonly byId = new Map<number, string>()
  private readonly active = new Set<number>()
  private readonly sensors: string[] = []

  constructor(options: ObjectIdPoolOptions = {}) {
    this.min = options.min ?? DEFAULT_POOL_MIN
    this.max = options.max ?? DEFAULT_POOL_MAX
    if (!Number.isInteger(this.min) || !Number.isInteger(this.max) || this.min < 0 || this.max > 65534 || this.min > this.max) {
      throw new RangeError(`object ID pool ${this.min}..${this.max} is not a range of ids within 0..65534`)
    }
    if (this.capacity === 0) throw new RangeError(`object ID pool ${this.min}..${this.max} holds only reserved ids`)
    this.file = options.file
    this.warn = options.onWarning ?? (() => undefined)
    this.now = options.now ?? Date.now
    this.load()
  }

  /** How many IDs the pool can hand out. */
  get capacity(): number {
    let n = 0
    for (let id = this.min; id <= this.max; id++) if (!RESERVED_OBJECT_IDS.has(id)) n++
    return n
  }

  /** IDs not in use right now (given out before or not). */
  get free(): number {
    return this.capacity - this.active.size
  }

  contains(objectId: number): boolean {
    return objectId >= this.min && objectId <= this.max && !RESERVED_OBJECT_IDS.has(objectId)
  }

  /** The persisted assignment of a sensor's service, if any. */
  lookup(sensor: string, service: string): PoolAssignment | undefined {
    return this.byKey.get(keyOf(sensor, service))
  }

  assignments(): PoolAssignment[] {
    return [...this.byKey.values()].sort((a, b) => a.objectId - b.objectId)
  }

  isActive(objectId: number): boolean {
    return this.active.has(objectId)
  }

  /** Take the ID of a sensor's service: its own when it had one, else a fresh one, else fails naming why. */
  acquire(sensor: string, service: string): AcquireResult {
    const key = keyOf(sensor, service)
    const existing = this.byKey.get(key)
    if (existing) {
      if (this.active.has(existing.objectId)) return { ok: false, reason: `object ${existing.objectId} of ${describe(key)} is already in use` }
      this.active.add(existing.objectId)
      this.assign(key, existing.objectId)
      return { ok: true, objectId: existing.objectId, reused: true }
    }
    for (let id = this.min; id <= this.max; id++) {
      if (RESERVED_OBJECT_IDS.has(id) || this.byId.has(id)) continue
      this.active.add(id)
      this.assign(key, id)
      return { ok: true, objectId: id, reused: false }
    }
    // Every ID was given out once: take over the least recently used one that is not exposed now.
    let oldest: PoolAssignment | undefined
    for (const a of this.byKey.values()) {
      if (this.active.has(a.objectId)) continue
      if (!oldest || a.lastUsedAt < oldest.lastUsedAt) oldest = a
    }
    if (!oldest) {
      return { ok: false, reason: `object ID pool ${this.min}..${this.max} exhausted: all ${this.capacity} ids are in use by connected sensors` }
    }
    const from = { sensor: oldest.sensor, service: oldest.service }
    this.byKey.delete(keyOf(oldest.sensor, oldest.service))
    this.active.add(oldest.objectId)
    this.assign(key, oldest.objectId)
    return { ok: true, objectId: oldest.objectId, reused: false, reassignedFrom: from }
  }

  /** A stable small number for a sensor (its instance id in the BLE Link object), persisted with the mapping. */
  sensorIndex(sensor: string): number {
    const address = sensorKey(sensor)
    let i = this.sensors.indexOf(address)
    if (i < 0) {
      i = this.sensors.length
      this.sensors.push(address)
      this.save()
    }
    return i
  }

  /** The service is no longer exposed; its ID stays reserved for it until the pool needs it for another. */
  release(objectId: number): void {
    this.active.delete(objectId)
  }

  private assign(key: string, objectId: number): void {
    const [sensor, service] = key.split('|') as [string, string]
    const previousKey = this.byId.get(objectId)
    if (previousKey !== undefined && previousKey !== key) this.byKey.delete(previousKey)
    this.byKey.set(key, { sensor, service, objectId, lastUsedAt: this.now() })
    this.byId.set(objectId, key)
    this.save()
  }

  private load(): void {
    if (this.file === undefined) return
    let text: string
    try {
      text = readFileSync(this.file, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return
      this.warn(`object ID pool: cannot read ${this.file} (${(e as Error).message}); starting with an empty mapping`)
      return
    }
    let parsed: PoolFile
    try {
      parsed = parsePoolFile(text)
    } catch (e) {
      const aside = `${this.file}.damaged-${this.now()}`
      try {
        renameSync(this.file, aside)
      } catch {
        // Could not set it aside: the next save overwrites it.
      }
      this.warn(`object ID pool: ${this.file} is damaged (${(e as Error).message}); moved to ${aside}, starting with an empty mapping`)
      this.save()
      return
    }
    let dropped = 0
    for (const a of parsed.assignments) {
      let key: string
      try {
        key = keyOf(a.sensor, a.service)
      } catch {
        dropped++
        continue
      }
      // Entries outside the (possibly reconfigured) range, or clashing with an earlier entry, are forgotten.
      if (!this.contains(a.objectId) || this.byId.has(a.objectId) || this.byKey.has(key)) {
        dropped++
        continue
      }
      const [sensor, service] = key.split('|') as [string, string]
      this.byKey.set(key, { sensor, service, objectId: a.objectId, lastUsedAt: a.lastUsedAt })
      this.byId.set(a.objectId, key)
    }
    for (const s of parsed.sensors) {
      try {
        const address = sensorKey(s)
        if (!this.sensors.includes(address)) this.sensors.push(address)
      } catch {
        dropped++
      }
    }
    if (dropped > 0) {
      this.warn(`object ID pool: ${dropped} entr${dropped === 1 ? 'y' : 'ies'} of ${this.file} invalid, outside ${this.min}..${this.max} or duplicated; forgotten`)
      this.save()
    }
  }

  private save(): void {
    if (this.file === undefined) return
    const content: PoolFile = { v: 1, assignments: this.assignments(), sensors: this.sensors }
    try {
      writeFileAtomic(this.file, JSON.stringify(content, null, 1) + '\n')
    } catch (e) {
      this.warn(`object ID pool: cannot write ${this.file} (${(e as Error).message}); ids stay stable until the gateway restarts`)
    }
  }
}

function describe(key: string): string {
  const [sensor, service] = key.split('|')
  return `service ${service} of ${sensor}`
}

function parsePoolFile(text: string): PoolFile {
  const data: unknown = JSON.parse(text)
  if (typeof data !== 'object' || data === null || (data as { v?: unknown }).v !== 1) throw new Error('not a version 1 object ID pool file')
  const list = (data as { assignments?: unknown }).assignments
  if (!Array.isArray(list)) throw new Error('"assignments" is not a list')
  const assignments: PoolAssignment[] = list.map((entry: unknown, i) => {
    const a = entry as Partial<PoolAssignment> | null
    if (typeof a !== 'object' || a === null || typeof a.sensor !== 'string' || typeof a.service !== 'string'
      || typeof a.objectId !== 'number' || !Number.isInteger(a.objectId) || typeof a.lastUsedAt !== 'number') {
      throw new Error(`assignment ${i} lacks sensor, service, objectId or lastUsedAt`)
    }
    return { sensor: a.sensor, service: a.service, objectId: a.objectId, lastUsedAt: a.lastUsedAt }
  })
  const sensors = (data as { sensors?: unknown }).sensors ?? []
  if (!Array.isArray(sensors) || sensors.some((s) => typeof s !== 'string')) throw new Error('"sensors" is not a list of addresses')
  return { v: 1, assignments, sensors: sensors as string[] }
}
