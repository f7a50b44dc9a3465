import { createSocket, type Socket } from 'node:dgram'
import type { dtls as DtlsApi } from 'node-dtls-client'
import { TransportError, type CoapPeer, type CoapRequest, type CoapResponse, type CoapTransport, type ObserveHandle, type RequestHandler } from './transport.ts'
import { UdpTransport } from './udp-transport.ts'

/**
 * node-dtls-client is loaded on first use. Under Electron it requires the native node-aead-crypto (BoringSSL has no
 * CCM mode), which may not be built: that must fail a coaps:// connection with its reason, never the app's start.
 */
let dtlsClient: Promise<typeof DtlsApi> | undefined
function loadDtlsClient(): Promise<typeof DtlsApi> {
  dtlsClient ??= import('node-dtls-client').then((m) => m.dtls)
  return dtlsClient
}

/** A DTLS pre-shared key: the identity the client presents and the key both sides hold. */
export interface PskCredentials {
  readonly identity: string
  readonly key: Uint8Array
}

export interface DtlsClientTransportOptions {
  /** The DTLS server (an LwM2M server's coaps endpoint). */
  readonly server: CoapPeer
  readonly psk: PskCredentials
  /** How long a handshake may take before it fails (default 10 s). */
  readonly handshakeTimeoutMs?: number
  readonly defaultTimeoutMs?: number
}

/**
 * The suites offered, strongest and LwM2M's mandatory one (CCM_8) first. node-dtls-client would offer every suite
 * it knows, RC4 and 3DES among them.
 */
const CIPHERS = ['TLS_PSK_WITH_AES_128_CCM_8', 'TLS_PSK_WITH_AES_128_GCM_SHA256', 'TLS_PSK_WITH_AES_128_CCM', 'TLS_PSK_WITH_AES_128_CBC_SHA256'] as const

/** Datagrams waiting for a (re)connecting session; beyond this they are dropped and CoAP retransmits. */
const MAX_QUEUED = 64

const LOOPBACK = '127.0.0.1'

/** Why a handshake failed, with the hint an operator needs. */
function describeFailure(server: CoapPeer, e: Error, serverAnswered: boolean): string {
  const where = `DTLS handshake with ${server.address}:${server.port} failed: ${e.message}`
  if (/decrypt_error|bad_record_mac|unknown_psk_identity|handshake_failure|illegal_parameter|decode_error/.test(e.message)) return `${where} (the server refused the PSK identity or key)`
  if (!/timed out/.test(e.message)) return where
  // A server that cannot verify our Finished drops it silently (RFC 6347 §4.1.2.7): the handshake just stalls.
  if (serverAnswered) return `${where}: the server answered but did not complete the handshake, so it refused the PSK identity or key`
  return `${where}: no DTLS server answered at this address and port`
}

/**
 * CoAP over DTLS 1.2 with a pre-shared key, as the client of one server, on node-dtls-client. The CoAP side is
 * the same UdpTransport as plain CoAP (retransmission, observe, block-wise), bound to loopback, and a relay on
 * loopback carries its datagrams through the DTLS session: what the transport sends to the relay goes out
 * encrypted, what the session receives is handed to the transport as if the relay had sent it. Only datagrams
 * between the transport's and the relay's own loopback ports cross the relay, so nothing else on the machine can
 * speak into the session; requests that reach the transport from anywhere else are refused.
 *
 * The session is opened by the first request and again, after it dropped (the server restarted, a fatal alert),
 * by the next datagram; a failed handshake fails that request with a TransportError naming the cause.
 */
export class DtlsClientTransport implements CoapTransport {
  readonly scheme = 'coaps' as const
  private readonly options: DtlsClientTransportOptions
  private readonly inner: UdpTransport
  private relay: Socket | undefined
  private innerPort = 0
  private relayPort = 0
  private session: DtlsApi.Socket | undefined
  private connecting: Promise<void> | undefined
  private queued: Buffer[] = []
  private closed = false

  constructor(options: DtlsClientTransportOptions) {
    if (!/^[\x20-\x7e]+$/.test(options.psk.identity)) throw new Error(`the PSK identity "${options.psk.identity}" must be printable ASCII (DTLS sends it as such)`)
    if (options.psk.key.length === 0) throw new Error('the PSK key is empty')
    this.options = options
    this.inner = new UdpTransport({ host4: LOOPBACK, port: 0, ...(options.defaultTimeoutMs !== undefined ? { defaultTimeoutMs: options.defaultTimeoutMs } : {}) })
  }

  private get relayPeer(): CoapPeer {
    return { address: LOOPBACK, port: this.relayPort }
  }

  /** Opens the loopback side; the DTLS session follows with the first request. Reports no port: the session's socket has its own. */
  async listen(): Promise<{ port4?: number; port6?: number }> {
    this.innerPort = (await this.inner.listen()).port4 as number
    const relay = createSocket('udp4')
    await new Promise<void>((resolve, reject) => {
      relay.once('error', reject)
      relay.bind(0, LOOPBACK, () => {
        relay.off('error', reject)
        resolve()
      })
    })
    relay.on('error', () => undefined)
    relay.on('message', (msg, rinfo) => {
      if (rinfo.address === LOOPBACK && rinfo.port === this.innerPort) this.toServer(msg)
    })
    this.relay = relay
    this.relayPort = relay.address().port
    return {}
  }

