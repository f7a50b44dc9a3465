/** The DTLS record layer (RFC 6347 §4.1): framing only; protection is in cipher-suites.ts. */

export const ContentType = { changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23 } as const

/** DTLS versions count down: 1.0 is 0xfeff, 1.2 is 0xfefd. */
export const DTLS_1_0 = 0xfeff
export const DTLS_1_2 = 0xfefd

export const RECORD_HEADER_LENGTH = 13
/** 2^14 plaintext plus the most expansion a cipher may add (RFC 5246 §6.2.3). */
const MAX_FRAGMENT_LENGTH = 16_384 + 2048
/** 2^48: record sequence numbers are 48 bits, which a JS number holds exactly. */
export const MAX_SEQUENCE = 2 ** 48

export interface DtlsRecord {
  readonly type: number
  readonly version: number
  readonly epoch: number
  readonly sequence: number
  readonly fragment: Buffer
}

const KNOWN_TYPES: ReadonlySet<number> = new Set(Object.values(ContentType))

/**
 * The records of one datagram, in order. A malformed record ends the parse: what follows it cannot be
 * framed, and invalid records are silently discarded (RFC 6347 §4.1.2.7).
 */
export function parseRecords(datagram: Buffer): DtlsRecord[] {
  const records: DtlsRecord[] = []
  let offset = 0
  while (offset + RECORD_HEADER_LENGTH <= datagram.length) {
    const type = datagram[offset] as number
    const version = datagram.readUInt16BE(offset + 1)
    const length = datagram.readUInt16BE(offset + 11)
    const end = offset + RECORD_HEADER_LENGTH + length
    if (!KNOWN_TYPES.has(type) || (version !== DTLS_1_0 && version !== DTLS_1_2) || length > MAX_FRAGMENT_LENGTH || end > datagram.length) break
    records.push({
      type,
      version,
      epoch: datagram.readUInt16BE(offset + 3),
      sequence: datagram.readUIntBE(offset + 5, 6),
      fragment: datagram.subarray(offset + RECORD_HEADER_LENGTH, end),
    })
    offset = end
  }
  return records
}

export function encodeRecord(record: DtlsRecord): Buffer {
  const out = Buffer.allocUnsafe(RECORD_HEADER_LENGTH + record.fragment.length)
  out[0] = record.type
  out.writeUInt16BE(record.version, 1)
  out.writeUInt16BE(record.epoch, 3)
  out.writeUIntBE(record.sequence, 5, 6)
  out.writeUInt16BE(record.fragment.length, 11)
  record.fragment.copy(out, RECORD_HEADER_LENGTH)
  return out
}

/** The record's epoch and sequence number, then its type, version and (plaintext) length: what the MAC or AEAD covers. */
export function additionalData(type: number, version: number, epoch: number, sequence: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(13)
  out.writeUInt16BE(epoch, 0)
  out.writeUIntBE(sequence, 2, 6)
  out[8] = type
  out.writeUInt16BE(version, 9)
  out.writeUInt16BE(length, 11)
  return out
}
