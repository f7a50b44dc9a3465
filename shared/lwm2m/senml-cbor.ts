import { cborInteger, decodeCborItem, encodeCbor } from './cbor.ts'
import type { DecodeOptions, EncodeOptions, ValueCodec } from './codec.ts'
import { ContentFormat } from './content-format.ts'
import { CodecError } from './errors.ts'
import { decodeSenmlPack, encodeSenmlPack, SENML_CBOR_KEY as K, type SenmlRecord } from './senml.ts'
import type { Lwm2mRecord } from './values.ts'

const CODEC = 'SenML CBOR'
/** Bignums (tags 2 and 3) may carry 64-bit-and-beyond values; no other tag belongs in a pack. */
const SENML_TAGS: ReadonlySet<number> = new Set([2, 3])

/** Decodes SenML CBOR bytes into its pack (an array of maps), without resolving it. */
export function parseSenmlCbor(bytes: Uint8Array): unknown[] {
  const { value } = decodeCborItem(bytes, CODEC, SENML_TAGS)
  if (!Array.isArray(value)) throw new CodecError(CODEC, 'expected a CBOR array of SenML records')
  return value
}

function toCborMap(rec: SenmlRecord): Map<number | string, unknown> {
  const map = new Map<number | string, unknown>()
  if (rec.bn !== undefined) map.set(K.bn, rec.bn)
  if (rec.bt !== undefined) map.set(K.bt, cborInteger(rec.bt))
  if (rec.n !== undefined) map.set(K.n, rec.n)
  if (rec.t !== undefined) map.set(K.t, cborInteger(rec.t))
  if (rec.v !== undefined) map.set(K.v, cborInteger(rec.v))
  if (rec.vs !== undefined) map.set(K.vs, rec.vs)
  if (rec.vb !== undefined) map.set(K.vb, rec.vb)
  if (rec.vd !== undefined) map.set(K.vd, rec.vd)
  if (rec.vlo !== undefined) map.set(K.vlo, rec.vlo)
  return map
}

/** Writes a pack as SenML CBOR bytes: an array of maps with the RFC 8428 integer keys. */
export function writeSenmlCbor(pack: readonly SenmlRecord[]): Uint8Array {
  return encodeCbor(pack.map(toCborMap))
}

function decode(bytes: Uint8Array, options?: DecodeOptions): Lwm2mRecord[] {
  return decodeSenmlPack(parseSenmlCbor(bytes), CODEC, options)
}

function encode(records: readonly Lwm2mRecord[], options?: EncodeOptions): Uint8Array {
  return writeSenmlCbor(encodeSenmlPack(records, CODEC, options))
}

/** Content-format 112, application/senml+cbor (RFC 8428, LwM2M TS 1.1 §7.4.5). */
export const senmlCborCodec: ValueCodec = { format: ContentFormat.SENML_CBOR, decode, encode }
