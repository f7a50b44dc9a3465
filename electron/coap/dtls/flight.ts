import type { RecordProtection } from './cipher-suites.ts'
import { fragmentMessage, HANDSHAKE_HEADER_LENGTH, type HandshakeMessage } from './handshake-messages.ts'
import { ContentType, encodeRecord, MAX_SEQUENCE, RECORD_HEADER_LENGTH } from './record.ts'

/** Writes the records of one epoch in one direction, each with the next sequence number. */
export class EpochWriter {
  readonly epoch: number
  private sequence: number
  private readonly version: number
  private readonly protection: RecordProtection | undefined

  constructor(options: { epoch: number; version: number; protection?: RecordProtection; firstSequence?: number }) {
    this.epoch = options.epoch
    this.version = options.version
    this.protection = options.protection
    this.sequence = options.firstSequence ?? 0
  }

  /** Record header and protection: what a record adds to its payload. */
  get overhead(): number {
    return RECORD_HEADER_LENGTH + (this.protection?.overhead ?? 0)
  }

  record(type: number, payload: Buffer): Buffer {
    // A sequence number must never repeat in an epoch (RFC 6347 §4.1); 2^48 records is far beyond any session.
    if (this.sequence >= MAX_SEQUENCE) throw new Error(`epoch ${this.epoch} has used all its sequence numbers`)
    const sequence = this.sequence++
    const fragment = this.protection ? this.protection.seal(type, this.version, this.epoch, sequence, payload) : payload
    return encodeRecord({ type, version: this.version, epoch: this.epoch, sequence, fragment })
  }
}

/** One item of a flight: a handshake message, or a ChangeCipherSpec. */
export type FlightItem = { readonly writer: EpochWriter; readonly message: HandshakeMessage } | { readonly writer: EpochWriter; readonly changeCipherSpec: true }

/** The smallest handshake fragment we cut, however small the PMTU claims to be. */
const MIN_FRAGMENT = 32

/**
 * The datagrams of a flight: messages fragmented to fit `pmtu`, records packed into as few datagrams as fit.
 * Called again for each retransmission, so every copy has fresh record sequence numbers (RFC 6347 §4.2.4).
 */
export function encodeFlight(items: readonly FlightItem[], pmtu: number): Buffer[] {
  const datagrams: Buffer[] = []
  let current: Buffer[] = []
  let size = 0
  const add = (record: Buffer): void => {
    if (size > 0 && size + record.length > pmtu) {
      datagrams.push(Buffer.concat(current))
      current = []
      size = 0
    }
    current.push(record)
    size += record.length
  }
  for (const item of items) {
    if ('changeCipherSpec' in item) {
      add(item.writer.record(ContentType.changeCipherSpec, Buffer.from([1])))
      continue
    }
    const maxBody = Math.max(MIN_FRAGMENT, pmtu - item.writer.overhead - HANDSHAKE_HEADER_LENGTH)
    for (const fragment of fragmentMessage(item.message, maxBody)) add(item.writer.record(ContentType.handshake, fragment))
  }
  if (size > 0) datagrams.push(Buffer.concat(current))
  return datagrams
}
