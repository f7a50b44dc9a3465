import { decodeBase64 } from './base64.ts'
import type { DecodeOptions, EncodeOptions } from './codec.ts'
import { CodecError, isCodecError } from './errors.ts'
import { formatPath, isPathPrefixOf, parsePath, pathIds, type Lwm2mPath } from './path.ts'
import { coerceValue, formatObjlnk, inferType, isObjlnk, parseObjlnk, type Lwm2mRecord, type Lwm2mValue, type ResourceType } from './values.ts'

/** The SenML codecs; also the prefix of their error messages. */
export type SenmlCodecName = 'SenML JSON' | 'SenML CBOR'

/**
 * One SenML record with the labels LwM2M uses (RFC 8428 §4, LwM2M TS 1.1 §7.4.4–7.4.5), independent of
 * JSON or CBOR: `vd` is already bytes, `vlo` is an "objectId:instanceId" string.
 */
export interface SenmlRecord {
  bver?: number
  bn?: string
  bt?: number
  /** Base value, added to `v` (RFC 8428; LwM2M devices do not send it, but it is cheap to honour). */
  bv?: number
  n?: string
  t?: number
  v?: number | bigint
  vs?: string
  vb?: boolean
  vd?: Uint8Array
  vlo?: string
}

/** Times below 2^28 s are relative to "now" (RFC 8428 §4.5.3). */
export const RELATIVE_TIME_LIMIT = 2 ** 28

/** The SenML CBOR labels (RFC 8428 §6) by integer key; "vlo" is a text key. */
const CBOR_KEYS: ReadonlyMap<number, string> = new Map([
  [-1, 'bver'],
  [-2, 'bn'],
  [-3, 'bt'],
  [-4, 'bu'],
  [-5, 'bv'],
  [-6, 'bs'],
  [0, 'n'],
  [1, 'u'],
  [2, 'v'],
  [3, 'vs'],
  [4, 'vb'],
  [5, 's'],
  [6, 't'],
  [7, 'ut'],
  [8, 'vd'],
])

export const SENML_CBOR_KEY = { bver: -1, bn: -2, bt: -3, n: 0, v: 2, vs: 3, vb: 4, t: 6, vd: 8, vlo: 'vlo' } as const

const VALUE_LABELS = ['v', 'vs', 'vb', 'vd', 'vlo'] as const
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const UINT64_MAX = 2n ** 64n - 1n

/**
 * Checks `raw` against a resource type and returns it in its in-memory form (values.ts). Shared by
 * the SenML and plain CBOR codecs. An objlnk may arrive as "o:i" text (with a trailing NUL from Zephyr).
 * Integers must fit 64 bits: signed for integer and time, unsigned for unsigned.
 */
export function convertValue(raw: Lwm2mValue, type: ResourceType, fail: (reason: string) => never): Lwm2mValue {
  try {
    if (type === 'objlnk' && typeof raw === 'string') return parseObjlnk(raw.endsWith('\0') ? raw.slice(0, -1) : raw)
    const value = coerceValue(raw, type)
    if (type === 'integer' || type === 'time' || type === 'unsigned') {
      const n = value as number | bigint
      const [min, max] = type === 'unsigned' ? [0n, UINT64_MAX] : [INT64_MIN, INT64_MAX]
      if (n < min || n > max) fail(`${String(n)} is out of range for ${type === 'unsigned' ? 'an unsigned' : 'a signed'} 64-bit ${type}`)
    }
    return value
  } catch (e) {
    if (isCodecError(e) && e.codec === 'Value') fail(e.reason)
    throw e
  }
}

// ---- Decoding ----

function labelError(codec: SenmlCodecName, index: number, label: string, expected: string, got: unknown): CodecError {
  const kind = got === null ? 'null' : got instanceof Uint8Array ? 'bytes' : Array.isArray(got) ? 'an array' : typeof got
  return new CodecError(codec, `record ${index}: "${label}" must be ${expected}, got ${kind}`)
}

