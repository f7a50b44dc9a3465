import type { Socket } from 'node:dgram'
import { alertName, AlertDescription, AlertLevel, encodeAlert, fatal, parseAlert } from './alerts.ts'
import { cipherSuiteNamed, type CipherSuiteName } from './cipher-suites.ts'
import { CookieJar } from './cookie.ts'
import { encodeFlight } from './flight.ts'
import { encodeWhole, HandshakeType, helloVerifyRequestBody, parseClientHello, parseHandshakeFragments, type HandshakeFragment } from './handshake-messages.ts'
import { ServerHandshake, type HandshakeConfig, type PskLookup } from './handshake.ts'
import { ContentType, DTLS_1_0, encodeRecord, parseRecords, type DtlsRecord } from './record.ts'
import type { DtlsPeer, DtlsSession, SessionInfo } from './session.ts'

export type { PskLookup } from './handshake.ts'
export type { SessionInfo, DtlsPeer } from './session.ts'

export interface DtlsServerOptions {
  readonly pskFor: PskLookup
  /** Sent in ServerKeyExchange (RFC 4279 §2); empty leaves that message out. */
  readonly identityHint?: string
  /** Offered in this order of preference; default CCM_8 (LwM2M's mandatory suite), then CBC_SHA256. */
  readonly cipherSuites?: readonly CipherSuiteName[]
  /** Largest datagram we send during the handshake (default 1200: fits IPv6's minimum MTU). */
  readonly pmtu?: number
  /**
   * Handshakes in progress at once (default 100). At the limit a verified ClientHello takes the place of the oldest
   * handshake still waiting for its client's key exchange, so abandoned handshakes cannot lock clients out; when
   * every handshake is further along, it is dropped and the client retries.
   */
  readonly maxHandshakes?: number
  /**
   * Handshakes in progress from one IP address (default 10): one host that returns cookies and then stalls only
   * churns its own share of the table. At the limit its oldest stalled handshake gives way, as above.
   */
  readonly maxHandshakesPerAddress?: number
  /** Established sessions at once; a new client beyond that is refused. Default 10,000. */
  readonly maxSessions?: number
  /** A session with no traffic for this long is closed. Default 24 h (LwM2M lifetimes are often a day). */
  readonly idleTimeoutMs?: number
  /** First handshake retransmission timeout; default 1 s (RFC 6347 §4.2.4.1). */
  readonly retransmitMs?: number
  /** Default 6: with doubling from 1 s, a client has a minute to answer. */
  readonly maxRetransmits?: number
  readonly log?: (level: 'info' | 'warn', message: string) => void
  readonly now?: () => number
}

export interface DtlsServerStats {
  readonly sessions: number
  readonly handshakes: number
  readonly handshakesCompleted: number
  readonly handshakesFailed: number
  readonly helloVerifyRequests: number
}

interface Connection {
  readonly peer: DtlsPeer
  session?: DtlsSession
  handshake?: ServerHandshake
  /** Set while a record is processed asynchronously (a PSK lookup); later records wait in the backlog. */
  busy?: Promise<void>
  readonly backlog: DtlsRecord[]
}

const MAX_BACKLOG = 32

/**
 * A DTLS 1.2 PSK server on a UDP socket (RFC 6347, RFC 4279, RFC 6655): per peer one established session
 * and at most one handshake. Nothing is kept for a ClientHello until it returns our cookie, so a flood of
 * hellos costs an HMAC each and no memory.
 */
export class DtlsServer {
  private readonly socket: Socket
  private readonly connections = new Map<string, Connection>()
  private readonly cookies = new CookieJar()
  private readonly config: HandshakeConfig
  private readonly options: DtlsServerOptions
  private readonly now: () => number
  private dataListener: (payload: Buffer, session: SessionInfo) => void = () => undefined
  private readonly sweeper: NodeJS.Timeout
  /** Connections with a handshake in progress, oldest first. */
  private readonly handshaking = new Map<string, Connection>()
  private sessionCount = 0
  private completed = 0
  private failed = 0
  private verifyRequests = 0
  private lastLimitWarning = 0
  private closed = false
  /** Counts datagrams, so a final flight is re-sent once per datagram that repeats the client's flight. */
  private datagrams = 0
  private readonly onMessage = (msg: Buffer, rinfo: { address: string; port: number }): void => this.receive(msg, { address: rinfo.address, port: rinfo.port })

