/**
 * ATT/GATT server of a simulated peripheral, built from its declarative GATT table (gatt-table.ts).
 *
 * {@link AttDatabase}: the attribute table (one per peripheral; written values persist across connections).
 * {@link AttBearer}: the server side of one connection's ATT bearer (MTU, CCCDs, prepare queue, indications).
 */
import {
  AttError,
  normalizeUuid,
  uuidToBytes,
  type AttErrorCode,
  type CharacteristicDefinition,
  type DescriptorDefinition,
  type GattServerApi,
  type PeripheralDefinition,
  type PeripheralHooks,
  type SubscriptionKind,
} from './gatt-table.ts'
import { L2CAP_PAYLOAD_OFFSET } from './link-model.ts'
import { encodePresentationFormat } from '../../../shared/ble/presentation-format.ts'

export const ATT = {
  errorRsp: 0x01,
  mtuReq: 0x02,
  mtuRsp: 0x03,
  findInfoReq: 0x04,
  findInfoRsp: 0x05,
  findByTypeValueReq: 0x06,
  findByTypeValueRsp: 0x07,
  readByTypeReq: 0x08,
  readByTypeRsp: 0x09,
  readReq: 0x0a,
  readRsp: 0x0b,
  readBlobReq: 0x0c,
  readBlobRsp: 0x0d,
  readMultipleReq: 0x0e,
  readMultipleRsp: 0x0f,
  readByGroupTypeReq: 0x10,
  readByGroupTypeRsp: 0x11,
  writeReq: 0x12,
  writeRsp: 0x13,
  prepareWriteReq: 0x16,
  prepareWriteRsp: 0x17,
  executeWriteReq: 0x18,
  executeWriteRsp: 0x19,
  handleValueNotification: 0x1b,
  handleValueIndication: 0x1d,
  handleValueConfirmation: 0x1e,
  writeCmd: 0x52,
  signedWriteCmd: 0xd2,
} as const

export const UUID_PRIMARY_SERVICE = '2800'
export const UUID_SECONDARY_SERVICE = '2801'
export const UUID_INCLUDE = '2802'
export const UUID_CHARACTERISTIC = '2803'
export const UUID_CCCD = '2902'
export const UUID_USER_DESCRIPTION = '2901'
export const UUID_PRESENTATION_FORMAT = '2904'

const PROP_BITS: Record<string, number> = { read: 0x02, writeWithoutResponse: 0x04, write: 0x08, notify: 0x10, indicate: 0x20 }
const DEFAULT_MAX_LENGTH = 512
const PREPARE_QUEUE_LIMIT = 128
const INDICATION_QUEUE_LIMIT = 32

type AttrKind = 'service' | 'charDecl' | 'value' | 'cccd' | 'userDescription' | 'presentationFormat' | 'descriptor'

/** A characteristic at run time. */
export interface CharRuntime {
  def: CharacteristicDefinition
  uuid: string
  serviceUuid: string
  props: number
  declHandle: number
  valueHandle: number
  cccdHandle: number
  endHandle: number
  /** Last written value (persists across connections); read when there is no onRead. */
  stored: Uint8Array | undefined
}

export interface Attribute {
  handle: number
  type: string
  typeBytes: Buffer
  kind: AttrKind
  /** Static value (declarations, 0x2901, 0x2904, descriptor defaults). */
  value: Buffer | undefined
  char: CharRuntime | undefined
  descriptor: DescriptorDefinition | undefined
  /** Last handle of the group (service declarations). */
  groupEnd: number
}

interface ServiceLayout {
  uuid: string
  startHandle?: number
  characteristics: CharacteristicDefinition[]
}

/** The attribute table of a peripheral. */
export class AttDatabase {
  readonly attributes: Attribute[] = []
  readonly characteristics: CharRuntime[] = []
  private readonly byHandle: (Attribute | undefined)[] = []
  private readonly charByUuid = new Map<string, CharRuntime>()

