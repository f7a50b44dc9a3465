/** Which decoder or parser raised an error; also the prefix of its message. */
export type CodecName =
  | 'Path'
  | 'Text'
  | 'Opaque'
  | 'CBOR'
  | 'TLV'
  | 'SenML JSON'
  | 'SenML CBOR'
  | 'LwM2M JSON'
  | 'Link format'
  | 'DDF'
  | 'Value'

/**
 * The one error type the data layer throws for bad input. The message names the cause and, where a
 * byte stream was being read, the offset: "TLV: length 300 exceeds remaining 12 bytes at offset 5".
 */
export class CodecError extends Error {
  override readonly name = 'CodecError'
  readonly codec: CodecName
  readonly offset: number | undefined
  readonly reason: string

  constructor(codec: CodecName, reason: string, offset?: number) {
    super(`${codec}: ${reason}${offset === undefined ? '' : ` at offset ${offset}`}`)
    this.codec = codec
    this.reason = reason
    this.offset = offset
  }
}

export function isCodecError(e: unknown): e is CodecError {
  return e instanceof CodecError
}
