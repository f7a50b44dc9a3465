import type { ValueCodec } from './codec.ts'
import { cborCodec } from './cbor.ts'
import { ContentFormat } from './content-format.ts'
import { CodecError } from './errors.ts'
import { lwm2mJsonCodec } from './lwm2m-json.ts'
import { opaqueCodec } from './opaque.ts'
import { senmlCborCodec } from './senml-cbor.ts'
import { senmlJsonCodec } from './senml-json.ts'
import { textCodec } from './text.ts'
import { tlvCodec } from './tlv.ts'

const CODECS: ReadonlyMap<number, ValueCodec> = new Map<number, ValueCodec>([
  [ContentFormat.TEXT, textCodec],
  [ContentFormat.OPAQUE, opaqueCodec],
  [ContentFormat.CBOR, cborCodec],
  [ContentFormat.SENML_JSON, senmlJsonCodec],
  [ContentFormat.SENML_CBOR, senmlCborCodec],
  [ContentFormat.TLV, tlvCodec],
  [ContentFormat.LEGACY_TLV, tlvCodec],
  [ContentFormat.LWM2M_JSON, lwm2mJsonCodec],
  [ContentFormat.LEGACY_LWM2M_JSON, lwm2mJsonCodec],
])

/** The value codec of a content-format number, legacy numbers included. */
export function codecFor(format: number): ValueCodec | undefined {
  return CODECS.get(format)
}

/** Like `codecFor`, with a clear error for formats that carry no values or that we do not speak. */
export function requireCodec(format: number): ValueCodec {
  const codec = CODECS.get(format)
  if (!codec) throw new CodecError('Value', `content-format ${format} does not carry resource values here`)
  return codec
}

export const VALUE_FORMATS: readonly number[] = [...CODECS.keys()]
