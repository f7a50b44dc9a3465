import { CodecError, isCodecError, type CodecName } from './errors.ts'
import type { ModelLookup } from './object-model.ts'
import { formatPath, type Lwm2mPath } from './path.ts'
import { coerceValue, inferType, type Lwm2mRecord, type Lwm2mValue, type ResourceType } from './values.ts'

export interface DecodeOptions {
  /** The path of the request the payload answers; names in the payload resolve against it. Default `/`. */
  readonly basePath?: Lwm2mPath
  /** Resource types, for formats that do not carry them (TLV, text, CBOR). */
  readonly models?: ModelLookup
}

export interface EncodeOptions {
  /** The path of the request; formats that name things relative to it (TLV, LwM2M JSON) use it. Default `/`. */
  readonly basePath?: Lwm2mPath
  /** Resource types, so that numbers are written as the model says (TLV float vs integer, text). */
  readonly models?: ModelLookup
}

/** A content format that carries resource values. Decoders throw only `CodecError`. */
export interface ValueCodec {
  readonly format: number
  decode(bytes: Uint8Array, options?: DecodeOptions): Lwm2mRecord[]
  encode(records: readonly Lwm2mRecord[], options?: EncodeOptions): Uint8Array
}

/** The type the models give the resource at `path`; undefined without models or above resource level. */
export function modelType(models: ModelLookup | undefined, path: Lwm2mPath): ResourceType | undefined {
  if (!models || path.objectId === undefined || path.resourceId === undefined) return undefined
  return models.resource(path.objectId, path.resourceId)?.type
}

/**
 * What an encoder writes for a record: its own type, else the model's, else one inferred from the value, and
 * the value coerced to that type. Throws a `CodecError` of `codec` for executable resources and values that do not fit.
 */
export function valueToWrite(record: Lwm2mRecord, models: ModelLookup | undefined, codec: CodecName): { type: ResourceType; value: Lwm2mValue } {
  const where = formatPath(record.path)
  const type = record.type ?? modelType(models, record.path) ?? inferType(record.value)
  if (type === 'none') throw new CodecError(codec, `resource ${where} is executable; it has no value`)
  try {
    return { type, value: coerceValue(record.value, type) }
  } catch (e) {
    throw new CodecError(codec, `value at ${where}: ${isCodecError(e) ? e.reason : String(e)}`)
  }
}
