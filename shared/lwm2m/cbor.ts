import { Decoder, Encoder, Tag } from 'cbor-x'
import type { DecodeOptions, EncodeOptions, ValueCodec } from './codec.ts'
import { ContentFormat } from './content-format.ts'
import { CodecError } from './errors.ts'
import { formatPath } from './path.ts'
import { convertValue, numberType } from './senml.ts'
import { formatObjlnk, inferType, type Lwm2mRecord, type Lwm2mValue, type ResourceType } from './values.ts'

/** The decoders that read CBOR through `decodeCborItem`. */
export type CborCodecName = 'CBOR' | 'SenML CBOR'

/** Arrays, maps and tags nested deeper than this are refused before cbor-x sees them. */
export const MAX_CBOR_DEPTH = 16

/** The kind of a scanned data item: its major type (0–7), or FLOAT for major type 7 floats. */
export const FLOAT = 8

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

// Maps decode as Map so that SenML's integer keys stay numbers; nothing cbor-x-specific is written.
const decoder = new Decoder({ mapsAsObjects: false, useRecords: false })
const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, variableMapSize: true, tagUint8Array: false })
const floatEncoder = new Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false, alwaysUseFloat: true })

export interface CborItem {
  readonly value: unknown
  /** Major type of the root item (inside its tag, if tagged), FLOAT for floats. */
  readonly kind: number
  /** The tag on the root item, if any. Date/time tags (0, 1) are taken off: `value` is then their content. */
  readonly tag: number | undefined
}

/**
 * Decodes one CBOR data item that must fill `bytes`. A structural scan runs first: it checks every
 * declared length against the bytes left, text strings for valid UTF-8, the nesting depth, and
 * refuses tags outside `allowedTags` and simple values other than false/true/null/undefined, so cbor-x
 * never allocates from an untrusted length nor meets its own extension tags. Throws only CodecError.
 */
