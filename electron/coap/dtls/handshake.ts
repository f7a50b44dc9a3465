import { createHash, randomBytes, timingSafeEqual, type Hash } from 'node:crypto'
import { alertName, AlertDescription, AlertLevel, encodeAlert, fatal, parseAlert, type Alert } from './alerts.ts'
import { keyBlockLength, splitKeyBlock, type CipherSuite, type RecordProtection } from './cipher-suites.ts'
import { EpochWriter, encodeFlight, type FlightItem } from './flight.ts'
import {
  DecodeError,
  encodeWhole,
  ExtensionType,
  HandshakeType,
  parseClientKeyExchange,
  parseHandshakeFragments,
  RENEGOTIATION_SCSV,
  serverHelloBody,
  serverKeyExchangeBody,
  type ClientHello,
  type HandshakeMessage,
} from './handshake-messages.ts'
import { extendedMasterSecret, keyBlock, masterSecret, pskPremasterSecret, verifyData } from './prf.ts'
import { HandshakeReassembler } from './reassembly.ts'
import { ContentType, DTLS_1_2, type DtlsRecord } from './record.ts'
import { DtlsSession, type DtlsPeer } from './session.ts'

/** The key of a PSK identity; undefined for an identity the server does not know. May answer asynchronously. */
export type PskLookup = (identity: string) => Uint8Array | undefined | Promise<Uint8Array | undefined>

export interface HandshakeConfig {
  /** In the server's order of preference. */
  readonly suites: readonly CipherSuite[]
  readonly identityHint: Buffer
  readonly pskFor: PskLookup
  readonly pmtu: number
  /** First retransmission timeout (RFC 6347 §4.2.4.1: 1 s), doubled each time up to 60 s. */
  readonly retransmitMs: number
  /** Retransmissions of a flight before the handshake is given up. */
  readonly maxRetransmits: number
  readonly now: () => number
}

export interface HandshakeEvents {
  send(datagram: Buffer): void
  established(session: DtlsSession): void
  /** The handshake is over without a session; `reason` names why (the alert sent, if any, included). */
  failed(reason: string): void
}

/** Thrown inside the handshake: it ends with this alert sent to the client. */
class HandshakeFailure extends Error {
  readonly alert: Alert
  constructor(alert: Alert, message: string) {
    super(message)
    this.alert = alert
  }
}

type State = 'keyExchange' | 'changeCipherSpec' | 'finished' | 'done'

const MAX_TIMEOUT_MS = 60_000

/**
 * The server side of one PSK handshake, from a ClientHello whose cookie checked out (RFC 6347 §4.2,
 * RFC 4279): sends ServerHello, ServerKeyExchange (identity hint) and ServerHelloDone, retransmits them
 * until the client's next flight is complete, checks the client's Finished and answers with its own.
 */
export class ServerHandshake {
  readonly clientRandom: Buffer
  private state: State = 'keyExchange'
  private readonly peer: DtlsPeer
  private readonly config: HandshakeConfig
  private readonly events: HandshakeEvents
  private readonly suite: CipherSuite
  private readonly extendedMasterSecret: boolean
  private readonly serverRandom = randomBytes(32)
  private readonly transcript: Hash = createHash('sha256')
  private readonly reassembler = new HandshakeReassembler()
  private readonly plainWriter: EpochWriter
  private nextReceiveSeq: number
  private nextSendSeq: number
  private flight: readonly FlightItem[] = []
  private timer: NodeJS.Timeout | undefined
  private timeoutMs: number
  private retransmits = 0
  /**
   * The client's ChangeCipherSpec or an epoch-1 record came before its key exchange: it has our whole flight and
   * lost part of its own. Resending ours then only collides with its retransmission timer (GnuTLS, which restarts
   * its timer on our old flight, then never repeats its own); we wait for its flight instead.
   */
  private clientHasOurFlight = false
  private pskIdentity: string | undefined
  private master: Buffer = Buffer.alloc(0)
  private clientReader: RecordProtection | undefined
  private serverWriter: EpochWriter | undefined
  private expectedClientFinished: Buffer = Buffer.alloc(0)
  private readonly hello: ClientHello
  /** Set when the hello cannot be served: `start` sends this alert instead of a flight. */
  private readonly failure: HandshakeFailure | undefined