  constructor(def: PeripheralDefinition) {
    const user: ServiceLayout[] = def.services.map((s) => ({ uuid: s.uuid, startHandle: s.startHandle, characteristics: s.characteristics }))
    const hasGap = user.some((s) => normalizeUuid(s.uuid) === '1800')
    const auto: ServiceLayout[] = hasGap || def.gapService === false ? [] : gapServices(def)
    let layout: Attribute[]
    try {
      layout = buildLayout([...auto, ...user])
    } catch (first) {
      if (auto.length === 0) throw first
      // Explicit handles leave no room in front: put Generic Access / Attribute at the end.
      layout = buildLayout([...user, ...auto])
    }
    for (const a of layout) {
      this.attributes.push(a)
      this.byHandle[a.handle] = a
      if (a.kind === 'value' && a.char) {
        this.characteristics.push(a.char)
        if (!this.charByUuid.has(a.char.uuid)) this.charByUuid.set(a.char.uuid, a.char)
      }
    }
  }

  get(handle: number): Attribute | undefined {
    return this.byHandle[handle]
  }

  /** First characteristic with this UUID (any spelling accepted). */
  characteristic(uuid: string): CharRuntime | undefined {
    const hit = this.charByUuid.get(uuid)
    if (hit) return hit
    let n: string
    try {
      n = normalizeUuid(uuid)
    } catch {
      return undefined
    }
    const c = this.charByUuid.get(n)
    if (c) this.charByUuid.set(uuid, c) // cache the caller's spelling
    return c
  }

  get lastHandle(): number {
    return this.attributes.length ? (this.attributes[this.attributes.length - 1] as Attribute).handle : 0
  }
}

function gapServices(def: PeripheralDefinition): ServiceLayout[] {
  const appearance = Buffer.alloc(2)
  appearance.writeUInt16LE(def.appearance ?? 0, 0)
  return [
    {
      uuid: '1800',
      characteristics: [
        { uuid: '2a00', properties: ['read'], initialValue: Buffer.from(def.name, 'utf8') },
        { uuid: '2a01', properties: ['read'], initialValue: appearance },
      ],
    },
    { uuid: '1801', characteristics: [{ uuid: '2a05', properties: ['indicate'], initialValue: Buffer.from([1, 0, 0xff, 0xff]) }] },
  ]
}

function attr(handle: number, type: string, kind: AttrKind, value?: Buffer, char?: CharRuntime, descriptor?: DescriptorDefinition): Attribute {
  if (handle > 0xffff) throw new RangeError('GATT table exceeds handle 0xFFFF')
  return { handle, type, typeBytes: uuidToBytes(type), kind, value, char, descriptor, groupEnd: handle }
}

function buildLayout(services: ServiceLayout[]): Attribute[] {
  const out: Attribute[] = []
  let next = 1
  for (const s of services) {
    const suuid = normalizeUuid(s.uuid)
    const start = s.startHandle ?? next
    if (start < next) throw new RangeError(`service ${suuid}: startHandle 0x${start.toString(16)} overlaps the previous attributes (next free 0x${next.toString(16)})`)
    const decl = attr(start, UUID_PRIMARY_SERVICE, 'service', uuidToBytes(suuid))
    out.push(decl)
    next = start + 1
    for (const c of s.characteristics) {
      const cuuid = normalizeUuid(c.uuid)
      let props = 0
      for (const p of c.properties) {
        const bit = PROP_BITS[p]
        if (bit === undefined) throw new TypeError(`characteristic ${cuuid}: unknown property '${String(p)}'`)
        props |= bit
      }
      const declHandle = c.valueHandle !== undefined ? c.valueHandle - 1 : next
      if (declHandle < next) {
        throw new RangeError(`characteristic ${cuuid}: valueHandle 0x${(c.valueHandle ?? 0).toString(16)} overlaps the previous attributes (next free value handle 0x${(next + 1).toString(16)})`)
      }
      const valueHandle = declHandle + 1
      const rt: CharRuntime = { def: c, uuid: cuuid, serviceUuid: suuid, props, declHandle, valueHandle, cccdHandle: 0, endHandle: valueHandle, stored: undefined }
      const declValue = Buffer.concat([Buffer.from([props, valueHandle & 0xff, valueHandle >> 8]), uuidToBytes(cuuid)])
      out.push(attr(declHandle, UUID_CHARACTERISTIC, 'charDecl', declValue, rt))
      out.push(attr(valueHandle, cuuid, 'value', undefined, rt))
      next = valueHandle + 1
      if (props & 0x30) {
        rt.cccdHandle = next
        out.push(attr(next++, UUID_CCCD, 'cccd', undefined, rt))
      }
      if (c.userDescription !== undefined) {
        out.push(attr(next++, UUID_USER_DESCRIPTION, 'userDescription', Buffer.from(c.userDescription, 'utf8'), rt))
      }
      if (c.presentationFormat) {
        out.push(attr(next++, UUID_PRESENTATION_FORMAT, 'presentationFormat', Buffer.from(encodePresentationFormat(c.presentationFormat)), rt))
      }
      for (const d of c.descriptors ?? []) {
        out.push(attr(next++, normalizeUuid(d.uuid), 'descriptor', d.value ? Buffer.from(d.value) : Buffer.alloc(0), rt, d))
      }
      rt.endHandle = next - 1
    }
    decl.groupEnd = next - 1
  }
  return out
}

