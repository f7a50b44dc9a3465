import type { Attributes } from '../../../shared/api/schemas.ts'
import type { ResourceType } from '../../../shared/lwm2m/values.ts'

/**
 * What the operation editors accept, per LwM2M resource type, turned into the plain-JSON values the
 * API writes (opaque as hex, objlnk as "o:i", 64-bit integers as decimal strings). Pure, so the
 * rules are tested without a browser.
 */

export type EditorKind = 'number' | 'boolean' | 'string' | 'time' | 'opaque' | 'objlnk' | 'none'

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string }

const good = <T>(value: T): Parsed<T> => ({ ok: true, value })
const bad = <T>(error: string): Parsed<T> => ({ ok: false, error })

/** The types offered when the model does not tell a resource's type. */
export const WRITABLE_TYPES: readonly ResourceType[] = ['integer', 'unsigned', 'float', 'boolean', 'string', 'time', 'opaque', 'objlnk', 'corelnk']

export function editorKindFor(type: ResourceType | undefined): EditorKind {
  switch (type) {
    case 'integer':
    case 'unsigned':
    case 'float':
      return 'number'
    case 'boolean':
      return 'boolean'
    case 'time':
      return 'time'
    case 'opaque':
      return 'opaque'
    case 'objlnk':
      return 'objlnk'
    case 'none':
      return 'none'
    default:
      return 'string'
  }
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const UINT64_MAX = 2n ** 64n - 1n

function integer(text: string, unsigned: boolean): Parsed<number | string> {
  const t = text.trim()
  if (!/^[+-]?\d+$/.test(t)) return bad(`"${t}" is not ${unsigned ? 'an unsigned' : 'an'} integer`)
  const n = BigInt(t)
  if (unsigned && n < 0n) return bad(`${t} is negative; an unsigned integer is 0 or more`)
  if (unsigned ? n > UINT64_MAX : n < INT64_MIN || n > INT64_MAX) return bad(`${t} does not fit ${unsigned ? '64-bit unsigned' : '64-bit signed'}`)
  // Beyond 2^53 a JSON number loses digits: send the decimal string, as the API allows.
  return good(n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString())
}

/** Seconds since the epoch from an integer, or from an ISO date (a datetime-local value is local time). */
export function parseTime(text: string): Parsed<number> {
  const t = text.trim()
  if (t === '') return bad('enter a time: seconds since 1970 or a date such as 2024-05-01T12:30')
  if (/^[+-]?\d+$/.test(t)) {
    const n = Number(t)
    return Number.isSafeInteger(n) ? good(n) : bad(`${t} is out of range`)
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(t)) return bad(`"${t}" is neither seconds since 1970 nor an ISO date`)
  const ms = Date.parse(t)
  return Number.isFinite(ms) ? good(Math.floor(ms / 1000)) : bad(`"${t}" is not a valid date`)
}

/** Hex with optional spaces, colons or 0x prefix, normalised to lowercase pairs. */
export function parseHex(text: string): Parsed<string> {
  const clean = text.trim().replace(/^0x/i, '').replace(/[\s:]/g, '').toLowerCase()
  if (!/^[0-9a-f]*$/.test(clean)) return bad('opaque takes hex digits only (0-9, a-f), optionally separated by spaces or colons')
  if (clean.length % 2 !== 0) return bad(`hex has an odd number of digits (${clean.length}): each byte is two digits`)
  return good(clean)
}

export function parseObjlnk(text: string): Parsed<string> {
  const m = /^\s*(\d{1,5})\s*:\s*(\d{1,5})\s*$/.exec(text)
  if (!m) return bad(`"${text.trim()}" is not an object link objectId:instanceId, e.g. 3:0`)
  const o = Number(m[1])
  const i = Number(m[2])
  if (o > 65535 || i > 65535) return bad(`object link ${o}:${i} is out of range 0-65535`)
  return good(`${o}:${i}`)
}

/** Reads an editor's text as a value of `type` for the API. */
export function parseEditorValue(type: ResourceType, text: string): Parsed<string | number | boolean> {
  switch (type) {
    case 'integer':
      return integer(text, false)
    case 'unsigned':
      return integer(text, true)
    case 'float': {
      const t = text.trim()
      const n = Number(t)
      return t !== '' && Number.isFinite(n) ? good(n) : bad(`"${t}" is not a number`)
    }
    case 'boolean': {
      const t = text.trim().toLowerCase()
      if (t === 'true' || t === '1') return good(true)
      if (t === 'false' || t === '0') return good(false)
      return bad(`"${text.trim()}" is not a boolean (true or false)`)
    }
    case 'time':
      return parseTime(text)
    case 'opaque':
      return parseHex(text)
    case 'objlnk':
      return parseObjlnk(text)
    case 'string':
    case 'corelnk':
      return good(text)
    case 'none':
      return bad('this resource holds no value: execute it instead')
  }
}

/** The editor's starting text for a current value. */
export function editorText(type: ResourceType | undefined, value: string | number | boolean | undefined): string {
  if (value === undefined) return type === 'boolean' ? 'false' : ''
  if (type === 'time' && typeof value === 'number') return new Date(value * 1000).toISOString().replace(/\.000Z$/, 'Z')
  return String(value)
}

/** How a value reads in the tree: times as dates, long opaque values shortened. */
export function displayValue(type: string | undefined, value: string | number | boolean): string {
  if (type === 'time' && typeof value === 'number') {
    const d = new Date(value * 1000)
    return Number.isFinite(d.getTime()) ? d.toISOString().replace('T', ' ').replace(/\.000Z$/, 'Z') : String(value)
  }
  if (type === 'opaque' && typeof value === 'string') return value.length > 32 ? `0x${value.slice(0, 32)}… (${value.length / 2} bytes)` : `0x${value}`
  if (typeof value === 'number' && !Number.isInteger(value)) return String(Math.round(value * 1e6) / 1e6)
  return String(value)
}

/** LwM2M Execute arguments: `0`, `0='text'`, `0='a',1`. */
export function parseExecuteArgs(text: string): Parsed<string | undefined> {
  const t = text.trim()
  if (t === '') return good(undefined)
  if (!/^\d(?:='[^']*')?(?:,\d(?:='[^']*')?)*$/.test(t)) return bad(`"${t}" is not an argument list: digits 0-9, each with an optional ='value', separated by commas (e.g. 0='v',1)`)
  const digits = t.split(/,(?=\d)/).map((a) => a[0])
  if (new Set(digits).size !== digits.length) return bad('an argument number appears twice')
  return good(t)
}

