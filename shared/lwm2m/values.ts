import { CodecError } from './errors.ts'
import type { Lwm2mPath } from './path.ts'

/** The LwM2M resource data types (TS 1.1 Appendix C), plus `none` for Execute resources. */
export type ResourceType =
  | 'string'
  | 'integer'
  | 'unsigned'
  | 'float'
  | 'boolean'
  | 'opaque'
  | 'time'
  | 'objlnk'
  | 'corelnk'
  | 'none'

export const RESOURCE_TYPES: readonly ResourceType[] = [
  'string',
  'integer',
  'unsigned',
  'float',
  'boolean',
  'opaque',
  'time',
  'objlnk',
  'corelnk',
  'none',
]

/** An object link: `objectId:instanceId`; 65535:65535 is the null link. */
export interface Objlnk {
  readonly objectId: number
  readonly instanceId: number
}

/**
 * A resource value as it lives in memory:
 * string and corelnk → string; integer, unsigned → number (bigint beyond 2^53);
 * float → number; boolean → boolean; opaque → Uint8Array; time → number (seconds since the epoch);
 * objlnk → Objlnk.
 */
export type Lwm2mValue = string | number | bigint | boolean | Uint8Array | Objlnk

/**
 * One value at one path (a resource or a resource instance), with its type when the format or the
 * object model tells it, and its time in seconds since the epoch when the payload carried one.
 * Every codec decodes into and encodes from a list of these; several records may share a path when
 * they carry different times (a batch of timestamped samples).
 */
export interface Lwm2mRecord {
  readonly path: Lwm2mPath
  readonly value: Lwm2mValue
  readonly type?: ResourceType
  readonly time?: number
}

export function isObjlnk(v: unknown): v is Objlnk {
  return (
    typeof v === 'object' &&
    v !== null &&
    !(v instanceof Uint8Array) &&
    typeof (v as Objlnk).objectId === 'number' &&
    typeof (v as Objlnk).instanceId === 'number'
  )
}

/** The type a value has on its own, when no model says otherwise. */
export function inferType(value: Lwm2mValue): ResourceType {
  if (typeof value === 'string') return 'string'
  if (typeof value === 'boolean') return 'boolean'
  if (typeof value === 'bigint') return value < 0n ? 'integer' : 'unsigned'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'float'
  if (value instanceof Uint8Array) return 'opaque'
  return 'objlnk'
}

/** Keeps integers as plain numbers while they are exact, bigint beyond. */
export function normalizeInteger(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n
}

export function formatObjlnk(link: Objlnk): string {
  return `${link.objectId}:${link.instanceId}`
}

export function parseObjlnk(text: string, codec: 'Text' | 'SenML JSON' | 'SenML CBOR' | 'LwM2M JSON' | 'Value' = 'Value'): Objlnk {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(text)
  if (!m) throw new CodecError(codec, `object link "${text}" is not of the form objectId:instanceId`)
  const objectId = Number(m[1])
  const instanceId = Number(m[2])
  if (objectId > 65535 || instanceId > 65535) throw new CodecError(codec, `object link "${text}" is out of range 0-65535`)
  return { objectId, instanceId }
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/

export function bytesToHex(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}

/** Accepts hex with optional whitespace, colons or a 0x prefix. */
export function hexToBytes(hex: string): Uint8Array {
  const clean = hex.replace(/^0x/i, '').replace(/[\s:]/g, '')
  if (!HEX_RE.test(clean)) throw new CodecError('Value', `"${hex.length > 40 ? hex.slice(0, 40) + '…' : hex}" is not an even-length hex string`)
  const out = new Uint8Array(clean.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16)
  return out
}

/** Checks that a value fits a type; returns the value, converted where the conversion is lossless. */
export function coerceValue(value: Lwm2mValue, type: ResourceType): Lwm2mValue {
  const fail = (): never => {
    throw new CodecError('Value', `${describe(value)} is not a valid ${type}`)
  }
  switch (type) {
    case 'string':
    case 'corelnk':
      return typeof value === 'string' ? value : fail()
    case 'boolean':
      return typeof value === 'boolean' ? value : fail()
    case 'float':
      if (typeof value === 'number') return value
      return typeof value === 'bigint' ? Number(value) : fail()
    case 'integer':
    case 'time':
      if (typeof value === 'bigint') return normalizeInteger(value)
      return typeof value === 'number' && Number.isInteger(value) ? value : fail()
    case 'unsigned':
      if (typeof value === 'bigint' && value >= 0n) return normalizeInteger(value)
      return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : fail()
    case 'opaque':
      return value instanceof Uint8Array ? value : fail()
    case 'objlnk':
      return isObjlnk(value) ? value : fail()
    case 'none':
      return fail()
  }
}

function describe(value: Lwm2mValue): string {
  if (value instanceof Uint8Array) return `opaque value of ${value.length} bytes`
  if (isObjlnk(value)) return `object link ${formatObjlnk(value)}`
  if (typeof value === 'string') return `string "${value.length > 40 ? value.slice(0, 40) + '…' : value}"`
  return `${typeof value} ${String(value)}`
}

/** Plain-JSON form of a value, for the CLI and the API: opaque → hex, bigint → decimal string, objlnk → "o:i". */
export function valueToJson(value: Lwm2mValue): string | number | boolean {
  if (value instanceof Uint8Array) return bytesToHex(value)
  if (typeof value === 'bigint') return value.toString()
  if (isObjlnk(value)) return formatObjlnk(value)
  return value
}

/** Inverse of `valueToJson`: reads a plain-JSON value as the given type. */
export function valueFromJson(json: unknown, type: ResourceType): Lwm2mValue {
  switch (type) {
    case 'opaque':
      if (typeof json === 'string') return hexToBytes(json)
      break
    case 'objlnk':
      if (typeof json === 'string') return parseObjlnk(json)
      break
    case 'integer':
    case 'unsigned':
    case 'time':
      if (typeof json === 'string' && /^-?\d+$/.test(json)) return coerceValue(normalizeInteger(BigInt(json)), type)
      if (typeof json === 'number') return coerceValue(json, type)
      break
    case 'float':
      if (typeof json === 'number') return json
      break
    case 'boolean':
      if (typeof json === 'boolean') return json
      break
    case 'string':
    case 'corelnk':
      if (typeof json === 'string') return json
      break
    case 'none':
      break
  }
  throw new CodecError('Value', `${JSON.stringify(json)?.slice(0, 40) ?? String(json)} is not a valid ${type}`)
}
