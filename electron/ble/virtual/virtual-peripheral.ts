/**
 * A simulated peripheral on the virtual radio: its GATT table, advertising data, radio path (link settings, RSSI)
 * and fault injection. At most one connection at a time; it does not advertise while connected (as most sensors).
 */
import { EventEmitter } from 'node:events'
import { AttDatabase, type AttFaults } from './att-server.ts'
import { normalizeUuid, uuidToBytes, type AttErrorCode, type PeripheralDefinition, type PeripheralHooks } from './gatt-table.ts'
import { normalizeAddress } from './h4.ts'
import { checkLinkSettings, createRandom, DEFAULT_LINK_SETTINGS, RssiModel, type LinkSettings, type LinkStats, type Random } from './link-model.ts'

/** HCI reasons a peripheral-side disconnect may carry. */
export const DisconnectReason = {
  authenticationFailure: 0x05,
  connectionTimeout: 0x08,
  remoteUserTerminated: 0x13,
  remoteLowResources: 0x14,
  remotePowerOff: 0x15,
  localHostTerminated: 0x16,
  unacceptableParameters: 0x3b,
} as const

/** What a controller's connection offers the peripheral (implemented by LeConnection). */
export interface PeripheralLink {
  /** Handle of the connection at its controller. */
  readonly handle: number
  /** Link statistics of this connection. */
  readonly stats: LinkStats
  /** The peripheral ends the connection (LL_TERMINATE_IND with `reason`). */
  terminate(reason: number): void
  /** Link settings changed (interval, interference, ...). */
  settingsChanged(intervalChanged: boolean): void
  /** The peripheral went out of range (true) or came back (false). */
  setOutOfRange(out: boolean): void
}

export interface VirtualPeripheralEvents {
  connect: [handle: number]
  disconnect: [reason: number]
  /** A handler of the GATT table (onRead, onWrite, hooks) threw; without a listener it is logged. */
  handlerError: [error: unknown]
}

/** A simulated peripheral: definition + run-time radio state + faults. */
export class VirtualPeripheral extends EventEmitter<VirtualPeripheralEvents> {
  readonly definition: PeripheralDefinition
  readonly address: string
  readonly addressType: 'public' | 'random'
  readonly db: AttDatabase
  /** Live link settings (use {@link setLink} to change them). */
  readonly link: LinkSettings
  readonly rssi: RssiModel
  readonly faults: AttFaults = { silent: false, failNext: [] }
  readonly random: Random
  /** Advertising data (AD structures of ADV_IND) and scan response data. */
  readonly advData: Buffer
  readonly scanResponseData: Buffer
  /** The current connection, if any. */
  connection: PeripheralLink | undefined
  /** Statistics of the last connection (kept after it ends). */
  lastStats: LinkStats | undefined
  private forcedOutOfRange = false
  private removed = false

  constructor(definition: PeripheralDefinition, link: Partial<LinkSettings> = {}, seed?: number) {
    super()
    this.definition = definition
    this.address = normalizeAddress(definition.address)
    this.addressType = definition.addressType ?? 'random'
    if (this.addressType === 'random' && ((parseInt(this.address.slice(0, 2), 16) & 0xc0) !== 0xc0)) {
      throw new Error(`${definition.name}: a random static address needs the two top bits set (e.g. c0:...), not ${this.address}`)
    }
    this.db = new AttDatabase(definition)
    this.link = { ...DEFAULT_LINK_SETTINGS, ...checkLinkSettings(link) }
    this.random = createRandom(seed)
    this.rssi = new RssiModel(this.link, this.random)
    const ad = buildAdvertising(definition)
    this.advData = ad.adv
    this.scanResponseData = ad.scanResponse
  }

  get name(): string {
    return this.definition.name
  }

  get connectable(): boolean {
    return this.definition.connectable !== false
  }

  /** Mean RSSI above the sensitivity and not forced out of range. */
  get inRange(): boolean {
    return !this.forcedOutOfRange && !this.removed && this.rssi.inRange()
  }

  /** Advertising now (in range, not connected, not removed). */
  get advertising(): boolean {
    return this.inRange && this.connection === undefined
  }

  get advertisingIntervalMs(): number {
    return Math.max(20, this.definition.advertisingIntervalMs ?? 100)
  }

  get connected(): boolean {
    return this.connection !== undefined
  }

  /** Change the radio path at run time. */
  setLink(update: Partial<LinkSettings>): void {
    const checked = checkLinkSettings(update)
    const intervalChanged = checked.connectionIntervalMs !== undefined && checked.connectionIntervalMs !== this.link.connectionIntervalMs
    Object.assign(this.link, checked)
    this.connection?.settingsChanged(intervalChanged)
    if (!this.rssi.inRange()) this.connection?.setOutOfRange(true)
    else if (!this.forcedOutOfRange) this.connection?.setOutOfRange(false)
  }

  // ---- fault injection -----------------------------------------------------------------------------------------