/** Fault state of a peripheral, consulted by its bearers. */
export interface AttFaults {
  /** ATT requests get no answer at all. */
  silent: boolean
  /** Errors to answer the next matching requests with. */
  failNext: { opcode: number | 'any'; error: AttErrorCode }[]
}

/** What a bearer needs from its connection. */
export interface AttBearerIo {
  /** A frame buffer with room for `attLength` ATT octets at {@link L2CAP_PAYLOAD_OFFSET}. */
  alloc(attLength: number): Buffer
  /** Queue a frame; false when the link refused it (transmit queue full / closed). */
  send(frame: Buffer, reliable: boolean, onSent?: (delivered: boolean) => void): boolean
  /** Link-layer PDUs waiting for the air. */
  queued(): number
}

interface PendingIndication {
  frame: Buffer
  onConfirm: ((confirmed: boolean) => void) | undefined
}

interface PreparedWrite {
  attr: Attribute
  offset: number
  value: Buffer
}

const O = L2CAP_PAYLOAD_OFFSET

/** Server side of one connection's ATT bearer. */
export class AttBearer implements GattServerApi {
  mtu = 23
  private readonly db: AttDatabase
  private readonly io: AttBearerIo
  private readonly hooks: PeripheralHooks
  private readonly faults: AttFaults
  private readonly serverMtu: number
  private readonly cccd = new Map<number, number>()
  private prepared: PreparedWrite[] = []
  private readonly readSnapshots = new Map<number, Buffer>()
  private indicationOutstanding: PendingIndication | undefined
  private readonly indications: PendingIndication[] = []
  private open = true
  private readonly onError: (error: unknown) => void

  /** `onError`: a table handler (onRead, onWrite, hooks) threw; the request is answered with Unlikely Error. */
  constructor(db: AttDatabase, io: AttBearerIo, hooks: PeripheralHooks, faults: AttFaults, serverMtu = 247, onError?: (error: unknown) => void) {
    this.db = db
    this.io = io
    this.hooks = hooks
    this.faults = faults
    this.serverMtu = Math.max(23, Math.min(517, serverMtu))
    this.onError = onError ?? ((e) => console.error('virtual peripheral handler failed:', e))
  }

  get connected(): boolean {
    return this.open
  }

  get queued(): number {
    return this.io.queued()
  }

  // ---- GattServerApi -------------------------------------------------------------------------------------------

  notify(charUuid: string, value: Uint8Array): boolean {
    if (!this.open) return false
    const c = this.db.characteristic(charUuid)
    if (!c) return false
    const cfg = this.cccd.get(c.cccdHandle) ?? 0
    if (cfg & 1) return this.sendValue(ATT.handleValueNotification, c.valueHandle, value, false)
    if (cfg & 2) return this.indicate(charUuid, value)
    return false
  }

