import { base64ToBytes, bytesToBase64 } from './base64.ts'
import { modelType, valueToWrite, type DecodeOptions, type EncodeOptions, type ValueCodec } from './codec.ts'
import { ContentFormat } from './content-format.ts'
import { CodecError } from './errors.ts'
import { formatPath, pathDepth, pathsEqual, type Lwm2mPath } from './path.ts'
import { formatObjlnk, normalizeInteger, parseObjlnk, type Lwm2mRecord, type Lwm2mValue, type Objlnk, type ResourceType } from './values.ts'
import { decodeUtf8, encodeUtf8, hasLoneSurrogate } from './utf8.ts'

/*
 * text/plain (content format 0; TS 1.1 §7.4.1): one value at a resource or resource instance path, typed by
 * the object model. Integers and floats are ASCII decimal, booleans "0"/"1", opaque is base64, objlnk "o:i".
 */

const CODEC = 'Text'
const INTEGER_RE = /^-?[0-9]+$/
const FLOAT_RE = /^-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const UINT64_MAX = 2n ** 64n - 1n

function fail(reason: string, offset?: number): never {
  throw new CodecError(CODEC, reason, offset)
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)
}

function singleValuePath(path: Lwm2mPath, what: string): Lwm2mPath {
  if (pathDepth(path) < 3) fail(`${what} ${formatPath(path)} is not a resource or resource instance path; text/plain carries one value`)
  return path
}

function parseInteger(text: string, type: 'integer' | 'unsigned' | 'time'): number | bigint {
  if (!INTEGER_RE.test(text)) fail(`${quote(text)} is not a decimal integer (the model says ${type})`)
  if (type === 'unsigned' && text.startsWith('-')) fail(`${quote(text)} is negative (the model says unsigned)`)
  const magnitude = text.replace(/^-?0*/, '')
  // Beyond 15 digits a double may round: go through bigint, whose parse is bounded by this length check.
  if (magnitude.length <= 15) return Number(text) || 0
  const n = magnitude.length > 20 ? undefined : BigInt(text)
  const [min, max] = type === 'unsigned' ? [0n, UINT64_MAX] : [INT64_MIN, INT64_MAX]
  if (n === undefined || n < min || n > max) fail(`${quote(text)} is out of range for ${type === 'unsigned' ? 'a 64-bit unsigned' : 'a 64-bit signed'} integer`)
  return normalizeInteger(n)
}

function parseFloatStrict(text: string): number {
  if (!FLOAT_RE.test(text)) fail(`${quote(text)} is not a decimal float`)
  const n = Number(text)
  if (!Number.isFinite(n)) fail(`${quote(text)} is out of range for a 64-bit float`)
  return n
}

function parseValue(bytes: Uint8Array, type: ResourceType | undefined, path: Lwm2mPath): Lwm2mValue {
  const text = decodeUtf8(bytes, CODEC)
  switch (type) {
    case undefined:
    case 'string':
    case 'corelnk':
      return text
    case 'integer':
    case 'unsigned':
    case 'time':
      return parseInteger(text, type)
    case 'float':
      return parseFloatStrict(text)
    case 'boolean':
      if (text === '1') return true
      if (text === '0') return false
      return fail(`${quote(text)} is not a boolean; LwM2M text/plain booleans are "0" or "1"`)
    case 'opaque':
      return base64ToBytes(text, CODEC, 'opaque value', 0)
    case 'objlnk':
      return parseObjlnk(text, CODEC)
    case 'none':
      return fail(`resource ${formatPath(path)} is executable; it has no value`)
  }
}

function decode(bytes: Uint8Array, options: DecodeOptions = {}): Lwm2mRecord[] {
  const path = singleValuePath(options.basePath ?? {}, 'request path')
  const type = modelType(options.models, path)
  const value = parseValue(bytes, type, path)
  return [type === undefined ? { path, value } : { path, value, type }]
}

function formatInteger(value: number | bigint, type: ResourceType, where: string): string {
  const n = typeof value === 'bigint' ? value : Number.isSafeInteger(value) ? undefined : BigInt(value)
  if (n !== undefined) {
    const [min, max] = type === 'unsigned' ? [0n, UINT64_MAX] : [INT64_MIN, INT64_MAX]
    if (n < min || n > max) fail(`value ${n} at ${where} is out of range for ${type}`)
    return n.toString()
  }
  return String(value)
}

function formatValue(value: Lwm2mValue, type: ResourceType, where: string): string {
  switch (type) {
    case 'string':
    case 'corelnk':
      if (hasLoneSurrogate(value as string)) fail(`string at ${where} has a lone surrogate, which UTF-8 cannot carry`)
      return value as string
    case 'integer':
    case 'unsigned':
    case 'time':
      return formatInteger(value as number | bigint, type, where)
    case 'float':
      if (typeof value === 'number' && !Number.isFinite(value)) fail(`value ${value} at ${where} has no decimal form`)
      return Object.is(value, -0) ? '-0' : String(value)
    case 'boolean':
      return value ? '1' : '0'
    case 'opaque':
      return bytesToBase64(value as Uint8Array)
    case 'objlnk':
      return formatObjlnk(value as Objlnk)
    case 'none':
      return fail(`resource ${where} is executable; it has no value`)
  }
}

function encode(records: readonly Lwm2mRecord[], options: EncodeOptions = {}): Uint8Array {
  const [record] = records
  if (records.length !== 1 || record === undefined) fail(`text/plain carries exactly one value, not ${records.length}`)
  const where = formatPath(singleValuePath(record.path, 'record path'))
  if (options.basePath && !pathsEqual(options.basePath, record.path)) fail(`record path ${where} is not the request path ${formatPath(options.basePath)}`)
  const { type, value } = valueToWrite(record, options.models, CODEC)
  return encodeUtf8(formatValue(value, type, where))
}

export const textCodec: ValueCodec = {
  format: ContentFormat.TEXT,
  decode,
  encode,
}
