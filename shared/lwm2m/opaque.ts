import type { DecodeOptions, EncodeOptions, ValueCodec } from './codec.ts'
import { ContentFormat } from './content-format.ts'
import { CodecError } from './errors.ts'
import { formatPath, pathDepth, pathsEqual, type Lwm2mPath } from './path.ts'
import { isObjlnk, type Lwm2mRecord, type Lwm2mValue } from './values.ts'

/* application/octet-stream (content format 42; TS 1.1 §7.4.2): the raw bytes of one opaque resource value. */

const CODEC = 'Opaque'

function fail(reason: string): never {
  throw new CodecError(CODEC, reason)
}

function singleValuePath(path: Lwm2mPath, what: string): Lwm2mPath {
  if (pathDepth(path) < 3) fail(`${what} ${formatPath(path)} is not a resource or resource instance path; application/octet-stream carries one value`)
  return path
}

function kindOf(value: Lwm2mValue): string {
  if (isObjlnk(value)) return 'an object link'
  return typeof value === 'number' || typeof value === 'bigint' ? 'a number' : `a ${typeof value}`
}

function decode(bytes: Uint8Array, options: DecodeOptions = {}): Lwm2mRecord[] {
  const path = singleValuePath(options.basePath ?? {}, 'request path')
  // A copy: the caller's buffer (a datagram) may be reused.
  return [{ path, value: bytes.slice(), type: 'opaque' }]
}

/** Returns the record's own bytes, without a copy. */
function encode(records: readonly Lwm2mRecord[], options: EncodeOptions = {}): Uint8Array {
  const [record] = records
  if (records.length !== 1 || record === undefined) fail(`application/octet-stream carries exactly one value, not ${records.length}`)
  const where = formatPath(singleValuePath(record.path, 'record path'))
  if (options.basePath && !pathsEqual(options.basePath, record.path)) fail(`record path ${where} is not the request path ${formatPath(options.basePath)}`)
  const { value } = record
  if (!(value instanceof Uint8Array)) fail(`value at ${where} is ${kindOf(value)}; only opaque values can be sent as application/octet-stream`)
  return value
}

export const opaqueCodec: ValueCodec = {
  format: ContentFormat.OPAQUE,
  decode,
  encode,
}