  constructor(socket: Socket, options: DtlsServerOptions) {
    this.socket = socket
    this.options = options
    this.now = options.now ?? Date.now
    const names = options.cipherSuites ?? ['TLS_PSK_WITH_AES_128_CCM_8', 'TLS_PSK_WITH_AES_128_CBC_SHA256']
    if (names.length === 0) throw new Error('a DTLS server needs at least one cipher suite')
    this.config = {
      suites: names.map(cipherSuiteNamed),
      identityHint: Buffer.from(options.identityHint ?? '', 'utf8'),
      pskFor: options.pskFor,
      pmtu: options.pmtu ?? 1200,
      retransmitMs: options.retransmitMs ?? 1000,
      maxRetransmits: options.maxRetransmits ?? 6,
      now: this.now,
    }
    const idle = options.idleTimeoutMs ?? 86_400_000
    this.sweeper = setInterval(() => this.closeIdle(idle), Math.min(60_000, Math.max(100, idle / 4)))
    this.sweeper.unref()
    socket.on('message', this.onMessage)
  }

  /** Decrypted application data of every session. */
  onData(listener: (payload: Buffer, session: SessionInfo) => void): void {
    this.dataListener = listener
  }

  /** Sends application data over the peer's session; false when there is none. */
  send(peer: DtlsPeer, payload: Buffer): boolean {
    const session = this.connections.get(keyOf(peer))?.session
    if (!session || this.closed) return false
    session.lastActivity = this.now()
    this.socket.send(session.seal(ContentType.applicationData, payload), peer.port, peer.address)
    return true
  }

  session(peer: DtlsPeer): SessionInfo | undefined {
    return this.connections.get(keyOf(peer))?.session
  }

  stats(): DtlsServerStats {
    return { sessions: this.sessionCount, handshakes: this.handshaking.size, handshakesCompleted: this.completed, handshakesFailed: this.failed, helloVerifyRequests: this.verifyRequests }
  }

  /**
   * Ends every session authenticated with `pskIdentity` with an encrypted close_notify, and every handshake that
   * named it with a fatal access_denied: its key was revoked, and nothing set up with it may outlive that. The
   * peer's next datagram needs a new handshake. Returns how many sessions were closed.
   */
  closeSessions(pskIdentity: string, reason: string): number {
    let closed = 0
    // A copy: ending a handshake or a session deletes its connection.
    for (const connection of [...this.connections.values()]) {
      // A handshake past its key lookup would otherwise still finish with the old key.
      if (connection.handshake?.identity === pskIdentity) connection.handshake.abort(reason)
      if (connection.session?.pskIdentity !== pskIdentity) continue
      this.sendAlert(connection, AlertLevel.warning, AlertDescription.closeNotify)
      this.endSession(connection, reason)
      closed++
    }
    return closed
  }

  /**
   * Sends close_notify on every session and forgets them all; resolves once those are sent. The socket stays
   * open (it is the caller's): closing it sooner would cancel the alerts.
   */
  async close(): Promise<void> {
    if (this.closed) return
    const sent: Array<Promise<unknown>> = []
    for (const connection of this.connections.values()) {
      const session = connection.session
      if (session) {
        const alert = session.seal(ContentType.alert, encodeAlert({ level: AlertLevel.warning, description: AlertDescription.closeNotify }))
        sent.push(new Promise((resolve) => this.socket.send(alert, session.peer.port, session.peer.address, resolve)))
      }
      connection.handshake?.dispose()
    }
    this.connections.clear()
    this.handshaking.clear()
    this.sessionCount = 0
    this.closed = true
    clearInterval(this.sweeper)
    this.socket.off('message', this.onMessage)
    await Promise.all(sent)
  }

  private receive(datagram: Buffer, peer: DtlsPeer): void {
    if (this.closed) return
    this.datagrams++
    const key = keyOf(peer)
    for (const record of parseRecords(datagram)) {
      // Looked up per record: a ClientHello earlier in the datagram may have just started a handshake.
      const connection = this.connections.get(key)
      if (connection?.busy) {
        if (connection.backlog.length < MAX_BACKLOG) connection.backlog.push(record)
        continue
      }
      this.route(record, peer, connection)
    }
  }

  private route(record: DtlsRecord, peer: DtlsPeer, connection: Connection | undefined): void {
    const handshake = connection?.handshake
    if (record.epoch === 0 && record.type === ContentType.handshake) {
      const first = firstFragment(record.fragment)
      if (first === undefined) return // an unparseable record from anyone: dropped
      if (first.type === HandshakeType.clientHello && !(handshake && this.isRetransmittedHello(handshake, first))) return this.receiveHello(record, first, peer, connection)
      if (handshake && connection) return this.feed(connection, handshake, record)
      // The client repeats its last flight after the handshake: our ChangeCipherSpec and Finished got lost.
      if (connection?.session?.finalFlight) this.resendFinalFlight(connection.session)
      return
    }
    if (!connection) return
    // During a new handshake the old session still holds (RFC 6347 §4.2.8): its records are tried first.
    if (record.epoch !== 0 && connection.session) {
      const plaintext = connection.session.open(record)
      if (plaintext) return this.receiveOnSession(connection, connection.session, record.type, plaintext)
    }
    if (handshake && (record.epoch === 0 || record.epoch === handshake.readEpoch)) this.feed(connection, handshake, record)
    // Anything else (a bad MAC, a replay, an unauthenticated epoch-0 alert on a session) is silently dropped (RFC 6347 §4.1.2.7).
  }

