import type { DecodeOptions, EncodeOptions, ValueCodec } from './codec.ts'
import { ContentFormat } from './content-format.ts'
import { CodecError, isCodecError } from './errors.ts'
import type { ModelLookup } from './object-model.ts'
import { comparePaths, formatPath, isPathPrefixOf, makePath, MAX_ID, pathDepth, pathIds } from './path.ts'
import type { Lwm2mPath } from './path.ts'
import { coerceValue, inferType, normalizeInteger } from './values.ts'
import type { Lwm2mRecord, Lwm2mValue, Objlnk, ResourceType } from './values.ts'

/** The four TLV entry kinds, in the order of their type-byte bits 7–6 (00, 01, 10, 11). */
export type TlvKind = 'objectInstance' | 'resourceInstance' | 'multipleResource' | 'resource'

/** An entry that carries a value. Decoded values are views into the payload, not copies. */
export interface TlvLeaf {
  readonly kind: 'resource' | 'resourceInstance'
  readonly id: number
  readonly value: Uint8Array
  /** Where the entry's type byte sits in the decoded payload (absent on entries built for encoding). */
  readonly offset?: number
}

/** An entry that carries other entries: an object instance holds resources, a multiple resource holds instances. */
export interface TlvContainer {
  readonly kind: 'objectInstance' | 'multipleResource'
  readonly id: number
  readonly children: readonly TlvEntry[]
  readonly offset?: number
}

export type TlvEntry = TlvLeaf | TlvContainer

const KINDS: readonly TlvKind[] = ['objectInstance', 'resourceInstance', 'multipleResource', 'resource']
const KIND_NAMES: Readonly<Record<TlvKind, string>> = {
  objectInstance: 'object instance',
  resourceInstance: 'resource instance',
  multipleResource: 'multiple resource',
  resource: 'resource',
}
const MAX_LENGTH = 0xffffff

function tlvError(reason: string, offset?: number): CodecError {
  return new CodecError('TLV', reason, offset)
}

function describeEntry(e: TlvEntry): string {
  return `${KIND_NAMES[e.kind]} ${e.id}`
}

// Object instances hold resources; multiple resources hold resource instances. This also bounds nesting at 3 levels.
function allowedInside(parent: TlvContainer['kind'], kind: TlvKind): boolean {
  return parent === 'objectInstance' ? kind === 'resource' || kind === 'multipleResource' : kind === 'resourceInstance'
}

/**
 * Parses a TLV payload into its entries, checking lengths and nesting. Leaf values are views into
 * `bytes` (no copies). Throws `CodecError` naming the cause and the offset.
 */
export function decodeTlvEntries(bytes: Uint8Array): TlvEntry[] {
  return readEntries(bytes, 0, bytes.length, undefined)
}

interface Parent {
  readonly kind: TlvContainer['kind']
  readonly id: number
}

function readEntries(bytes: Uint8Array, start: number, end: number, parent: Parent | undefined): TlvEntry[] {
  const entries: TlvEntry[] = []
  let pos = start
  while (pos < end) {
    const offset = pos
    const typeByte = bytes[pos++] as number
    const kind = KINDS[typeByte >> 6] as TlvKind
    const idSize = typeByte & 0x20 ? 2 : 1
    const lengthSize = (typeByte >> 3) & 0b11
    if (end - pos < idSize) throw tlvError(`truncated identifier: needs ${idSize} bytes, ${end - pos} remaining`, offset)
    const id = idSize === 1 ? (bytes[pos] as number) : ((bytes[pos] as number) << 8) | (bytes[pos + 1] as number)
    pos += idSize
    if (id > MAX_ID) throw tlvError(`${KIND_NAMES[kind]} identifier ${id} is reserved`, offset)
    let length = typeByte & 0b111
    if (lengthSize > 0) {
      if (end - pos < lengthSize) throw tlvError(`truncated length field: needs ${lengthSize} bytes, ${end - pos} remaining`, offset)
      length = 0
      for (let i = 0; i < lengthSize; i++) length = length * 256 + (bytes[pos++] as number)
    }
    if (length > end - pos) throw tlvError(`length ${length} exceeds remaining ${end - pos} bytes`, offset)
    if (parent !== undefined && !allowedInside(parent.kind, kind)) {
      throw tlvError(`${KIND_NAMES[kind]} ${id} cannot sit inside ${KIND_NAMES[parent.kind]} ${parent.id}`, offset)
    }
    if (kind === 'objectInstance' || kind === 'multipleResource') {
      entries.push({ kind, id, children: readEntries(bytes, pos, pos + length, { kind, id }), offset })
    } else {
      entries.push({ kind, id, value: bytes.subarray(pos, pos + length), offset })
    }
    pos += length
  }
  return entries
}