  indicate(charUuid: string, value: Uint8Array, onConfirm?: (confirmed: boolean) => void): boolean {
    if (!this.open) return false
    const c = this.db.characteristic(charUuid)
    if (!c || !((this.cccd.get(c.cccdHandle) ?? 0) & 2)) return false
    if (this.indicationOutstanding && this.indications.length >= INDICATION_QUEUE_LIMIT) return false
    const frame = this.valueFrame(ATT.handleValueIndication, c.valueHandle, value)
    const pending: PendingIndication = { frame, onConfirm }
    if (this.indicationOutstanding) {
      this.indications.push(pending)
      return true
    }
    this.indicationOutstanding = pending
    this.io.send(frame, true)
    return true
  }

  isSubscribed(charUuid: string): boolean {
    const c = this.db.characteristic(charUuid)
    return c !== undefined && ((this.cccd.get(c.cccdHandle) ?? 0) & 3) !== 0
  }

  subscriptions(charUuid: string): SubscriptionKind[] {
    const c = this.db.characteristic(charUuid)
    return c ? kindsOf(this.cccd.get(c.cccdHandle) ?? 0) : []
  }

  // ---- link side -----------------------------------------------------------------------------------------------

  /** The link went down: pending indications are reported unconfirmed. */
  close(): void {
    if (!this.open) return
    this.open = false
    const pending = [...(this.indicationOutstanding ? [this.indicationOutstanding] : []), ...this.indications]
    this.indicationOutstanding = undefined
    this.indications.length = 0
    for (const p of pending) p.onConfirm?.(false)
  }

  /** An ATT PDU from the client. */
  receive(pdu: Buffer): void {
    if (!this.open || pdu.length === 0) return
    if (this.faults.silent) return
    const op = pdu[0] as number
    if (op === ATT.handleValueConfirmation) {
      this.confirmed()
      return
    }
    const isCommand = (op & 0x40) !== 0
    const isRequest = !isCommand && (op & 1) === 0
    if (!isCommand && !isRequest) return // a response / notification from the client: not ours
    if (isRequest && op !== ATT.mtuReq && this.faults.failNext.length) {
      const i = this.faults.failNext.findIndex((f) => f.opcode === 'any' || f.opcode === op)
      if (i >= 0) {
        const f = this.faults.failNext.splice(i, 1)[0] as { error: number }
        this.error(op, pdu.length >= 3 ? pdu.readUInt16LE(1) : 0, f.error)
        return
      }
    }
    try {
      this.dispatch(op, pdu, isRequest)
    } catch (e) {
      this.onError(e)
      if (isRequest) this.error(op, pdu.length >= 3 ? pdu.readUInt16LE(1) : 0, AttError.unlikelyError)
    }
  }

  private dispatch(op: number, pdu: Buffer, isRequest: boolean): void {
    switch (op) {
      case ATT.mtuReq:
        return this.onMtu(pdu)
      case ATT.findInfoReq:
        return this.onFindInfo(pdu)
      case ATT.findByTypeValueReq:
        return this.onFindByTypeValue(pdu)
      case ATT.readByTypeReq:
        return this.onReadByType(pdu)
      case ATT.readReq:
        return this.onRead(pdu)
      case ATT.readBlobReq:
        return this.onReadBlob(pdu)
      case ATT.readMultipleReq:
        return this.onReadMultiple(pdu)
      case ATT.readByGroupTypeReq:
        return this.onReadByGroupType(pdu)
      case ATT.writeReq:
        return this.onWrite(pdu, true)
      case ATT.writeCmd:
        return this.onWrite(pdu, false)
      case ATT.prepareWriteReq:
        return this.onPrepareWrite(pdu)
      case ATT.executeWriteReq:
        return this.onExecuteWrite(pdu)
      default:
        if (isRequest) this.error(op, 0, AttError.requestNotSupported)
    }
  }

  // ---- requests ------------------------------------------------------------------------------------------------

  private onMtu(pdu: Buffer): void {
    if (pdu.length !== 3) return this.error(ATT.mtuReq, 0, AttError.invalidPdu)
    const clientMtu = pdu.readUInt16LE(1)
    const rsp = this.frame(3)
    rsp[O] = ATT.mtuRsp
    rsp.writeUInt16LE(this.serverMtu, O + 1)
    this.reply(rsp)
    const mtu = Math.max(23, Math.min(clientMtu, this.serverMtu))
    if (mtu !== this.mtu) {
      this.mtu = mtu
      this.hooks.onMtu?.(mtu)
    }
  }

