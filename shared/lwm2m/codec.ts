import type { ModelLookup } from './object-model.ts'
import type { Lwm2mPath } from './path.ts'
import type { Lwm2mRecord } from './values.ts'

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