  constructor(peer: DtlsPeer, config: HandshakeConfig, events: HandshakeEvents, hello: ClientHello, message: HandshakeMessage, recordSequence: number) {
    this.peer = peer
    this.config = config
    this.events = events
    this.clientRandom = hello.random
    // Our epoch-0 records go on from the client's, so none repeats the HelloVerifyRequest's number (RFC 6347 §4.2.1).
    this.plainWriter = new EpochWriter({ epoch: 0, version: DTLS_1_2, firstSequence: recordSequence })
    this.nextReceiveSeq = message.messageSeq + 1
    this.nextSendSeq = message.messageSeq
    this.timeoutMs = config.retransmitMs
    const suite = config.suites.find((s) => hello.cipherSuites.includes(s.id))
    this.suite = suite ?? (config.suites[0] as CipherSuite)
    this.extendedMasterSecret = hello.extensions.has(ExtensionType.extendedMasterSecret)
    this.transcript.update(encodeWhole(message))
    this.failure = refusal(hello, suite)
    this.hello = hello
  }

  /** Sends the server's first flight, or the alert that refuses the hello. */
  start(): void {
    if (this.failure) return this.fail(this.failure)
    const extensions = new Map<number, Buffer>()
    // RFC 5746: we never renegotiate, and say so; OpenSSL 3 clients refuse servers that do not.
    if (this.hello.extensions.has(ExtensionType.renegotiationInfo) || this.hello.cipherSuites.includes(RENEGOTIATION_SCSV)) extensions.set(ExtensionType.renegotiationInfo, Buffer.from([0]))
    if (this.extendedMasterSecret) extensions.set(ExtensionType.extendedMasterSecret, Buffer.alloc(0))
    const messages: HandshakeMessage[] = [this.message(HandshakeType.serverHello, serverHelloBody({ version: DTLS_1_2, random: this.serverRandom, cipherSuite: this.suite.id, extensions }))]
    if (this.config.identityHint.length > 0) messages.push(this.message(HandshakeType.serverKeyExchange, serverKeyExchangeBody(this.config.identityHint)))
    messages.push(this.message(HandshakeType.serverHelloDone, Buffer.alloc(0)))
    for (const m of messages) this.transcript.update(encodeWhole(m))
    this.sendFlight(messages.map((message) => ({ writer: this.plainWriter, message })))
    this.armTimer()
  }

  /** The PSK identity the client named in its key exchange; undefined before that. */
  get identity(): string | undefined {
    return this.pskIdentity
  }

  /** Still waiting for the client's second flight: nothing but a cookie shows the client is serious. */
  get awaitingKeyExchange(): boolean {
    return this.state === 'keyExchange'
  }

  /** The epoch the handshake reads next: 1 once the client's ChangeCipherSpec is in. */
  get readEpoch(): number {
    return this.state === 'finished' ? 1 : 0
  }

  /** One record of this handshake (epoch 0, or epoch 1 once the client changed cipher spec). */
  async receive(record: DtlsRecord): Promise<void> {
    if (this.state === 'done') return
    try {
      await this.process(record)
    } catch (e) {
      if (e instanceof HandshakeFailure) return this.fail(e)
      if (e instanceof DecodeError) return this.fail(new HandshakeFailure(fatal(AlertDescription.decodeError), e.message))
      return this.fail(new HandshakeFailure(fatal(AlertDescription.internalError), `internal error: ${(e as Error).message}`))
    }
  }

  /** Ends the handshake with a fatal access_denied: the identity it named was revoked while it ran. */
  abort(reason: string): void {
    this.fail(new HandshakeFailure(fatal(AlertDescription.accessDenied), reason))
  }