  /** End the connection from the peripheral side (default reason 0x13 remote user terminated). */
  disconnect(reason: number = DisconnectReason.remoteUserTerminated): boolean {
    if (!this.connection) return false
    this.connection.terminate(reason)
    return true
  }

  /** ATT requests get no answer at all from now on (the link stays up). */
  stopResponding(): void {
    this.faults.silent = true
  }

  resumeResponding(): void {
    this.faults.silent = false
  }

  /** Answer the next ATT request with this opcode (or any request but Exchange MTU) with an error response. */
  failNext(opcode: number | 'any', error: AttErrorCode): void {
    this.faults.failNext.push({ opcode, error })
  }

  /** The sensor leaves radio range: the link drops by supervision timeout (0x08), no advertising until back. */
  outOfRange(): void {
    this.forcedOutOfRange = true
    this.connection?.setOutOfRange(true)
  }

  backInRange(): void {
    this.forcedOutOfRange = false
    if (this.rssi.inRange()) this.connection?.setOutOfRange(false)
  }

  /** Clear all faults. */
  clearFaults(): void {
    this.faults.silent = false
    this.faults.failNext.length = 0
    this.backInRange()
  }

  /** A table handler threw: tell the 'handlerError' listeners, else log it (never crash the radio). */
  reportError(error: unknown): void {
    if (this.listenerCount('handlerError') > 0) this.emit('handlerError', error)
    else console.error(`virtual peripheral ${this.name} (${this.address}): handler failed:`, error)
  }

  /** Run a hook of the definition, containing its failures. */
  callHook<K extends keyof PeripheralHooks>(name: K, ...args: Parameters<NonNullable<PeripheralHooks[K]>>): void {
    const hook = this.definition.hooks?.[name] as ((...a: unknown[]) => void) | undefined
    if (!hook) return
    try {
      hook.apply(this.definition.hooks, args)
    } catch (e) {
      this.reportError(e)
    }
  }

  /** Called by the radio when the peripheral is removed (switched off). */
  markRemoved(): void {
    this.removed = true
    this.connection?.terminate(DisconnectReason.connectionTimeout)
  }
}

/** Advertising data (flags, service UUIDs, TX power) and scan response (name, leftovers, manufacturer data). */
export function buildAdvertising(def: PeripheralDefinition): { adv: Buffer; scanResponse: Buffer } {
  const uuids16: Buffer[] = []
  const uuids128: Buffer[] = []
  for (const u of def.advertisedServices) {
    const b = uuidToBytes(normalizeUuid(u))
    ;(b.length === 2 ? uuids16 : uuids128).push(b)
  }
  const adv: Buffer[] = [Buffer.from([2, 0x01, 0x06])]
  const rsp: Buffer[] = []
  let advLen = 3
  let rspLen = 0
  const placeList = (list: Buffer[], complete: number, incomplete: number, size: number): void => {
    if (!list.length) return
    const roomAdv = Math.floor((31 - advLen - 2) / size)
    const inAdv = list.slice(0, Math.max(0, roomAdv))
    const rest = list.slice(inAdv.length)
    const roomRsp = Math.floor((31 - rspLen - 2) / size)
    const inRsp = rest.slice(0, Math.max(0, roomRsp))
    const all = inAdv.length + inRsp.length === list.length
    if (inAdv.length) {
      const ad = Buffer.concat([Buffer.from([1 + inAdv.length * size, all ? complete : incomplete]), ...inAdv])
      adv.push(ad)
      advLen += ad.length
    }
    if (inRsp.length) {
      const ad = Buffer.concat([Buffer.from([1 + inRsp.length * size, all ? complete : incomplete]), ...inRsp])
      rsp.push(ad)
      rspLen += ad.length
    }
  }
  // Name first in the scan response, so that leftovers of the service lists come after it.
  const name = Buffer.from(def.name, 'utf8')
  const nameRoom = 31 - 2
  const nameAd = Buffer.concat([Buffer.from([1 + Math.min(name.length, nameRoom), name.length <= nameRoom ? 0x09 : 0x08]), name.subarray(0, nameRoom)])
  rsp.push(nameAd)
  rspLen += nameAd.length
  placeList(uuids16, 0x03, 0x02, 2)
  placeList(uuids128, 0x07, 0x06, 16)
  if (advLen + 3 <= 31) {
    const tx = Buffer.from([2, 0x0a, (def.txPowerLevel ?? 0) & 0xff])
    adv.push(tx)
    advLen += 3
  }
  if (def.manufacturerData && def.manufacturerData.length) {
    const md = Buffer.from(def.manufacturerData)
    const ad = Buffer.concat([Buffer.from([1 + md.length, 0xff]), md])
    if (rspLen + ad.length <= 31) {
      rsp.push(ad)
      rspLen += ad.length
    } else if (advLen + ad.length <= 31) {
      adv.push(ad)
      advLen += ad.length
    }
  }
  return { adv: Buffer.concat(adv), scanResponse: Buffer.concat(rsp) }
}