  private range(op: number, pdu: Buffer, minLength: number): [number, number] | undefined {
    if (pdu.length < minLength) {
      this.error(op, 0, AttError.invalidPdu)
      return undefined
    }
    const start = pdu.readUInt16LE(1)
    const end = pdu.readUInt16LE(3)
    if (start === 0 || start > end) {
      this.error(op, start, AttError.invalidHandle)
      return undefined
    }
    return [start, end]
  }

  private onFindInfo(pdu: Buffer): void {
    const r = this.range(ATT.findInfoReq, pdu, 5)
    if (!r) return
    const [start, end] = r
    const entries: Attribute[] = []
    let format = 0
    let size = 2
    for (const a of this.db.attributes) {
      if (a.handle < start) continue
      if (a.handle > end) break
      const f = a.typeBytes.length === 2 ? 1 : 2
      if (format === 0) format = f
      else if (f !== format) break
      const entry = 2 + a.typeBytes.length
      if (size + entry > this.mtu) break
      entries.push(a)
      size += entry
    }
    if (!entries.length) return this.error(ATT.findInfoReq, start, AttError.attributeNotFound)
    const rsp = this.frame(size)
    rsp[O] = ATT.findInfoRsp
    rsp[O + 1] = format
    let p = O + 2
    for (const a of entries) {
      rsp.writeUInt16LE(a.handle, p)
      a.typeBytes.copy(rsp, p + 2)
      p += 2 + a.typeBytes.length
    }
    this.reply(rsp)
  }

  private onFindByTypeValue(pdu: Buffer): void {
    const r = this.range(ATT.findByTypeValueReq, pdu, 7)
    if (!r) return
    const [start, end] = r
    const type = pdu.readUInt16LE(5).toString(16).padStart(4, '0')
    const value = pdu.subarray(7)
    const found: [number, number][] = []
    for (const a of this.db.attributes) {
      if (a.handle < start) continue
      if (a.handle > end) break
      if (a.type !== type) continue
      const v = this.readValue(a)
      if (typeof v === 'number' || !v.equals(value)) continue
      if (1 + (found.length + 1) * 4 > this.mtu) break
      found.push([a.handle, a.kind === 'service' ? a.groupEnd : a.handle])
    }
    if (!found.length) return this.error(ATT.findByTypeValueReq, start, AttError.attributeNotFound)
    const rsp = this.frame(1 + found.length * 4)
    rsp[O] = ATT.findByTypeValueRsp
    found.forEach(([h, e], i) => {
      rsp.writeUInt16LE(h, O + 1 + i * 4)
      rsp.writeUInt16LE(e, O + 3 + i * 4)
    })
    this.reply(rsp)
  }

  private requestType(op: number, pdu: Buffer): string | undefined {
    if (pdu.length !== 7 && pdu.length !== 21) {
      this.error(op, 0, AttError.invalidPdu)
      return undefined
    }
    const bytes = Buffer.from(pdu.subarray(5)).reverse()
    return normalizeUuid(bytes.toString('hex'))
  }

  private onReadByType(pdu: Buffer): void {
    const r = this.range(ATT.readByTypeReq, pdu, 7)
    if (!r) return
    const type = this.requestType(ATT.readByTypeReq, pdu)
    if (type === undefined) return
    const [start, end] = r
    const entries: [number, Buffer][] = []
    let valueLength = -1
    let size = 2
    for (const a of this.db.attributes) {
      if (a.handle < start) continue
      if (a.handle > end) break
      if (a.type !== type) continue
      const v = this.readValue(a)
      if (typeof v === 'number') {
        if (!entries.length) return this.error(ATT.readByTypeReq, a.handle, v)
        break
      }
      const len = Math.min(v.length, this.mtu - 4, 253)
      if (valueLength < 0) valueLength = len
      else if (len !== valueLength) break
      if (size + 2 + len > this.mtu) break
      entries.push([a.handle, v])
      size += 2 + len
    }
    if (!entries.length) return this.error(ATT.readByTypeReq, start, AttError.attributeNotFound)
    const rsp = this.frame(size)
    rsp[O] = ATT.readByTypeRsp
    rsp[O + 1] = valueLength + 2
    let p = O + 2
    for (const [h, v] of entries) {
      rsp.writeUInt16LE(h, p)
      v.copy(rsp, p + 2, 0, valueLength)
      p += 2 + valueLength
    }
    this.reply(rsp)
  }