/** Serialises entries with 8-bit ids where they fit and the smallest length field. */
export function encodeTlvEntries(entries: readonly TlvEntry[]): Uint8Array {
  checkEntries(entries, undefined)
  const out = new Uint8Array(entriesSize(entries))
  writeEntries(out, 0, entries)
  return out
}

function checkEntries(entries: readonly TlvEntry[], parent: Parent | undefined): void {
  for (const e of entries) {
    if (!Number.isInteger(e.id) || e.id < 0 || e.id > MAX_ID) throw tlvError(`${KIND_NAMES[e.kind]} id ${e.id} is out of range 0-${MAX_ID}`)
    if (parent !== undefined && !allowedInside(parent.kind, e.kind)) {
      throw tlvError(`${describeEntry(e)} cannot sit inside ${KIND_NAMES[parent.kind]} ${parent.id}`)
    }
    if ('children' in e) checkEntries(e.children, e)
  }
}

function contentLength(e: TlvEntry): number {
  const length = 'children' in e ? entriesSize(e.children) : e.value.length
  if (length > MAX_LENGTH) throw tlvError(`${describeEntry(e)} of ${length} bytes is longer than TLV allows (${MAX_LENGTH})`)
  return length
}

function lengthFieldSize(length: number): number {
  return length <= 7 ? 0 : length <= 0xff ? 1 : length <= 0xffff ? 2 : 3
}

function entriesSize(entries: readonly TlvEntry[]): number {
  let size = 0
  for (const e of entries) {
    const length = contentLength(e)
    size += 1 + (e.id > 0xff ? 2 : 1) + lengthFieldSize(length) + length
  }
  return size
}

function writeEntries(out: Uint8Array, start: number, entries: readonly TlvEntry[]): number {
  let pos = start
  for (const e of entries) {
    const length = contentLength(e)
    const lengthSize = lengthFieldSize(length)
    const wideId = e.id > 0xff
    out[pos++] = (KINDS.indexOf(e.kind) << 6) | (wideId ? 0x20 : 0) | (lengthSize << 3) | (lengthSize === 0 ? length : 0)
    if (wideId) out[pos++] = e.id >> 8
    out[pos++] = e.id & 0xff
    for (let shift = (lengthSize - 1) * 8; shift >= 0; shift -= 8) out[pos++] = (length >> shift) & 0xff
    if ('children' in e) {
      pos = writeEntries(out, pos, e.children)
    } else {
      out.set(e.value, pos)
      pos += length
    }
  }
  return pos
}

// ---- values ----

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const utf8Encoder = new TextEncoder()

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function readInteger(v: Uint8Array, signed: boolean): number | bigint | undefined {
  const dv = view(v)
  switch (v.length) {
    case 1:
      return signed ? dv.getInt8(0) : dv.getUint8(0)
    case 2:
      return signed ? dv.getInt16(0) : dv.getUint16(0)
    case 4:
      return signed ? dv.getInt32(0) : dv.getUint32(0)
    case 8:
      return normalizeInteger(signed ? dv.getBigInt64(0) : dv.getBigUint64(0))
    default:
      return undefined
  }
}

