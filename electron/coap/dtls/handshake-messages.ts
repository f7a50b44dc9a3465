/** Handshake messages of a PSK server (RFC 6347 §4.2.2, RFC 5246 §7.4, RFC 4279 §2): header and bodies. */

export const HandshakeType = {
  helloRequest: 0,
  clientHello: 1,
  serverHello: 2,
  helloVerifyRequest: 3,
  serverKeyExchange: 12,
  serverHelloDone: 14,
  clientKeyExchange: 16,
  finished: 20,
} as const

export const ExtensionType = { extendedMasterSecret: 0x0017, renegotiationInfo: 0xff01 } as const
/** TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 §3.3): a cipher suite value that means "renegotiation_info". */
export const RENEGOTIATION_SCSV = 0x00ff

export const HANDSHAKE_HEADER_LENGTH = 12

/** A handshake message that does not parse: the handshake answers decode_error. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError'
}

/** One handshake fragment as carried in a record. */
export interface HandshakeFragment {
  readonly type: number
  readonly length: number
  readonly messageSeq: number
  readonly offset: number
  readonly body: Buffer
}

/** A whole handshake message. */
export interface HandshakeMessage {
  readonly type: number
  readonly messageSeq: number
  readonly body: Buffer
}

/** Bounds-checked reading; every overrun is a DecodeError naming what was being read. */
class Reader {
  private offset = 0
  private readonly buf: Buffer
  constructor(buf: Buffer) {
    this.buf = buf
  }
  get remaining(): number {
    return this.buf.length - this.offset
  }
  bytes(n: number, what: string): Buffer {
    if (n > this.remaining) throw new DecodeError(`${what}: needs ${n} bytes, ${this.remaining} left`)
    return this.buf.subarray(this.offset, (this.offset += n))
  }
  uint(n: 1 | 2 | 3, what: string): number {
    return this.bytes(n, what).readUIntBE(0, n)
  }
  vector(lengthBytes: 1 | 2, what: string): Buffer {
    return this.bytes(this.uint(lengthBytes, `${what} length`), what)
  }
}

/** The handshake fragments of a record (one record may hold several). */
export function parseHandshakeFragments(fragment: Buffer): HandshakeFragment[] {
  const reader = new Reader(fragment)
  const out: HandshakeFragment[] = []
  while (reader.remaining > 0) {
    const type = reader.uint(1, 'handshake type')
    const length = reader.uint(3, 'handshake length')
    const messageSeq = reader.uint(2, 'message_seq')
    const offset = reader.uint(3, 'fragment_offset')
    const fragmentLength = reader.uint(3, 'fragment_length')
    if (offset + fragmentLength > length) throw new DecodeError(`handshake fragment ${offset}+${fragmentLength} exceeds the message length ${length}`)
    out.push({ type, length, messageSeq, offset, body: reader.bytes(fragmentLength, 'handshake fragment') })
  }
  return out
}

export function encodeFragment(message: HandshakeMessage, offset: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(HANDSHAKE_HEADER_LENGTH)
  header[0] = message.type
  header.writeUIntBE(message.body.length, 1, 3)
  header.writeUInt16BE(message.messageSeq, 4)
  header.writeUIntBE(offset, 6, 3)
  header.writeUIntBE(length, 9, 3)
  return Buffer.concat([header, message.body.subarray(offset, offset + length)])
}

/** The message as the transcript hashes it: unfragmented (RFC 6347 §4.2.6). */
export const encodeWhole = (message: HandshakeMessage): Buffer => encodeFragment(message, 0, message.body.length)

/** Splits a message into fragments of at most `maxBody` bytes each (at least one, even for an empty body). */
export function fragmentMessage(message: HandshakeMessage, maxBody: number): Buffer[] {
  const out: Buffer[] = []
  let offset = 0
  do {
    const length = Math.min(maxBody, message.body.length - offset)
    out.push(encodeFragment(message, offset, length))
    offset += length
  } while (offset < message.body.length)
  return out
}

