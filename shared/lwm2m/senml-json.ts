import { bytesToBase64 } from './base64.ts'
import type { DecodeOptions, EncodeOptions, ValueCodec } from './codec.ts'
import { ContentFormat } from './content-format.ts'
import { CodecError } from './errors.ts'
import { decodeSenmlPack, encodeSenmlPack, type SenmlRecord } from './senml.ts'
import type { Lwm2mRecord } from './values.ts'

const CODEC = 'SenML JSON'
/** A pack is an array of flat records: two levels; anything much deeper is not SenML. */
const MAX_JSON_DEPTH = 16
const UTF8 = new TextDecoder('utf-8', { fatal: true })
const UTF8_ENCODER = new TextEncoder()

/** Refuses deep nesting before JSON.parse (and its reviver) recurse into it. */
function checkDepth(text: string): void {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > MAX_JSON_DEPTH) throw new CodecError(CODEC, `nesting deeper than ${MAX_JSON_DEPTH} levels`, i)
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--
  }
}

/** Keeps integers beyond 2^53 exact: JSON.parse hands the reviver the source text of each number. */
function exactIntegers(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source !== undefined && /^-?\d+$/.test(context.source)) {
    return BigInt(context.source)
  }
  return value
}

/** Parses SenML JSON text into its pack (an array), without resolving it. */
export function parseSenmlJson(bytes: Uint8Array): unknown[] {
  let text: string
  try {
    text = UTF8.decode(bytes)
  } catch {
    throw new CodecError(CODEC, 'payload is not valid UTF-8')
  }
  checkDepth(text)
  let pack: unknown
  try {
    pack = JSON.parse(text, exactIntegers)
  } catch (e) {
    throw new CodecError(CODEC, `invalid JSON: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (!Array.isArray(pack)) throw new CodecError(CODEC, 'expected a JSON array of SenML records')
  return pack
}

function toJsonRecord(rec: SenmlRecord, index: number): Record<string, string | number | boolean> {
  const fail = (reason: string): never => {
    throw new CodecError(CODEC, `record ${index}: ${reason}`)
  }
  const finite = (n: number, label: string): number => (Number.isFinite(n) ? n : fail(`"${label}" ${n} can not be written in JSON`))
  const out: Record<string, string | number | boolean> = {}
  if (rec.bn !== undefined) out.bn = rec.bn
  if (rec.bt !== undefined) out.bt = finite(rec.bt, 'bt')
  if (rec.n !== undefined) out.n = rec.n
  if (rec.t !== undefined) out.t = finite(rec.t, 't')
  if (typeof rec.v === 'bigint') {
    out.v = rec.v >= Number.MIN_SAFE_INTEGER && rec.v <= Number.MAX_SAFE_INTEGER ? Number(rec.v) : fail(`integer ${rec.v} is beyond what SenML JSON carries exactly (2^53)`)
  } else if (rec.v !== undefined) out.v = finite(rec.v, 'v')
  if (rec.vs !== undefined) out.vs = rec.vs
  if (rec.vb !== undefined) out.vb = rec.vb
  if (rec.vd !== undefined) out.vd = bytesToBase64(rec.vd, { url: true })
  if (rec.vlo !== undefined) out.vlo = rec.vlo
  return out
}

/** Writes a pack as SenML JSON bytes. */
export function writeSenmlJson(pack: readonly SenmlRecord[]): Uint8Array {
  return UTF8_ENCODER.encode(JSON.stringify(pack.map(toJsonRecord)))
}

function decode(bytes: Uint8Array, options?: DecodeOptions): Lwm2mRecord[] {
  return decodeSenmlPack(parseSenmlJson(bytes), CODEC, options)
}

function encode(records: readonly Lwm2mRecord[], options?: EncodeOptions): Uint8Array {
  return writeSenmlJson(encodeSenmlPack(records, CODEC, options))
}

/** Content-format 110, application/senml+json (RFC 8428, LwM2M TS 1.1 §7.4.4). */
export const senmlJsonCodec: ValueCodec = { format: ContentFormat.SENML_JSON, decode, encode }
