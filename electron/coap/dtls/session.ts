import type { CipherSuite, RecordProtection } from './cipher-suites.ts'
import type { EpochWriter, FlightItem } from './flight.ts'
import type { DtlsRecord } from './record.ts'
import { ReplayWindow } from './replay-window.ts'

export interface DtlsPeer {
  readonly address: string
  readonly port: number
}

/** What the server tells about an established session. */
export interface SessionInfo {
  readonly peer: DtlsPeer
  /** The PSK identity the client authenticated with. */
  readonly pskIdentity: string
  readonly cipherSuite: CipherSuite['name']
  readonly establishedAt: number
}

/** An established association: the epoch-1 keys of both directions and the anti-replay window. */
export class DtlsSession implements SessionInfo {
  readonly peer: DtlsPeer
  readonly pskIdentity: string
  readonly cipherSuite: CipherSuite['name']
  readonly establishedAt: number
  lastActivity: number
  /** Our last flight (ChangeCipherSpec, Finished): re-sent while the client repeats its Finished, i.e. lost ours. */
  finalFlight: readonly FlightItem[] | undefined
  /** The server's serial number of the datagram that last made us resend it. */
  finalFlightResentFor = -1
  readonly writer: EpochWriter
  private readonly epoch: number
  private readonly reader: RecordProtection
  private readonly window = new ReplayWindow()

  constructor(options: { peer: DtlsPeer; pskIdentity: string; suite: CipherSuite; reader: RecordProtection; writer: EpochWriter; finalFlight: readonly FlightItem[]; now: number }) {
    this.peer = options.peer
    this.pskIdentity = options.pskIdentity
    this.cipherSuite = options.suite.name
    this.reader = options.reader
    this.writer = options.writer
    this.epoch = options.writer.epoch
    this.finalFlight = options.finalFlight
    this.establishedAt = options.now
    this.lastActivity = options.now
  }

  /** The plaintext of a record of this session's epoch; undefined for a replay or a record that does not authenticate. */
  open(record: DtlsRecord): Buffer | undefined {
    if (record.epoch !== this.epoch || !this.window.check(record.sequence)) return undefined
    const plaintext = this.reader.open(record.type, record.version, record.epoch, record.sequence, record.fragment)
    if (plaintext) this.window.accept(record.sequence)
    return plaintext
  }

  seal(type: number, payload: Buffer): Buffer {
    return this.writer.record(type, payload)
  }

  /** Marks a record of the handshake's last flight as already received (it was opened by the handshake). */
  markReceived(sequence: number): void {
    this.window.accept(sequence)
  }
}