/** Decodes one TLV value as the model's type says. `where` names the path for error messages. */
function decodeValue(v: Uint8Array, type: ResourceType, where: string, offset: number | undefined): Lwm2mValue {
  const fail = (reason: string): never => {
    throw tlvError(`${where}: ${reason}`, offset)
  }
  switch (type) {
    case 'integer':
    case 'time':
    case 'unsigned':
      return readInteger(v, type !== 'unsigned') ?? fail(`${type} value of ${v.length} bytes (must be 1, 2, 4 or 8)`)
    case 'float':
      if (v.length === 4) return view(v).getFloat32(0)
      if (v.length === 8) return view(v).getFloat64(0)
      return fail(`float value of ${v.length} bytes (must be 4 or 8)`)
    case 'boolean':
      if (v.length !== 1) return fail(`boolean value of ${v.length} bytes (must be 1)`)
      if (v[0] !== 0 && v[0] !== 1) return fail(`boolean value ${v[0]} (must be 0 or 1)`)
      return v[0] === 1
    case 'string':
    case 'corelnk':
      try {
        return utf8Decoder.decode(v)
      } catch {
        return fail(`${type} value is not valid UTF-8`)
      }
    case 'objlnk':
      if (v.length !== 4) return fail(`objlnk value of ${v.length} bytes (must be 4)`)
      return { objectId: view(v).getUint16(0), instanceId: view(v).getUint16(2) }
    case 'opaque':
    case 'none':
      return v.slice()
  }
}

function writeBytes(size: number, write: (dv: DataView) => void): Uint8Array {
  const out = new Uint8Array(size)
  write(new DataView(out.buffer))
  return out
}

function encodeInteger(n: number | bigint, signed: boolean, where: string): Uint8Array {
  if (typeof n === 'number' && Number.isSafeInteger(n)) {
    if (signed ? n >= -0x80 && n <= 0x7f : n >= 0 && n <= 0xff) return Uint8Array.of(n & 0xff)
    if (signed ? n >= -0x8000 && n <= 0x7fff : n >= 0 && n <= 0xffff) return writeBytes(2, (dv) => dv.setUint16(0, n & 0xffff))
    if (signed ? n >= -0x80000000 && n <= 0x7fffffff : n >= 0 && n <= 0xffffffff) {
      return writeBytes(4, (dv) => (signed ? dv.setInt32(0, n) : dv.setUint32(0, n)))
    }
  }
  const big = BigInt(n)
  const [min, max] = signed ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n]
  if (big < min || big > max) throw tlvError(`${where}: ${signed ? 'integer' : 'unsigned'} ${big} does not fit in 8 bytes`)
  return writeBytes(8, (dv) => (signed ? dv.setBigInt64(0, big) : dv.setBigUint64(0, big)))
}

function encodeValue(record: Lwm2mRecord, models: ModelLookup | undefined): Uint8Array {
  const { path } = record
  const where = formatPath(path)
  const modelType = models?.resource(path.objectId as number, path.resourceId as number)?.type
  let type = record.type ?? modelType ?? inferType(record.value)
  if (type === 'none') type = 'opaque'
  let value: Lwm2mValue
  try {
    value = coerceValue(record.value, type)
  } catch (e) {
    throw isCodecError(e) ? tlvError(`${where}: ${e.reason}`) : e
  }
  switch (type) {
    case 'integer':
    case 'time':
    case 'unsigned':
      return encodeInteger(value as number | bigint, type !== 'unsigned', where)
    case 'float': {
      const x = value as number
      // float32 only when it reads back as the same double (NaN goes as float64: NaN !== NaN).
      return Math.fround(x) === x ? writeBytes(4, (dv) => dv.setFloat32(0, x)) : writeBytes(8, (dv) => dv.setFloat64(0, x))
    }
    case 'boolean':
      return Uint8Array.of(value ? 1 : 0)
    case 'string':
    case 'corelnk':
      return utf8Encoder.encode(value as string)
    case 'objlnk': {
      const link = value as Objlnk
      const ok = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffff
      if (!ok(link.objectId) || !ok(link.instanceId)) {
        throw tlvError(`${where}: object link ${link.objectId}:${link.instanceId} is out of range 0-65535`)
      }
      return writeBytes(4, (dv) => {
        dv.setUint16(0, link.objectId)
        dv.setUint16(2, link.instanceId)
      })
    }
    default:
      return value as Uint8Array
  }
}