  private isRetransmittedHello(handshake: ServerHandshake, fragment: HandshakeFragment): boolean {
    return fragment.body.length >= 34 && fragment.body.subarray(2, 34).equals(handshake.clientRandom)
  }

  /** A ClientHello: without our cookie it is answered statelessly with one; with it, a handshake starts. */
  private receiveHello(record: DtlsRecord, fragment: HandshakeFragment, peer: DtlsPeer, connection: Connection | undefined): void {
    // Before the cookie nothing is buffered, so a ClientHello must come whole (ours are small; all clients' are).
    if (fragment.offset !== 0 || fragment.body.length !== fragment.length) return
    let hello
    try {
      hello = parseClientHello(fragment.body)
    } catch {
      return
    }
    if (!this.cookies.verify(peer, hello.cookieInput, hello.cookie)) {
      this.verifyRequests++
      // RFC 6347 §4.2.1: version 1.0 and the ClientHello's own record sequence number.
      const message = { type: HandshakeType.helloVerifyRequest, messageSeq: fragment.messageSeq, body: helloVerifyRequestBody(DTLS_1_0, this.cookies.cookieFor(peer, hello.cookieInput)) }
      this.socket.send(encodeRecord({ type: ContentType.handshake, version: DTLS_1_0, epoch: 0, sequence: record.sequence, fragment: encodeWhole(message) }), peer.port, peer.address)
      return
    }
    const hasSession = connection?.session !== undefined
    if (!connection?.handshake && !this.makeRoomForHandshake(peer)) return
    if (!hasSession && this.sessionCount >= (this.options.maxSessions ?? 10_000)) {
      this.limitReached(`${this.sessionCount} sessions, the limit: a new client is refused`)
      this.socket.send(encodeRecord({ type: ContentType.alert, version: DTLS_1_0, epoch: 0, sequence: record.sequence, fragment: encodeAlert(fatal(AlertDescription.internalError)) }), peer.port, peer.address)
      return
    }
    const current = connection ?? { peer, backlog: [] }
    this.connections.set(keyOf(peer), current)
    this.forgetHandshake(current)
    const handshake = new ServerHandshake(
      peer,
      this.config,
      {
        send: (datagram) => this.socket.send(datagram, peer.port, peer.address),
        established: (session) => this.established(current, handshake, session),
        failed: (reason) => this.handshakeFailed(current, handshake, reason),
      },
      hello,
      { type: fragment.type, messageSeq: fragment.messageSeq, body: fragment.body },
      record.sequence,
    )
    current.handshake = handshake
    this.handshaking.set(keyOf(peer), current)
    handshake.start()
  }

  /** Hands a record to the handshake; while it works asynchronously, later records of the peer wait. */
  private feed(connection: Connection, handshake: ServerHandshake, record: DtlsRecord): void {
    const busy = handshake.receive(record).then(() => {
      if (connection.busy !== busy) return
      connection.busy = undefined
      const backlog = connection.backlog.splice(0)
      for (const next of backlog) {
        if (connection.busy) connection.backlog.push(next)
        else if (this.connections.get(keyOf(connection.peer)) === connection) this.route(next, connection.peer, connection)
      }
    })
    connection.busy = busy
  }

  private established(connection: Connection, handshake: ServerHandshake, session: DtlsSession): void {
    if (connection.handshake !== handshake) return
    this.forgetHandshake(connection)
    if (!connection.session) this.sessionCount++
    connection.session = session
    this.completed++
    this.options.log?.('info', `DTLS session with ${describe(connection.peer)} established: PSK identity "${session.pskIdentity}", ${session.cipherSuite}`)
  }

  private handshakeFailed(connection: Connection, handshake: ServerHandshake, reason: string): void {
    if (connection.handshake !== handshake) return
    this.forgetHandshake(connection)
    this.failed++
    if (!connection.session) this.connections.delete(keyOf(connection.peer))
    this.options.log?.('warn', `DTLS handshake with ${describe(connection.peer)} failed: ${reason}`)
  }

  private forgetHandshake(connection: Connection): void {
    if (!connection.handshake) return
    connection.handshake.dispose()
    connection.handshake = undefined
    this.handshaking.delete(keyOf(connection.peer))
  }