export interface AttributeFields {
  readonly pmin: string
  readonly pmax: string
  readonly gt: string
  readonly lt: string
  readonly st: string
}

/**
 * The Write-Attributes form: an empty field leaves the attribute as it is, "-" unsets it, anything
 * else is its new value. Checks what LwM2M requires (pmin ≤ pmax, lt < gt, st ≥ 0).
 */
export function parseAttributeFields(fields: AttributeFields): Parsed<Attributes> {
  const out: Record<string, number | null> = {}
  for (const key of ['pmin', 'pmax', 'gt', 'lt', 'st'] as const) {
    const raw = fields[key].trim()
    if (raw === '') continue
    if (raw === '-') {
      out[key] = null
      continue
    }
    const n = Number(raw)
    if (!Number.isFinite(n)) return bad(`${key}: "${raw}" is not a number`)
    if ((key === 'pmin' || key === 'pmax') && (!Number.isInteger(n) || n < 0)) return bad(`${key}: ${raw} must be a whole number of seconds, 0 or more`)
    if (key === 'st' && n < 0) return bad(`st: ${raw} must be 0 or more`)
    out[key] = n
  }
  if (Object.keys(out).length === 0) return bad('fill at least one attribute (or "-" to unset it)')
  const { pmin, pmax, gt, lt } = out
  if (typeof pmin === 'number' && typeof pmax === 'number' && pmax < pmin) return bad(`pmax ${pmax} is below pmin ${pmin}`)
  if (typeof gt === 'number' && typeof lt === 'number' && lt >= gt) return bad(`lt ${lt} must be below gt ${gt}`)
  return good(out as Attributes)
}