export function decodeCborItem(bytes: Uint8Array, codec: CborCodecName, allowedTags: ReadonlySet<number>): CborItem {
  const { kind, tag, contentOffset } = scanCbor(bytes, codec, allowedTags)
  // cbor-x would turn tags 0 and 1 into a Date (rounded to ms, failing on 64-bit integers): read the content instead.
  const item = tag === 0 || tag === 1 ? bytes.subarray(contentOffset) : bytes
  try {
    return { value: decoder.decode(item) as unknown, kind, tag }
  } catch (e) {
    throw new CodecError(codec, `malformed CBOR: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/** Encodes with cbor-x as plain RFC 8949 CBOR (no record or structured-clone extensions), as a fresh Uint8Array. */
export function encodeCbor(value: unknown): Uint8Array {
  return new Uint8Array(encoder.encode(value))
}

/** cbor-x writes integral numbers beyond 32 bits as float64; a bigint makes it write a CBOR integer. */
export function cborInteger(n: number | bigint): number | bigint {
  if (typeof n === 'bigint') return n
  return Number.isInteger(n) && (n > 0xffffffff || n < -0x100000000) && Math.abs(n) < 2 ** 64 ? BigInt(n) : n
}

function scanCbor(bytes: Uint8Array, codec: CborCodecName, allowedTags: ReadonlySet<number>): { kind: number; tag: number | undefined; contentOffset: number } {
  const end = bytes.length
  let pos = 0
  let rootTag: number | undefined
  let contentOffset = 0
  const fail = (reason: string, at: number): never => {
    throw new CodecError(codec, reason, at)
  }

  const readArgument = (ai: number, start: number): number => {
    if (ai < 24) return ai
    const size = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : 0
    if (size === 0) fail(`reserved additional information ${ai}`, start)
    if (size > end - pos) fail(`truncated: ${size}-byte argument needs ${size} bytes, ${end - pos} left`, start)
    let n = 0
    // Beyond 2^53 the value is approximate; only compared against lengths and tags, which it then exceeds anyway.
    for (let i = 0; i < size; i++) n = n * 256 + (bytes[pos++] as number)
    return n
  }

  const item = (depth: number): number => {
    const start = pos
    if (depth > MAX_CBOR_DEPTH) fail(`nesting deeper than ${MAX_CBOR_DEPTH} levels`, start)
    if (pos >= end) fail('truncated: a data item is missing', start)
    const initial = bytes[pos++] as number
    const major = initial >> 5
    const ai = initial & 0x1f
    if (ai === 31) return indefinite(major, depth, start)
    const arg = readArgument(ai, start)
    switch (major) {
      case 0:
      case 1:
        return major
      case 2:
      case 3: {
        const what = major === 2 ? 'byte string' : 'text string'
        if (arg > end - pos) fail(`${what} length ${arg} exceeds remaining ${end - pos} bytes`, start)
        if (major === 3) {
          try {
            UTF8.decode(bytes.subarray(pos, pos + arg))
          } catch {
            fail('text string is not valid UTF-8', start)
          }
        }
        pos += arg
        return major
      }
      case 4:
        if (arg > end - pos) fail(`array of ${arg} items exceeds remaining ${end - pos} bytes`, start)
        for (let i = 0; i < arg; i++) item(depth + 1)
        return major
      case 5:
        if (arg > (end - pos) / 2) fail(`map of ${arg} pairs exceeds remaining ${end - pos} bytes`, start)
        for (let i = 0; i < 2 * arg; i++) item(depth + 1)
        return major
      case 6: {
        if (!allowedTags.has(arg)) fail(`unsupported tag ${arg}`, start)
        // Date/time tags are read from their content (decodeCborItem), which works at the root only.
        if ((arg === 0 || arg === 1) && depth > 0) fail(`date/time tag ${arg} is allowed on the top-level item only`, start)
        if (pos < end && (bytes[pos] as number) >> 5 === 6) fail('nested tags are not supported', pos)
        if (depth === 0) contentOffset = pos
        const inner = item(depth + 1)
        const ok = arg === 0 ? inner === 3 : arg === 1 ? inner <= 1 || inner === FLOAT : inner === 2
        if (!ok) fail(`tag ${arg} wraps the wrong kind of item`, start)
        if (depth === 0) rootTag = arg
        return inner
      }
      default:
        if (ai >= 20 && ai <= 23) return major
        if (ai >= 25) return FLOAT
        return fail(`unsupported simple value ${arg}`, start)
    }
  }

  const indefinite = (major: number, depth: number, start: number): number => {
    if (major === 2 || major === 3) fail('indefinite-length strings are not supported', start)
    if (major === 7) fail('unexpected break code', start)
    if (major !== 4 && major !== 5) fail(`major type ${major} can not have an indefinite length`, start)
    for (let count = 0; ; count++) {
      if (pos >= end) fail(`truncated: indefinite-length ${major === 4 ? 'array' : 'map'} has no break code`, start)
      if (bytes[pos] === 0xff) {
        if (major === 5 && count % 2 === 1) fail('indefinite-length map ends after a key without its value', pos)
        pos++
        return major
      }
      item(depth + 1)
    }
  }

  if (end === 0) fail('empty payload', 0)
  const kind = item(0)
  if (pos !== end) fail(`${end - pos} bytes left after the CBOR data item`, pos)
  return { kind, tag: rootTag, contentOffset }
}

// ---- Content-format 60: one resource value as a single CBOR data item ----

const PLAIN_TAGS: ReadonlySet<number> = new Set([0, 1, 2, 3])

function fail(reason: string): never {
  throw new CodecError('CBOR', reason)
}

/** The value a data item carries, with the type it says of itself. */
function rawValue(item: CborItem): { raw: Lwm2mValue; type: ResourceType } {
  const { value, kind, tag } = item
  if (tag === 0 || tag === 1) {
    const seconds = typeof value === 'string' ? Date.parse(value) / 1000 : Number(value)
    if (!Number.isFinite(seconds)) fail(`tag ${tag} does not hold a valid date/time`)
    return { raw: typeof value === 'bigint' ? value : seconds, type: 'time' }
  }
  if (kind === FLOAT && typeof value === 'number') return { raw: value, type: 'float' }
  if (typeof value === 'number' || typeof value === 'bigint') return { raw: value, type: numberType(value) }
  if (typeof value === 'string') return { raw: value, type: 'string' }
  if (typeof value === 'boolean') return { raw: value, type: 'boolean' }
  if (value instanceof Uint8Array) return { raw: new Uint8Array(value), type: 'opaque' }
  if (Array.isArray(value)) return fail('expected a single value, got an array')
  if (value instanceof Map) return fail('expected a single value, got a map')
  return fail(`expected a single value, got ${value === null ? 'null' : typeof value}`)
}

function decode(bytes: Uint8Array, options: DecodeOptions = {}): Lwm2mRecord[] {
  const path = options.basePath ?? {}
  if (path.objectId === undefined || path.resourceId === undefined) {
    fail(`a single CBOR value belongs to a resource or resource instance; ${formatPath(path)} is neither`)
  }
  const { raw, type: ownType } = rawValue(decodeCborItem(bytes, 'CBOR', PLAIN_TAGS))
  const type = options.models?.resource(path.objectId, path.resourceId)?.type ?? ownType
  const value = convertValue(raw, type, (reason) => fail(`${formatPath(path)}: ${reason}`))
  return [{ path, value, type }]
}

function encode(records: readonly Lwm2mRecord[], options: EncodeOptions = {}): Uint8Array {
  const [record] = records
  if (records.length !== 1 || !record) return fail(`plain CBOR carries exactly one value; got ${records.length} records`)
  const { path } = record
  if (path.objectId === undefined || path.resourceId === undefined) {
    fail(`a single CBOR value belongs to a resource or resource instance; ${formatPath(path)} is neither`)
  }
  const type = record.type ?? options.models?.resource(path.objectId, path.resourceId)?.type ?? inferType(record.value)
  const value = convertValue(record.value, type, (reason) => fail(`${formatPath(path)}: ${reason}`))
  switch (type) {
    case 'float':
      return new Uint8Array(floatEncoder.encode(Number(value)))
    case 'integer':
    case 'unsigned':
      return encodeCbor(cborInteger(value as number | bigint))
    case 'time':
      // As Leshan writes it: tag 1 (epoch-based date/time) on an integer.
      return encodeCbor(new Tag(cborInteger(value as number | bigint), 1))
    case 'objlnk':
      return encodeCbor(formatObjlnk(value as { objectId: number; instanceId: number }))
    default:
      return encodeCbor(value)
  }
}

/** Content-format 60: a single resource or resource instance value as one CBOR data item. */
export const cborCodec: ValueCodec = { format: ContentFormat.CBOR, decode, encode }