/** Stores one label of a record, checking the type of its value; unknown labels are ignored unless they end in "_". */
function setLabel(rec: SenmlRecord, label: string, value: unknown, codec: SenmlCodecName, index: number): void {
  const str = (): string => {
    if (typeof value !== 'string') throw labelError(codec, index, label, 'a string', value)
    return value
  }
  const num = (): number => {
    if (typeof value === 'bigint') return Number(value)
    if (typeof value !== 'number') throw labelError(codec, index, label, 'a number', value)
    return value
  }
  switch (label) {
    case 'bn':
      rec.bn = str()
      return
    case 'n':
      rec.n = str()
      return
    case 'bver':
      rec.bver = num()
      return
    case 'bt':
      rec.bt = num()
      return
    case 't':
      rec.t = num()
      return
    case 'bv':
      rec.bv = num()
      return
    case 'v':
      rec.v = typeof value === 'bigint' ? value : num()
      return
    case 'vs':
      rec.vs = str()
      return
    case 'vlo':
      rec.vlo = str()
      return
    case 'vb':
      if (typeof value !== 'boolean') throw labelError(codec, index, label, 'a boolean', value)
      rec.vb = value
      return
    case 'vd':
      if (codec === 'SenML JSON') {
        rec.vd = decodeVd(str(), (reason) => {
          throw new CodecError(codec, `record ${index}: "vd" ${reason}`)
        })
      } else {
        if (!(value instanceof Uint8Array)) throw labelError(codec, index, label, 'a byte string', value)
        rec.vd = new Uint8Array(value) // a copy: the decoder hands out views of the payload
      }
      return
    default:
      // bu, bs, u, s, ut and unknown labels carry nothing we keep; "_" marks must-understand extensions.
      if (label.endsWith('_')) throw new CodecError(codec, `record ${index}: unknown must-understand label "${label}"`)
  }
}

/** Reads one element of a pack: a JSON object with text labels, or a CBOR map with integer keys. */
export function readSenmlRecord(item: unknown, index: number, codec: SenmlCodecName): SenmlRecord {
  const rec: SenmlRecord = {}
  if (codec === 'SenML CBOR') {
    if (!(item instanceof Map)) throw new CodecError(codec, `record ${index} is not a CBOR map`)
    for (const [key, value] of item as Map<unknown, unknown>) {
      if (typeof key === 'number') {
        const label = CBOR_KEYS.get(key)
        if (label !== undefined) setLabel(rec, label, value, codec, index)
      } else if (key === 'vlo') {
        setLabel(rec, key, value, codec, index)
      } else if (typeof key === 'string' && key.endsWith('_')) {
        throw new CodecError(codec, `record ${index}: unknown must-understand label "${key}"`)
      }
    }
    return rec
  }
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new CodecError(codec, `record ${index} is not a JSON object`)
  for (const key of Object.keys(item)) setLabel(rec, key, (item as Record<string, unknown>)[key], codec, index)
  return rec
}

function resolveName(name: string, basePath: Lwm2mPath | undefined, fail: (reason: string) => never): Lwm2mPath {
  if (name === '') fail('no name (neither "bn" nor "n")')
  // LwM2M names are absolute; a relative one resolves against the request path.
  const base = basePath ? formatPath(basePath) : '/'
  const full = name.startsWith('/') ? name : `${base === '/' ? '' : base}/${name}`
  try {
    return parsePath(full)
  } catch (e) {
    if (isCodecError(e)) fail(`name "${name}" is not an LwM2M path: ${e.reason}`)
    throw e
  }
}

/** The type a number has on its own: integer (unsigned above 2^63 - 1) while it fits 64 bits and is whole, else float. */
export function numberType(n: number | bigint): ResourceType {
  if (typeof n === 'number' && !Number.isInteger(n)) return 'float'
  if (n < INT64_MIN || n > UINT64_MAX) return 'float'
  return n > INT64_MAX ? 'unsigned' : 'integer'
}

/** The type of a value when no model names one: what its label and number say. */
function ownType(label: (typeof VALUE_LABELS)[number], raw: Lwm2mValue): ResourceType {
  switch (label) {
    case 'v':
      return numberType(raw as number | bigint)
    case 'vs':
      return 'string'
    case 'vb':
      return 'boolean'
    case 'vd':
      return 'opaque'
    case 'vlo':
      return 'objlnk'
  }
}

/**
 * Resolves a SenML pack into records (RFC 8428 §4.6): names are bn + n and must be LwM2M paths to a
 * resource or resource instance (gateway prefixes allowed) inside `options.basePath`; times are bt + t,
 * where a result below 2^28 counts from now (Date.now()) and a record with neither has no time. Every
 * record must carry exactly one of v, vs, vb, vd, vlo. Types come from the model when it knows the
 * resource, else from the label (a whole number in v is an integer). Throws only CodecError.
 */