  /** Stops the retransmission timer; the server calls it when it forgets the handshake. */
  dispose(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private async process(record: DtlsRecord): Promise<void> {
    let content = record.fragment
    if (record.epoch === 1) {
      if (this.state !== 'finished' || !this.clientReader) {
        this.clientHasOurFlight = true
        return // keys not there yet: the client will retransmit
      }
      const plaintext = this.clientReader.open(record.type, record.version, record.epoch, record.sequence, record.fragment)
      // With PSK a wrong key shows here first: the client's Finished does not authenticate.
      if (!plaintext) throw new HandshakeFailure(fatal(AlertDescription.decryptError), `the client's Finished does not authenticate: wrong PSK for identity "${this.pskIdentity ?? ''}"`)
      content = plaintext
    } else if (record.epoch !== 0) {
      return
    }
    if (record.type === ContentType.alert) return this.receiveAlert(content)
    if (record.type === ContentType.changeCipherSpec) {
      if (record.epoch === 0 && content.length === 1 && content[0] === 1 && this.state === 'changeCipherSpec') this.state = 'finished'
      else if (this.state === 'keyExchange') this.clientHasOurFlight = true
      return
    }
    if (record.type !== ContentType.handshake) throw new HandshakeFailure(fatal(AlertDescription.unexpectedMessage), `content type ${record.type} during the handshake`)
    let retransmitted = false
    for (const fragment of parseHandshakeFragments(content)) {
      if (fragment.messageSeq < this.nextReceiveSeq) retransmitted = true
      else this.reassembler.add(fragment, this.nextReceiveSeq)
    }
    // The client repeats its last flight: ours got lost. Resend, and restart the timer (RFC 6347 §4.2.4).
    if (retransmitted && this.state === 'keyExchange') {
      this.resend()
      this.armTimer()
    }
    for (let message = this.reassembler.take(this.nextReceiveSeq); message; message = this.reassembler.take(this.nextReceiveSeq)) {
      this.nextReceiveSeq++
      if (message.type === HandshakeType.finished && record.epoch !== 1) throw new HandshakeFailure(fatal(AlertDescription.unexpectedMessage), 'Finished before ChangeCipherSpec')
      if (message.type === HandshakeType.clientKeyExchange && this.state === 'keyExchange') await this.receiveKeyExchange(message)
      else if (message.type === HandshakeType.finished && this.state === 'finished') return this.receiveFinished(message, record.sequence)
      else throw new HandshakeFailure(fatal(AlertDescription.unexpectedMessage), `handshake message ${message.type} in state ${this.state}`)
    }
  }

  private receiveAlert(content: Buffer): void {
    const alert = parseAlert(content)
    const name = alert ? alertName(alert.description) : 'malformed alert'
    if (alert?.level === AlertLevel.warning && alert.description !== AlertDescription.closeNotify) return
    this.end(`the client sent ${name}`)
  }

  private async receiveKeyExchange(message: HandshakeMessage): Promise<void> {
    const identityBytes = parseClientKeyExchange(message.body)
    const identity = identityBytes.toString('utf8')
    // RFC 4279 §5.1: identities are UTF-8; bytes that are not would collide with another identity once decoded.
    if (!Buffer.from(identity, 'utf8').equals(identityBytes)) throw new HandshakeFailure(fatal(AlertDescription.unknownPskIdentity), 'the PSK identity is not UTF-8')
    this.pskIdentity = identity
    const found = this.config.pskFor(identity)
    const psk = found instanceof Promise ? await found : found
    if (this.state !== 'keyExchange') return // given up while the key was looked up
    if (!psk || psk.length === 0) throw new HandshakeFailure(fatal(AlertDescription.unknownPskIdentity), `unknown PSK identity "${identity}"`)
    this.transcript.update(encodeWhole(message))
    const sessionHash = this.transcript.copy().digest()
    const premaster = pskPremasterSecret(psk)
    this.master = this.extendedMasterSecret ? extendedMasterSecret(premaster, sessionHash) : masterSecret(premaster, this.clientRandom, this.serverRandom)
    const keys = splitKeyBlock(this.suite, keyBlock(this.master, this.clientRandom, this.serverRandom, keyBlockLength(this.suite)))
    this.clientReader = this.suite.protect(keys.client)
    this.serverWriter = new EpochWriter({ epoch: 1, version: DTLS_1_2, protection: this.suite.protect(keys.server) })
    this.expectedClientFinished = verifyData(this.master, 'client', sessionHash)
    this.state = 'changeCipherSpec'
  }

  private receiveFinished(message: HandshakeMessage, recordSequence: number): void {
    if (message.body.length !== 12 || !timingSafeEqual(message.body, this.expectedClientFinished)) {
      throw new HandshakeFailure(fatal(AlertDescription.decryptError), `the client's Finished does not verify: wrong PSK for identity "${this.pskIdentity ?? ''}"`)
    }
    this.transcript.update(encodeWhole(message))
    const finished = this.message(HandshakeType.finished, verifyData(this.master, 'server', this.transcript.digest()))
    const writer = this.serverWriter as EpochWriter
    const finalFlight: FlightItem[] = [{ writer: this.plainWriter, changeCipherSpec: true }, { writer, message: finished }]
    this.dispose()
    this.state = 'done'
    this.sendFlight(finalFlight)
    const session = new DtlsSession({ peer: this.peer, pskIdentity: this.pskIdentity ?? '', suite: this.suite, reader: this.clientReader as RecordProtection, writer, finalFlight, now: this.config.now() })
    session.markReceived(recordSequence)
    this.events.established(session)
  }

  private message(type: number, body: Buffer): HandshakeMessage {
    return { type, messageSeq: this.nextSendSeq++, body }
  }

  private sendFlight(flight: readonly FlightItem[]): void {
    this.flight = flight
    for (const datagram of encodeFlight(flight, this.config.pmtu)) this.events.send(datagram)
  }

  private resend(): void {
    this.sendFlight(this.flight)
  }

  /** RFC 6347 §4.2.4.1: 1 s, doubled at each retransmission up to 60 s; given up after maxRetransmits. */
  private armTimer(): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      if (this.retransmits >= this.config.maxRetransmits) return this.end(`no answer from the client after ${this.retransmits} retransmissions`)
      this.retransmits++
      this.timeoutMs = Math.min(2 * this.timeoutMs, MAX_TIMEOUT_MS)
      if (!this.clientHasOurFlight) this.resend()
      this.armTimer()
    }, this.timeoutMs)
    this.timer.unref()
  }

  private fail(failure: HandshakeFailure): void {
    if (this.state === 'done') return
    // Before our ChangeCipherSpec the client reads epoch 0: the alert goes in the clear.
    this.events.send(this.plainWriter.record(ContentType.alert, encodeAlert(failure.alert)))
    this.end(`${failure.message} (sent ${alertName(failure.alert.description)})`)
  }

  private end(reason: string): void {
    if (this.state === 'done') return
    this.state = 'done'
    this.dispose()
    this.events.failed(reason)
  }
}

/** Why a hello cannot be served, as the alert to send; undefined when it can. */
function refusal(hello: ClientHello, suite: CipherSuite | undefined): HandshakeFailure | undefined {
  // DTLS versions count down: anything numerically above 1.2 is older.
  if (hello.version > DTLS_1_2) return new HandshakeFailure(fatal(AlertDescription.protocolVersion), `the client offers DTLS version 0x${hello.version.toString(16)}, older than 1.2`)
  if (!suite) return new HandshakeFailure(fatal(AlertDescription.handshakeFailure), `no common cipher suite among the client's ${hello.cipherSuites.map((s) => `0x${s.toString(16).padStart(4, '0')}`).join(', ')}`)
  if (!hello.compressionMethods.includes(0)) return new HandshakeFailure(fatal(AlertDescription.handshakeFailure), 'the client does not offer null compression')
  const renegotiation = hello.extensions.get(ExtensionType.renegotiationInfo)
  if (renegotiation && !(renegotiation.length === 1 && renegotiation[0] === 0)) return new HandshakeFailure(fatal(AlertDescription.handshakeFailure), 'renegotiation_info is not empty on a new connection')
  return undefined
}