  private onReadByGroupType(pdu: Buffer): void {
    const r = this.range(ATT.readByGroupTypeReq, pdu, 7)
    if (!r) return
    const type = this.requestType(ATT.readByGroupTypeReq, pdu)
    if (type === undefined) return
    const [start, end] = r
    if (type !== UUID_PRIMARY_SERVICE && type !== UUID_SECONDARY_SERVICE) {
      return this.error(ATT.readByGroupTypeReq, start, AttError.unsupportedGroupType)
    }
    const entries: Attribute[] = []
    let valueLength = -1
    let size = 2
    for (const a of this.db.attributes) {
      if (a.handle < start) continue
      if (a.handle > end) break
      if (a.type !== type || !a.value) continue
      const len = a.value.length
      if (valueLength < 0) valueLength = len
      else if (len !== valueLength) break
      if (size + 4 + len > this.mtu) break
      entries.push(a)
      size += 4 + len
    }
    if (!entries.length) return this.error(ATT.readByGroupTypeReq, start, AttError.attributeNotFound)
    const rsp = this.frame(size)
    rsp[O] = ATT.readByGroupTypeRsp
    rsp[O + 1] = valueLength + 4
    let p = O + 2
    for (const a of entries) {
      rsp.writeUInt16LE(a.handle, p)
      rsp.writeUInt16LE(a.groupEnd, p + 2)
      ;(a.value as Buffer).copy(rsp, p + 4)
      p += 4 + valueLength
    }
    this.reply(rsp)
  }

  private onRead(pdu: Buffer): void {
    if (pdu.length !== 3) return this.error(ATT.readReq, 0, AttError.invalidPdu)
    const handle = pdu.readUInt16LE(1)
    const a = this.db.get(handle)
    if (!a) return this.error(ATT.readReq, handle, AttError.invalidHandle)
    const v = this.readValue(a)
    if (typeof v === 'number') return this.error(ATT.readReq, handle, v)
    // Keep the value for the Read Blob requests that follow a long read.
    if (v.length > this.mtu - 1) this.readSnapshots.set(handle, v)
    else this.readSnapshots.delete(handle)
    this.replyValue(ATT.readRsp, v, 0)
  }

  private onReadBlob(pdu: Buffer): void {
    if (pdu.length !== 5) return this.error(ATT.readBlobReq, 0, AttError.invalidPdu)
    const handle = pdu.readUInt16LE(1)
    const offset = pdu.readUInt16LE(3)
    const a = this.db.get(handle)
    if (!a) return this.error(ATT.readBlobReq, handle, AttError.invalidHandle)
    let v: Buffer | number | undefined = offset > 0 ? this.readSnapshots.get(handle) : undefined
    if (v === undefined) v = this.readValue(a)
    if (typeof v === 'number') return this.error(ATT.readBlobReq, handle, v)
    if (offset > v.length) return this.error(ATT.readBlobReq, handle, AttError.invalidOffset)
    if (offset + this.mtu - 1 >= v.length) this.readSnapshots.delete(handle)
    else this.readSnapshots.set(handle, v)
    this.replyValue(ATT.readBlobRsp, v, offset)
  }

  private onReadMultiple(pdu: Buffer): void {
    if (pdu.length < 5 || (pdu.length - 1) % 2 !== 0) return this.error(ATT.readMultipleReq, 0, AttError.invalidPdu)
    const parts: Buffer[] = []
    for (let p = 1; p < pdu.length; p += 2) {
      const handle = pdu.readUInt16LE(p)
      const a = this.db.get(handle)
      if (!a) return this.error(ATT.readMultipleReq, handle, AttError.invalidHandle)
      const v = this.readValue(a)
      if (typeof v === 'number') return this.error(ATT.readMultipleReq, handle, v)
      parts.push(v)
    }
    this.replyValue(ATT.readMultipleRsp, Buffer.concat(parts), 0)
  }