export function decodeSenmlPack(pack: readonly unknown[], codec: SenmlCodecName, options: DecodeOptions = {}): Lwm2mRecord[] {
  const { basePath, models } = options
  const out: Lwm2mRecord[] = new Array<Lwm2mRecord>(pack.length)
  const now = Date.now() / 1000
  let bn = ''
  let bt: number | undefined
  let bv: number | undefined
  // Batches repeat one name; resolve it once.
  let lastName: string | undefined
  let path: Lwm2mPath = {}
  let modelType: ResourceType | undefined

  for (let i = 0; i < pack.length; i++) {
    const rec = readSenmlRecord(pack[i], i, codec)
    const fail: (reason: string) => never = (reason) => {
      throw new CodecError(codec, `record ${i}${rec.n !== undefined || bn ? ` (${bn}${rec.n ?? ''})` : ''}: ${reason}`)
    }
    if (rec.bver !== undefined && !(Number.isInteger(rec.bver) && rec.bver >= 1 && rec.bver <= 10)) {
      fail(`SenML version ${rec.bver} is not supported (1 to 10 are)`)
    }
    if (rec.bn !== undefined) bn = rec.bn
    if (rec.bt !== undefined) bt = rec.bt
    if (rec.bv !== undefined) bv = rec.bv

    const name = bn + (rec.n ?? '')
    if (name !== lastName) {
      path = resolveName(name, basePath, fail)
      if (path.objectId === undefined || path.resourceId === undefined) fail('not a resource or resource instance path')
      if (basePath && !isPathPrefixOf(basePath, path)) fail(`outside the requested path ${formatPath(basePath)}`)
      modelType = models?.resource(path.objectId, path.resourceId)?.type
      lastName = name
    }

    const labels = VALUE_LABELS.filter((l) => rec[l] !== undefined)
    const [label] = labels
    if (label === undefined) fail('no value (one of v, vs, vb, vd, vlo)')
    if (labels.length > 1) fail(`${labels.length} values (${labels.join(', ')}); exactly one is allowed`)
    let raw = rec[label] as Lwm2mValue
    if (label === 'v' && bv !== undefined) raw = typeof raw === 'bigint' && Number.isInteger(bv) ? raw + BigInt(bv) : Number(raw) + bv
    const type = modelType ?? ownType(label, raw)
    const value = convertValue(raw, type, fail)

    let time: number | undefined
    if (bt !== undefined || rec.t !== undefined) {
      time = (bt ?? 0) + (rec.t ?? 0)
      if (!Number.isFinite(time)) fail('time is not a finite number')
      if (time < RELATIVE_TIME_LIMIT) time += now
    }
    out[i] = time === undefined ? { path, value, type } : { path, value, type, time }
  }
  return out
}

// ---- Encoding ----

function valueLabel(type: ResourceType): (typeof VALUE_LABELS)[number] | undefined {
  switch (type) {
    case 'string':
    case 'corelnk':
      return 'vs'
    case 'boolean':
      return 'vb'
    case 'opaque':
      return 'vd'
    case 'objlnk':
      return 'vlo'
    case 'none':
      return undefined
    default:
      return 'v'
  }
}

/** The deepest path all records share: same gateway prefix, then the common leading ids. */
function commonPath(records: readonly Lwm2mRecord[]): { ids: number[]; prefix: string | undefined; allEqual: boolean } {
  const first = records[0]?.path ?? {}
  const ids = pathIds(first)
  const prefix = first.prefix
  let allEqual = true
  let previous = first
  for (const { path } of records) {
    if (path === previous) continue
    previous = path
    if (path.prefix !== prefix) return { ids: [], prefix: undefined, allEqual: false }
    const other = pathIds(path)
    if (other.length !== ids.length) allEqual = false
    let k = 0
    while (k < ids.length && k < other.length && ids[k] === other[k]) k++
    if (k < ids.length) {
      ids.length = k
      allEqual = false
    }
  }
  return { ids, prefix, allEqual }
}