export interface ClientHello {
  readonly version: number
  readonly random: Buffer
  readonly sessionId: Buffer
  readonly cookie: Buffer
  readonly cipherSuites: readonly number[]
  readonly compressionMethods: Buffer
  readonly extensions: ReadonlyMap<number, Buffer>
  /** What the cookie covers: everything the client must repeat unchanged (RFC 6347 §4.2.1). */
  readonly cookieInput: Buffer
}

export function parseClientHello(body: Buffer): ClientHello {
  const reader = new Reader(body)
  const versionAndRandom = reader.bytes(34, 'client_version and random')
  const sessionId = reader.vector(1, 'session_id')
  if (sessionId.length > 32) throw new DecodeError(`session_id of ${sessionId.length} bytes exceeds 32`)
  const cookie = reader.vector(1, 'cookie')
  const suites = reader.vector(2, 'cipher_suites')
  if (suites.length < 2 || suites.length % 2 !== 0) throw new DecodeError(`cipher_suites of ${suites.length} bytes is not a list of 16-bit values`)
  const compressionMethods = reader.vector(1, 'compression_methods')
  if (compressionMethods.length < 1) throw new DecodeError('compression_methods is empty')
  const extensions = new Map<number, Buffer>()
  if (reader.remaining > 0) {
    const list = new Reader(reader.vector(2, 'extensions'))
    while (list.remaining > 0) {
      const type = list.uint(2, 'extension type')
      if (extensions.has(type)) throw new DecodeError(`extension ${type} appears twice`)
      extensions.set(type, list.vector(2, `extension ${type}`))
    }
    if (reader.remaining > 0) throw new DecodeError(`${reader.remaining} bytes after the extensions`)
  }
  const cipherSuites: number[] = []
  for (let i = 0; i < suites.length; i += 2) cipherSuites.push(suites.readUInt16BE(i))
  return {
    version: versionAndRandom.readUInt16BE(0),
    random: versionAndRandom.subarray(2),
    sessionId,
    cookie,
    cipherSuites,
    compressionMethods,
    extensions,
    cookieInput: Buffer.concat([versionAndRandom, Buffer.from([sessionId.length]), sessionId, Buffer.from([suites.length >> 8, suites.length & 0xff]), suites, compressionMethods]),
  }
}

const vector = (lengthBytes: 1 | 2, data: Buffer): Buffer => {
  const header = Buffer.alloc(lengthBytes)
  header.writeUIntBE(data.length, 0, lengthBytes)
  return Buffer.concat([header, data])
}

const uint16 = (value: number): Buffer => Buffer.from([value >> 8, value & 0xff])

export function helloVerifyRequestBody(version: number, cookie: Buffer): Buffer {
  return Buffer.concat([uint16(version), vector(1, cookie)])
}

export function serverHelloBody(hello: { version: number; random: Buffer; cipherSuite: number; extensions: ReadonlyMap<number, Buffer> }): Buffer {
  const extensions = [...hello.extensions].map(([type, data]) => Buffer.concat([uint16(type), vector(2, data)]))
  return Buffer.concat([
    uint16(hello.version),
    hello.random,
    vector(1, Buffer.alloc(0)), // no session_id: sessions are not cached, a client resumes by a new handshake
    uint16(hello.cipherSuite),
    Buffer.from([0]), // null compression
    ...(extensions.length > 0 ? [vector(2, Buffer.concat(extensions))] : []),
  ])
}

/** RFC 4279 §2: the PSK identity hint. */
export const serverKeyExchangeBody = (identityHint: Buffer): Buffer => vector(2, identityHint)

/** RFC 4279 §2: the PSK identity the client chose. */
export function parseClientKeyExchange(body: Buffer): Buffer {
  const reader = new Reader(body)
  const identity = reader.vector(2, 'psk_identity')
  if (reader.remaining > 0) throw new DecodeError(`${reader.remaining} bytes after the psk_identity`)
  return identity
}
