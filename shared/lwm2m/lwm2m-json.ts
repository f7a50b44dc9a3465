import { base64ToBytes, bytesToBase64 } from './base64.ts'
import { modelType, valueToWrite, type DecodeOptions, type EncodeOptions, type ValueCodec } from './codec.ts'
import { ContentFormat } from './content-format.ts'
import { CodecError, isCodecError } from './errors.ts'
import type { ModelLookup } from './object-model.ts'
import { formatPath, isPathPrefixOf, parsePath, pathDepth, pathIds, type Lwm2mPath } from './path.ts'
import { formatObjlnk, normalizeInteger, parseObjlnk, type Lwm2mRecord, type Lwm2mValue, type ResourceType } from './values.ts'
import { decodeUtf8, encodeUtf8 } from './utf8.ts'

/*
 * LwM2M JSON (application/vnd.oma.lwm2m+json, 11543, legacy 1543; TS 1.0 §6.4.4, TS 1.1 §7.4.5):
 * {"bn":"/3/0/","bt":1367491215,"e":[{"n":"0","sv":"Open Mobile Alliance"},{"n":"6/0","v":1,"t":-5}]}
 */

const CODEC = 'LwM2M JSON'
/** SenML rule: times below 2^28 are relative to now. */
const RELATIVE_TIME_LIMIT = 2 ** 28
const TOP_LABELS = new Set(['bn', 'bt', 'e'])
const ENTRY_LABELS = new Set(['n', 'sv', 'v', 'bv', 'ov', 't'])
type ValueLabel = 'sv' | 'v' | 'bv' | 'ov'

function fail(reason: string, offset?: number): never {
  throw new CodecError(CODEC, reason, offset)
}

// Integers beyond 2^53 keep their exact digits: JSON.parse hands the source text to the reviver (ES2025).
function reviveBigIntegers(key: string, value: unknown, context?: { source?: string }): unknown {
  if (key !== 'v' || typeof value !== 'number' || Number.isSafeInteger(value)) return value
  const source = context?.source
  return source !== undefined && /^-?\d+$/.test(source) ? BigInt(source) : value
}

/** LwM2M JSON nests three deep ({"e":[{…}]}); a little slack keeps shape errors specific. */
const MAX_NESTING = 16

// JSON.parse with a reviver recurses: refuse deep nesting before it can exhaust the stack.
function checkNesting(bytes: Uint8Array): void {
  let depth = 0
  let inString = false
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number
    if (inString) {
      if (b === 0x5c) i++
      else if (b === 0x22) inString = false
    } else if (b === 0x22) inString = true
    else if (b === 0x7b || b === 0x5b) {
      if (++depth > MAX_NESTING) fail(`JSON nesting is deeper than ${MAX_NESTING} levels`, i)
    } else if (b === 0x7d || b === 0x5d) depth--
  }
}

function parseJson(bytes: Uint8Array): unknown {
  const text = decodeUtf8(bytes, CODEC)
  checkNesting(bytes)
  try {
    return JSON.parse(text, reviveBigIntegers)
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    const position = /\s*in JSON at position (\d+)(?: \(line \d+ column \d+\))?/.exec(message)
    if (position) {
      const offset = encodeUtf8(text.slice(0, Number(position[1]))).length
      fail(`invalid JSON: ${message.slice(0, position.index)}${message.slice(position.index + position[0].length)}`, offset)
    }
    fail(`invalid JSON: ${message}`, /end of JSON input/.test(message) ? bytes.length : undefined)
  }
}

function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function describeJson(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'object') return 'an object'
  const s = JSON.stringify(v)
  return s.length > 40 ? `${s.slice(0, 40)}…` : s
}

/** The name a base resolves to: "/3/0/" + "6/0"; a missing "/" between them is supplied. */
function joinName(base: string, name: string): string {
  if (name === '') return base
  const baseSlash = base.endsWith('/')
  const nameSlash = name.startsWith('/')
  if (baseSlash && nameSlash) return base + name.slice(1)
  return baseSlash || nameSlash ? base + name : `${base}/${name}`
}