// ---- records ----

interface DecodeContext {
  readonly base: Lwm2mPath
  readonly objectId: number
  readonly models: ModelLookup | undefined
  readonly out: Lwm2mRecord[]
}

function pushValue(ctx: DecodeContext, leaf: TlvLeaf, instanceId: number, resourceId: number, resourceInstanceId?: number): void {
  const ids = [ctx.objectId, instanceId, resourceId]
  if (resourceInstanceId !== undefined) ids.push(resourceInstanceId)
  const path = makePath(ids, ctx.base.prefix)
  const modelType = ctx.models?.resource(ctx.objectId, resourceId)?.type
  const type: ResourceType = modelType === undefined || modelType === 'none' ? 'opaque' : modelType
  ctx.out.push({ path, value: decodeValue(leaf.value, type, formatPath(path), leaf.offset), type })
}

function pushResource(ctx: DecodeContext, entry: TlvEntry, instanceId: number): void {
  if (entry.kind === 'resource') {
    pushValue(ctx, entry, instanceId, entry.id)
  } else if (entry.kind === 'multipleResource') {
    for (const child of entry.children) pushValue(ctx, child as TlvLeaf, instanceId, entry.id, child.id)
  } else {
    throw unexpected(ctx, entry)
  }
}

function unexpected(ctx: DecodeContext, entry: TlvEntry): CodecError {
  return tlvError(`unexpected ${describeEntry(entry)} in a payload for ${formatPath(ctx.base)}`, entry.offset)
}

function idConflict(ctx: DecodeContext, entry: TlvEntry): CodecError {
  return tlvError(`${describeEntry(entry)} does not match the base path ${formatPath(ctx.base)}`, entry.offset)
}

function decode(bytes: Uint8Array, options: DecodeOptions = {}): Lwm2mRecord[] {
  const base = options.basePath ?? {}
  if (base.objectId === undefined) throw tlvError('needs a base path with an object id')
  const entries = decodeTlvEntries(bytes)
  const ctx: DecodeContext = { base, objectId: base.objectId, models: options.models, out: [] }
  const [, instanceId = 0, resourceId, resourceInstanceId] = pathIds(base)
  const first = entries[0]
  switch (pathDepth(base)) {
    case 1:
      if (first?.kind === 'objectInstance') {
        for (const e of entries) {
          if (e.kind !== 'objectInstance') throw unexpected(ctx, e)
          for (const r of e.children) pushResource(ctx, r, e.id)
        }
      } else {
        // Resources without an instance wrapper: a single-instance object, as Leshan accepts.
        for (const e of entries) pushResource(ctx, e, 0)
      }
      break
    case 2:
      // Leshan also accepts the one instance wrapped in its object-instance entry.
      if (entries.length === 1 && first?.kind === 'objectInstance') {
        if (first.id !== instanceId) throw idConflict(ctx, first)
        for (const r of first.children) pushResource(ctx, r, instanceId)
      } else {
        for (const e of entries) pushResource(ctx, e, instanceId)
      }
      break
    case 3:
      if (entries.length === 1 && first !== undefined && first.kind !== 'resourceInstance') {
        if (first.kind === 'objectInstance') throw unexpected(ctx, first)
        if (first.id !== resourceId) throw idConflict(ctx, first)
        pushResource(ctx, first, instanceId)
      } else {
        for (const e of entries) {
          if (e.kind !== 'resourceInstance') throw unexpected(ctx, e)
          pushValue(ctx, e, instanceId, resourceId as number, e.id)
        }
      }
      break
    default:
      for (const [i, e] of entries.entries()) {
        if (e.kind !== 'resourceInstance' || i > 0) throw unexpected(ctx, e)
        if (e.id !== resourceInstanceId) throw idConflict(ctx, e)
        pushValue(ctx, e, instanceId, resourceId as number, e.id)
      }
  }
  return ctx.out
}