/**
 * Builds a compact SenML pack from records, in their order: `bn` on the first record holds the path all
 * records share (with a trailing "/" when they differ below it), `n` the rest of each name; when every
 * record has a time, `bt` holds the first and `t` the offsets, else `t` is absolute. The value label
 * follows the record's type, else the model's, else the value's own. Throws only CodecError.
 */
export function encodeSenmlPack(records: readonly Lwm2mRecord[], codec: SenmlCodecName, options: EncodeOptions = {}): SenmlRecord[] {
  const out: SenmlRecord[] = new Array<SenmlRecord>(records.length)
  if (records.length === 0) return out

  const common = commonPath(records)
  let bn: string | undefined
  if (common.ids.length > 0 || common.prefix !== undefined) {
    const head = formatPath({ ...(common.prefix !== undefined ? { prefix: common.prefix } : {}), ...idsToPath(common.ids) })
    bn = common.allEqual ? head : `${head}/`
  }

  const offsets = relativeTimes(records)
  const bt = offsets ? records[0]?.time : undefined

  let lastPath: Lwm2mPath | undefined
  let name = ''
  let modelType: ResourceType | undefined
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as Lwm2mRecord
    const fail: (reason: string) => never = (reason) => {
      throw new CodecError(codec, `record ${i} (${formatPath(r.path)}): ${reason}`)
    }
    if (r.path !== lastPath) {
      if (r.path.objectId === undefined || r.path.resourceId === undefined) fail('not a resource or resource instance path')
      name = formatPath(r.path)
      modelType = options.models?.resource(r.path.objectId, r.path.resourceId)?.type
      lastPath = r.path
    }
    const rec: SenmlRecord = {}
    if (i === 0 && bn !== undefined) rec.bn = bn
    if (bn === undefined) rec.n = name
    else if (name.length > bn.length) rec.n = name.slice(bn.length)
    if (r.time !== undefined) {
      if (!Number.isFinite(r.time)) fail('time is not a finite number')
      if (bt === undefined) rec.t = r.time
      else if (i === 0) rec.bt = bt
      else if (offsets?.[i]) rec.t = offsets[i]
    }
    const type = r.type ?? modelType ?? inferType(r.value)
    const label = valueLabel(type)
    if (label === undefined) fail(`type ${type} carries no value`)
    const value = convertValue(r.value, type, fail)
    if (label === 'v') rec.v = value as number | bigint
    else if (label === 'vs') rec.vs = value as string
    else if (label === 'vb') rec.vb = value as boolean
    else if (label === 'vd') rec.vd = value as Uint8Array
    else rec.vlo = isObjlnk(value) ? formatObjlnk(value) : String(value)
    out[i] = rec
  }
  return out
}

/**
 * Offsets from the first record's time (bt) when every record has a time, each the shortest decimal
 * that adds back to the exact time (0.002, not 0.002000093460083008); undefined when some record has
 * no time or an offset can not be exact.
 */
function relativeTimes(records: readonly Lwm2mRecord[]): number[] | undefined {
  const bt = records[0]?.time
  if (bt === undefined || !Number.isFinite(bt)) return undefined
  const offsets = new Array<number>(records.length)
  for (let i = 0; i < records.length; i++) {
    const time = records[i]?.time
    if (time === undefined) return undefined
    const exact = time - bt
    let offset = exact
    for (let digits = 1; digits < 17; digits++) {
      const short = Number(exact.toPrecision(digits))
      if (bt + short === time) {
        offset = short
        break
      }
    }
    if (bt + offset !== time) return undefined
    offsets[i] = offset
  }
  return offsets
}

function idsToPath(ids: readonly number[]): Lwm2mPath {
  const [objectId, instanceId, resourceId, resourceInstanceId] = ids
  return {
    ...(objectId !== undefined ? { objectId } : {}),
    ...(instanceId !== undefined ? { instanceId } : {}),
    ...(resourceId !== undefined ? { resourceId } : {}),
    ...(resourceInstanceId !== undefined ? { resourceInstanceId } : {}),
  }
}

/** Reads "vd": base64url or standard base64, with or without padding. */
export function decodeVd(text: string, fail: (reason: string) => never): Uint8Array {
  return decodeBase64(text, ({ kind, index }) =>
    fail(kind === 'character' ? `is not base64: unexpected character at position ${index}` : kind === 'padding' ? 'has wrong base64 padding' : 'is not base64: its length is impossible'),
  )
}