function resolvePath(index: number, bn: string | undefined, n: string | undefined, basePath: Lwm2mPath): Lwm2mPath {
  let full: string
  if (bn !== undefined) full = joinName(bn, n ?? '')
  // Without bn, a name starting with "/" is already complete; other names are relative to the request path.
  else if (n !== undefined && n.startsWith('/')) full = n
  else full = joinName(formatPath(basePath), n ?? '')
  let path: Lwm2mPath
  try {
    path = parsePath(full)
  } catch (e) {
    fail(`entry ${index} name ${quote(full)} is not a valid path${isCodecError(e) && full.length <= 60 ? `: ${e.reason}` : ''}`)
  }
  if (pathDepth(path) < 3) fail(`entry ${index} name ${quote(full)} is not a resource or resource instance path`)
  return path
}

function objlnk(text: string, where: string): Lwm2mValue {
  try {
    return parseObjlnk(text, CODEC)
  } catch (e) {
    return fail(`${where}: ${isCodecError(e) ? e.reason : String(e)}`)
  }
}

function entryValue(index: number, label: ValueLabel, raw: unknown, type: ResourceType | undefined, path: Lwm2mPath): Lwm2mValue {
  const where = `entry ${index} (${formatPath(path)})`
  const mismatch = (): never => fail(`${where} carries "${label}" but the model says ${type}`)
  switch (label) {
    case 'sv':
      if (typeof raw !== 'string') fail(`${where} "sv" is ${describeJson(raw)}, not a string`)
      if (type === 'opaque') return base64ToBytes(raw, CODEC, `${where} "sv"`)
      if (type !== undefined && type !== 'string' && type !== 'corelnk') mismatch()
      return raw
    case 'bv':
      if (typeof raw !== 'boolean') fail(`${where} "bv" is ${describeJson(raw)}, not a boolean`)
      if (type !== undefined && type !== 'boolean') mismatch()
      return raw
    case 'ov':
      if (typeof raw !== 'string') fail(`${where} "ov" is ${describeJson(raw)}, not a string`)
      if (type !== undefined && type !== 'objlnk') mismatch()
      return objlnk(raw, where)
    case 'v': {
      if (typeof raw !== 'number' && typeof raw !== 'bigint') fail(`${where} "v" is ${describeJson(raw)}, not a number`)
      switch (type) {
        case undefined:
          return raw
        case 'float':
          return Number(raw)
        case 'integer':
        case 'time':
        case 'unsigned':
          if (typeof raw === 'number' && !Number.isInteger(raw)) fail(`${where} value ${raw} is not an integer (the model says ${type})`)
          if (type === 'unsigned' && raw < 0) fail(`${where} value ${raw} is negative (the model says unsigned)`)
          return typeof raw === 'bigint' ? normalizeInteger(raw) : raw
        default:
          return mismatch()
      }
    }
  }
}

function decode(bytes: Uint8Array, options: DecodeOptions = {}): Lwm2mRecord[] {
  const root = parseJson(bytes)
  if (!isPlainObject(root)) fail(`payload is ${describeJson(root)}, not a JSON object`)
  for (const key of Object.keys(root)) if (!TOP_LABELS.has(key)) fail(`unknown label ${quote(key)} at top level`)
  const { bn, bt, e } = root
  if (bn !== undefined && typeof bn !== 'string') fail(`"bn" is ${describeJson(bn)}, not a string`)
  if (bt !== undefined && (typeof bt !== 'number' || !Number.isFinite(bt))) fail(`"bt" is ${describeJson(bt)}, not a number`)
  if (!Array.isArray(e)) fail(e === undefined ? 'payload has no "e" array' : `"e" is ${describeJson(e)}, not an array`)
  const basePath = options.basePath ?? {}
  const now = Date.now() / 1000
  const records: Lwm2mRecord[] = []
  for (let index = 0; index < e.length; index++) {
    const entry: unknown = e[index]
    if (!isPlainObject(entry)) fail(`entry ${index} is ${describeJson(entry)}, not an object`)
    let label: ValueLabel | undefined
    for (const key of Object.keys(entry)) {
      if (!ENTRY_LABELS.has(key)) fail(`entry ${index} has unknown label ${quote(key)}`)
      if (key === 't' || key === 'n') continue
      if (label !== undefined) fail(`entry ${index} has more than one value ("${label}" and "${key}")`)
      label = key as ValueLabel
    }
    if (label === undefined) fail(`entry ${index} has no value (sv, v, bv or ov)`)
    const { n, t } = entry
    if (n !== undefined && typeof n !== 'string') fail(`entry ${index} "n" is ${describeJson(n)}, not a string`)
    if (t !== undefined && (typeof t !== 'number' || !Number.isFinite(t))) fail(`entry ${index} "t" is ${describeJson(t)}, not a number`)
    const path = resolvePath(index, bn, n, basePath)
    const type = modelType(options.models, path)
    const value = entryValue(index, label, entry[label], type, path)
    const recordType = type ?? (label === 'sv' ? 'string' : label === 'bv' ? 'boolean' : label === 'ov' ? 'objlnk' : undefined)
    const record: { path: Lwm2mPath; value: Lwm2mValue; type?: ResourceType; time?: number } = { path, value }
    if (recordType !== undefined) record.type = recordType
    if (bt !== undefined || t !== undefined) {
      const time = (bt ?? 0) + (t ?? 0)
      record.time = time < RELATIVE_TIME_LIMIT ? now + time : time
    }
    records.push(record)
  }
  return records
}