  private onWrite(pdu: Buffer, withResponse: boolean): void {
    const op = withResponse ? ATT.writeReq : ATT.writeCmd
    if (pdu.length < 3) return withResponse ? this.error(op, 0, AttError.invalidPdu) : undefined
    const handle = pdu.readUInt16LE(1)
    const value = pdu.subarray(3)
    const a = this.db.get(handle)
    if (!a) return withResponse ? this.error(op, handle, AttError.invalidHandle) : undefined
    const err = this.writeValue(a, value, withResponse ? 'request' : 'command')
    if (!withResponse) return
    if (err) return this.error(op, handle, err)
    const rsp = this.frame(1)
    rsp[O] = ATT.writeRsp
    this.reply(rsp)
  }

  private onPrepareWrite(pdu: Buffer): void {
    if (pdu.length < 5) return this.error(ATT.prepareWriteReq, 0, AttError.invalidPdu)
    const handle = pdu.readUInt16LE(1)
    const offset = pdu.readUInt16LE(3)
    const a = this.db.get(handle)
    if (!a) return this.error(ATT.prepareWriteReq, handle, AttError.invalidHandle)
    const perm = this.writePermission(a, 'request')
    if (perm) return this.error(ATT.prepareWriteReq, handle, perm)
    if (this.prepared.length >= PREPARE_QUEUE_LIMIT) return this.error(ATT.prepareWriteReq, handle, AttError.prepareQueueFull)
    this.prepared.push({ attr: a, offset, value: Buffer.from(pdu.subarray(5)) })
    const rsp = this.frame(pdu.length)
    pdu.copy(rsp, O)
    rsp[O] = ATT.prepareWriteRsp
    this.reply(rsp)
  }

  private onExecuteWrite(pdu: Buffer): void {
    if (pdu.length !== 2) return this.error(ATT.executeWriteReq, 0, AttError.invalidPdu)
    const queue = this.prepared
    this.prepared = []
    if (pdu[1] === 0x01) {
      // Assemble per handle, in the order the handles were first prepared.
      const values = new Map<number, { attr: Attribute; value: Buffer }>()
      for (const p of queue) {
        const cur = values.get(p.attr.handle) ?? { attr: p.attr, value: Buffer.alloc(0) }
        if (p.offset > cur.value.length) return this.error(ATT.executeWriteReq, p.attr.handle, AttError.invalidOffset)
        const end = p.offset + p.value.length
        const next = end > cur.value.length ? Buffer.alloc(end) : cur.value
        if (next !== cur.value) cur.value.copy(next)
        p.value.copy(next, p.offset)
        cur.value = next
        values.set(p.attr.handle, cur)
      }
      for (const { attr: a, value } of values.values()) {
        const err = this.writeValue(a, value, 'request')
        if (err) return this.error(ATT.executeWriteReq, a.handle, err)
      }
    } else if (pdu[1] !== 0x00) {
      return this.error(ATT.executeWriteReq, 0, AttError.invalidPdu)
    }
    const rsp = this.frame(1)
    rsp[O] = ATT.executeWriteRsp
    this.reply(rsp)
  }

  private confirmed(): void {
    const done = this.indicationOutstanding
    if (!done) return
    this.indicationOutstanding = this.indications.shift()
    if (this.indicationOutstanding) this.io.send(this.indicationOutstanding.frame, true)
    done.onConfirm?.(true)
  }

  // ---- values --------------------------------------------------------------------------------------------------

  private readValue(a: Attribute): Buffer | AttErrorCode {
    switch (a.kind) {
      case 'service':
      case 'charDecl':
      case 'userDescription':
      case 'presentationFormat':
        return a.value as Buffer
      case 'cccd': {
        const b = Buffer.alloc(2)
        b.writeUInt16LE(this.cccd.get(a.handle) ?? 0, 0)
        return b
      }
      case 'descriptor': {
        const d = a.descriptor as DescriptorDefinition
        if (d.onRead) {
          const v = d.onRead()
          return typeof v === 'number' ? v : toBuffer(v)
        }
        return a.value ?? Buffer.alloc(0)
      }
      case 'value': {
        const c = a.char as CharRuntime
        if (!(c.props & 0x02)) return AttError.readNotPermitted
        if (c.def.onRead) {
          const v = c.def.onRead()
          return typeof v === 'number' ? v : toBuffer(v)
        }
        return toBuffer(c.stored ?? c.def.initialValue ?? EMPTY)
      }
    }
  }