  onRequest(handler: RequestHandler): void {
    const server = this.options.server
    this.inner.onRequest((request, responder) => {
      if (request.peer.address !== LOOPBACK || request.peer.port !== this.relayPort) return responder.respond('4.03', 'this client takes requests over its DTLS session only')
      handler({ ...request, peer: server, secure: true }, responder)
    })
  }

  async request(peer: CoapPeer, request: CoapRequest): Promise<CoapResponse> {
    this.checkPeer(peer)
    await this.connect()
    return this.inner.request(this.relayPeer, request).catch((e: unknown) => this.rethrow(e))
  }

  async observe(peer: CoapPeer, request: CoapRequest, onNotification: (notification: CoapResponse) => void): Promise<ObserveHandle> {
    this.checkPeer(peer)
    await this.connect()
    return this.inner.observe(this.relayPeer, request, onNotification).catch((e: unknown) => this.rethrow(e))
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.queued = []
    const session = this.session
    this.session = undefined
    if (session) await new Promise<void>((resolve) => {
      // close() sends close_notify first; a session that died meanwhile never calls back.
      const timer = setTimeout(resolve, 500)
      try {
        session.close(() => {
          clearTimeout(timer)
          resolve()
        })
      } catch {
        clearTimeout(timer)
        resolve()
      }
    })
    await this.inner.close()
    await new Promise<void>((resolve) => (this.relay ? this.relay.close(() => resolve()) : resolve()))
    this.relay = undefined
  }

  private checkPeer(peer: CoapPeer): void {
    const server = this.options.server
    if (peer.address !== server.address || peer.port !== server.port) throw new TransportError('invalid', `this DTLS transport talks to ${server.address}:${server.port} only, not ${peer.address}:${peer.port}`)
    if (this.closed || !this.relay) throw new TransportError('closed', 'the DTLS transport is not open')
  }

  /**
   * The inner transport names the relay as the peer: the errors name the server instead. A request that timed out
   * drops the session too: a restarted server has forgotten it and would stay silent, so the next request shakes
   * hands anew.
   */
  private rethrow(e: unknown): never {
    if (!(e instanceof TransportError)) throw e
    if (e.kind === 'timeout') this.dropSession()
    const server = this.options.server
    throw new TransportError(e.kind, e.message.replaceAll(`${LOOPBACK}:${this.relayPort}`, `${server.address}:${server.port} (DTLS)`))
  }

  /** A datagram of the CoAP side: through the session, opening one first when there is none. */
  private toServer(msg: Buffer): void {
    if (this.session) {
      this.sendOver(this.session, msg)
      return
    }
    if (this.queued.length < MAX_QUEUED) this.queued.push(msg)
    void this.connect().catch(() => undefined)
  }

  private dropSession(): void {
    const session = this.session
    if (!session) return
    this.session = undefined
    try {
      session.close()
    } catch {
      // Already closed.
    }
  }

  private sendOver(session: DtlsApi.Socket, msg: Buffer): void {
    try {
      session.send(msg)
    } catch {
      // The session closed under us: the next datagram opens a new one; CoAP retransmits this one.
      if (this.session === session) this.session = undefined
    }
  }

  private connect(): Promise<void> {
    if (this.session) return Promise.resolve()
    if (this.closed) return Promise.reject(new TransportError('closed', 'the DTLS transport is closed'))
    this.connecting ??= this.handshake().finally(() => {
      this.connecting = undefined
    })
    return this.connecting
  }

  private async handshake(): Promise<void> {
    const { server, psk } = this.options
    let dtls: typeof DtlsApi
    try {
      dtls = await loadDtlsClient()
    } catch (e) {
      throw new TransportError('unreachable', `the DTLS client cannot load here: ${(e as Error).message}`)
    }
    return new Promise<void>((resolve, reject) => {
      let connected = false
      const socket = dtls.createSocket({
        type: server.address.includes(':') ? 'udp6' : 'udp4',
        address: server.address,
        port: server.port,
        psk: { [psk.identity]: Buffer.from(psk.key) },
        timeout: this.options.handshakeTimeoutMs ?? 10_000,
        ciphers: [...CIPHERS],
      })
      // node-dtls-client reports only a timeout when the server stalls: whether it answered at all tells the causes apart.
      let serverAnswered = false
      ;(socket as unknown as { udp?: Socket }).udp?.once('message', () => (serverAnswered = true))
      socket.on('connected', () => {
        connected = true
        if (this.closed) {
          socket.close()
          reject(new TransportError('closed', 'the DTLS transport closed during the handshake'))
          return
        }
        this.session = socket
        for (const msg of this.queued.splice(0)) this.sendOver(socket, msg)
        resolve()
      })
      socket.on('message', (msg: Buffer) => {
        if (this.session === socket && this.relay) this.relay.send(msg, this.innerPort, LOOPBACK)
      })
      socket.on('error', (e: Error) => {
        if (this.session === socket) this.session = undefined
        if (!connected) {
          this.queued = []
          reject(new TransportError('unreachable', describeFailure(server, e, serverAnswered)))
        }
      })
      socket.on('close', () => {
        if (this.session === socket) this.session = undefined
        if (!connected) reject(new TransportError('unreachable', `DTLS handshake with ${server.address}:${server.port} failed: the session closed`))
      })
    })
  }
}