function formatNumber(value: number | bigint, where: string): string {
  if (typeof value === 'number' && !Number.isFinite(value)) fail(`value ${value} at ${where} cannot be written in JSON`)
  return Object.is(value, -0) ? '-0' : String(value)
}

function encodeValue(record: Lwm2mRecord, models: ModelLookup | undefined): string {
  const where = formatPath(record.path)
  const { type, value } = valueToWrite(record, models, CODEC)
  switch (type) {
    case 'opaque':
      return `"sv":"${bytesToBase64(value as Uint8Array)}"`
    case 'string':
    case 'corelnk':
      return `"sv":${JSON.stringify(value)}`
    case 'boolean':
      return `"bv":${String(value)}`
    case 'objlnk':
      return `"ov":"${formatObjlnk(value as { objectId: number; instanceId: number })}"`
    default:
      return `"v":${formatNumber(value as number | bigint, where)}`
  }
}

/** One `bt` for a batch when every record is timed and `bt + t` gives each time back exactly. */
function baseTime(records: readonly Lwm2mRecord[]): number | undefined {
  const first = records[0]?.time
  if (first === undefined) return undefined
  for (const r of records) if (r.time === undefined || first + (r.time - first) !== r.time) return undefined
  return first
}

function encode(records: readonly Lwm2mRecord[], options: EncodeOptions = {}): Uint8Array {
  const basePath = options.basePath ?? {}
  const baseIds = pathIds(basePath)
  // Instance level and above name children after a trailing "/"; deeper levels append "/ri" to the resource.
  const bn = baseIds.length < 3 ? (baseIds.length === 0 && basePath.prefix === undefined ? '/' : `${formatPath(basePath)}/`) : formatPath(basePath)
  const bt = baseTime(records)
  const entries: string[] = []
  for (const r of records) {
    const depth = pathDepth(r.path)
    if (depth < 3) fail(`record path ${formatPath(r.path)} is not a resource or resource instance path`)
    if (!isPathPrefixOf(basePath, r.path)) fail(`record path ${formatPath(r.path)} is outside the request path ${formatPath(basePath)}`)
    const rest = pathIds(r.path).slice(baseIds.length)
    let entry = '{'
    if (rest.length > 0) entry += `"n":"${baseIds.length < 3 ? '' : '/'}${rest.join('/')}",`
    entry += encodeValue(r, options.models)
    if (r.time !== undefined) {
      if (!Number.isFinite(r.time)) fail(`time ${r.time} at ${formatPath(r.path)} cannot be written in JSON`)
      const t = bt === undefined ? r.time : r.time - bt
      if (t !== 0 || bt === undefined) entry += `,"t":${String(t)}`
    }
    entries.push(`${entry}}`)
  }
  const head = `{"bn":${JSON.stringify(bn)},${bt === undefined ? '' : `"bt":${formatNumber(bt, 'bt')},`}"e":[`
  return encodeUtf8(`${head}${entries.join(',')}]}`)
}

export const lwm2mJsonCodec: ValueCodec = {
  format: ContentFormat.LWM2M_JSON,
  decode,
  encode,
}