  private writePermission(a: Attribute, mode: 'request' | 'command'): AttErrorCode {
    switch (a.kind) {
      case 'cccd':
        return 0
      case 'descriptor':
        return a.descriptor?.onWrite ? 0 : AttError.writeNotPermitted
      case 'value': {
        const c = a.char as CharRuntime
        const bit = mode === 'request' ? 0x08 : 0x04
        return c.props & bit ? 0 : AttError.writeNotPermitted
      }
      default:
        return AttError.writeNotPermitted
    }
  }

  private writeValue(a: Attribute, value: Buffer, mode: 'request' | 'command'): AttErrorCode {
    const perm = this.writePermission(a, mode)
    if (perm) return perm
    if (a.kind === 'cccd') {
      if (value.length !== 2) return AttError.invalidAttributeValueLength
      const c = a.char as CharRuntime
      const cfg = value.readUInt16LE(0) & 3
      if ((cfg & 1 && !(c.props & 0x10)) || (cfg & 2 && !(c.props & 0x20))) return AttError.cccdImproperlyConfigured
      const before = this.cccd.get(a.handle) ?? 0
      this.cccd.set(a.handle, cfg)
      if (before !== cfg) this.hooks.onSubscribe?.(c.uuid, kindsOf(cfg))
      return 0
    }
    if (a.kind === 'descriptor') {
      const r = (a.descriptor as DescriptorDefinition).onWrite?.(new Uint8Array(value))
      if (typeof r === 'number' && r !== 0) return r
      a.value = Buffer.from(value)
      return 0
    }
    const c = a.char as CharRuntime
    if (value.length > (c.def.maxLength ?? DEFAULT_MAX_LENGTH)) return AttError.invalidAttributeValueLength
    const copy = new Uint8Array(value) // the handler may keep it
    if (c.def.onWrite) {
      const r = c.def.onWrite(copy, mode === 'request')
      if (typeof r === 'number' && r !== 0) return r
    }
    c.stored = copy
    return 0
  }

  // ---- frames --------------------------------------------------------------------------------------------------

  private frame(attLength: number): Buffer {
    return this.io.alloc(attLength)
  }

  private reply(frame: Buffer): void {
    this.io.send(frame, true)
  }

  private error(op: number, handle: number, code: AttErrorCode): void {
    const rsp = this.frame(5)
    rsp[O] = ATT.errorRsp
    rsp[O + 1] = op
    rsp.writeUInt16LE(handle, O + 2)
    rsp[O + 4] = code & 0xff
    this.reply(rsp)
  }

  private replyValue(op: number, v: Buffer, offset: number): void {
    const len = Math.max(0, Math.min(v.length - offset, this.mtu - 1))
    const rsp = this.frame(1 + len)
    rsp[O] = op
    v.copy(rsp, O + 1, offset, offset + len)
    this.reply(rsp)
  }

  private valueFrame(op: number, handle: number, value: Uint8Array): Buffer {
    const len = Math.min(value.length, this.mtu - 3)
    const f = this.io.alloc(3 + len)
    f[O] = op
    f[O + 1] = handle & 0xff
    f[O + 2] = handle >> 8
    f.set(len === value.length ? value : value.subarray(0, len), O + 3)
    return f
  }

  private sendValue(op: number, handle: number, value: Uint8Array, reliable: boolean): boolean {
    return this.io.send(this.valueFrame(op, handle, value), reliable)
  }
}

const EMPTY = new Uint8Array(0)

function toBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)
}

function kindsOf(cfg: number): SubscriptionKind[] {
  const k: SubscriptionKind[] = []
  if (cfg & 1) k.push('notify')
  if (cfg & 2) k.push('indicate')
  return k
}