/** Groups sorted records of one instance into resource and multiple-resource entries. */
function resourceEntries(records: readonly Lwm2mRecord[], models: ModelLookup | undefined): TlvEntry[] {
  const entries: TlvEntry[] = []
  let multiple: { id: number; children: TlvEntry[] } | undefined
  for (const r of records) {
    const resourceId = r.path.resourceId as number
    const value = encodeValue(r, models)
    if (r.path.resourceInstanceId === undefined) {
      entries.push({ kind: 'resource', id: resourceId, value })
      multiple = undefined
      continue
    }
    if (multiple?.id !== resourceId) {
      multiple = { id: resourceId, children: [] }
      entries.push({ kind: 'multipleResource', ...multiple })
    }
    multiple.children.push({ kind: 'resourceInstance', id: r.path.resourceInstanceId, value })
  }
  return entries
}

function checkRecords(sorted: readonly Lwm2mRecord[], base: Lwm2mPath): void {
  let previous: Lwm2mPath | undefined
  for (const { path } of sorted) {
    const where = formatPath(path)
    if (!isPathPrefixOf(base, path)) throw tlvError(`record ${where} is outside the base path ${formatPath(base)}`)
    if (path.resourceId === undefined) throw tlvError(`record ${where} has no resource id`)
    if (previous !== undefined && comparePaths(previous, path) === 0) {
      throw tlvError(`${where} appears more than once; TLV carries one value per path and no timestamps (use SenML)`)
    }
    if (previous !== undefined && path.resourceInstanceId !== undefined && isPathPrefixOf(previous, path)) {
      throw tlvError(`${formatPath(previous)} has both a single value and resource instances`)
    }
    previous = path
  }
}

function encode(records: readonly Lwm2mRecord[], options: EncodeOptions = {}): Uint8Array {
  const base = options.basePath ?? {}
  if (base.objectId === undefined) throw tlvError('needs a base path with an object id')
  const sorted = [...records].sort((a, b) => comparePaths(a.path, b.path))
  checkRecords(sorted, base)
  const { models } = options
  const depth = pathDepth(base)
  if (depth >= 4) {
    return encodeTlvEntries(sorted.map((r) => ({ kind: 'resourceInstance', id: base.resourceInstanceId as number, value: encodeValue(r, models) })))
  }
  if (depth >= 2) return encodeTlvEntries(resourceEntries(sorted, models))
  const instances: TlvEntry[] = []
  for (let i = 0; i < sorted.length; ) {
    const instanceId = (sorted[i] as Lwm2mRecord).path.instanceId as number
    let j = i
    while (j < sorted.length && (sorted[j] as Lwm2mRecord).path.instanceId === instanceId) j++
    instances.push({ kind: 'objectInstance', id: instanceId, children: resourceEntries(sorted.slice(i, j), models) })
    i = j
  }
  return encodeTlvEntries(instances)
}

/**
 * LwM2M TLV (content format 11542). The base path sets the entry level: `/o` → object instances,
 * `/o/i` → resources, `/o/i/r` → one resource or multiple resource, `/o/i/r/ri` → one resource instance.
 * Values are typed through the models; a resource without a model decodes as opaque bytes.
 */
export const tlvCodec: ValueCodec = { format: ContentFormat.TLV, decode, encode }

/** The same codec under the pre-registration number 1542 that LwM2M 1.0 devices still send. */
export const legacyTlvCodec: ValueCodec = { format: ContentFormat.LEGACY_TLV, decode, encode }