  /** False when a new handshake with `peer` must be turned away: its address's share or the whole table is full. */
  private makeRoomForHandshake(peer: DtlsPeer): boolean {
    const perAddress = this.options.maxHandshakesPerAddress ?? 10
    let fromAddress = 0
    for (const connection of this.handshaking.values()) if (connection.peer.address === peer.address) fromAddress++
    if (fromAddress >= perAddress && !this.evictStalledHandshake((c) => c.peer.address === peer.address)) {
      this.limitReached(`${fromAddress} handshakes in progress from ${peer.address}, its limit: a new one is turned away`)
      return false
    }
    if (this.handshaking.size >= (this.options.maxHandshakes ?? 100) && !this.evictStalledHandshake(() => true)) {
      this.limitReached(`${this.handshaking.size} handshakes in progress, the limit: a new one is turned away`)
      return false
    }
    return true
  }

  /** Ends the oldest handshake (among `which`) whose client has not sent its key exchange yet; false when there is none. */
  private evictStalledHandshake(which: (connection: Connection) => boolean): boolean {
    for (const connection of this.handshaking.values()) {
      if (connection.handshake?.awaitingKeyExchange !== true || !which(connection)) continue
      this.limitReached(`handshake limit reached: the oldest stalled handshake, with ${describe(connection.peer)}, gives way`)
      this.failed++
      this.forgetHandshake(connection)
      if (!connection.session) this.connections.delete(keyOf(connection.peer))
      return true
    }
    return false
  }

  private receiveOnSession(connection: Connection, session: DtlsSession, type: number, plaintext: Buffer): void {
    session.lastActivity = this.now()
    if (type === ContentType.applicationData) {
      // Data from the client proves it has our Finished: no need to keep it for retransmission.
      session.finalFlight = undefined
      this.dataListener(plaintext, session)
      return
    }
    if (type === ContentType.alert) {
      const alert = parseAlert(plaintext)
      if (alert?.level === AlertLevel.warning && alert.description !== AlertDescription.closeNotify) return
      // TLS 1.2 §7.2.1: a close_notify is answered with one.
      if (alert?.description === AlertDescription.closeNotify) this.sendAlert(connection, AlertLevel.warning, AlertDescription.closeNotify)
      this.endSession(connection, `the client sent ${alert ? alertName(alert.description) : 'a malformed alert'}`)
      return
    }
    if (type === ContentType.handshake) {
      const first = firstFragment(plaintext)
      if (first?.type === HandshakeType.finished && session.finalFlight) return this.resendFinalFlight(session)
      // A ClientHello inside the session is a renegotiation, which we refuse (RFC 5746 §4.4 allows it).
      if (first?.type === HandshakeType.clientHello) this.sendAlert(connection, AlertLevel.warning, AlertDescription.noRenegotiation)
    }
  }

  private resendFinalFlight(session: DtlsSession): void {
    if (session.finalFlightResentFor === this.datagrams) return
    session.finalFlightResentFor = this.datagrams
    for (const datagram of encodeFlight(session.finalFlight ?? [], this.config.pmtu)) this.socket.send(datagram, session.peer.port, session.peer.address)
  }

  private sendAlert(connection: Connection, level: number, description: number): void {
    if (!connection.session) return
    this.socket.send(connection.session.seal(ContentType.alert, encodeAlert({ level, description })), connection.peer.port, connection.peer.address)
  }

  private endSession(connection: Connection, reason: string): void {
    if (!connection.session) return
    connection.session = undefined
    this.sessionCount--
    if (!connection.handshake) this.connections.delete(keyOf(connection.peer))
    this.options.log?.('info', `DTLS session with ${describe(connection.peer)} closed: ${reason}`)
  }

  private closeIdle(idleMs: number): void {
    const cutoff = this.now() - idleMs
    for (const connection of [...this.connections.values()]) {
      if (connection.session && connection.session.lastActivity < cutoff) {
        this.sendAlert(connection, AlertLevel.warning, AlertDescription.closeNotify)
        this.endSession(connection, `idle for more than ${Math.round(idleMs / 1000)} s`)
      }
    }
  }

  /** Warns at most once a second: under a flood the log must not become the bottleneck. */
  private limitReached(what: string): void {
    if (this.now() - this.lastLimitWarning < 1000) return
    this.lastLimitWarning = this.now()
    this.options.log?.('warn', `DTLS: ${what}`)
  }
}

function firstFragment(content: Buffer): HandshakeFragment | undefined {
  try {
    return parseHandshakeFragments(content)[0]
  } catch {
    return undefined
  }
}

const keyOf = (peer: DtlsPeer): string => `${peer.address}|${peer.port}`
const describe = (peer: DtlsPeer): string => (peer.address.includes(':') ? `[${peer.address}]:${peer.port}` : `${peer.address}:${peer.port}`)
