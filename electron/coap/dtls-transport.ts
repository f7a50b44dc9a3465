import type { Socket } from 'node:dgram'
import { DtlsSocket } from './dtls/dtls-socket.ts'
import { DtlsServer, type DtlsServerOptions, type DtlsServerStats, type SessionInfo } from './dtls/server.ts'
import type { CoapPeer, IncomingRequest } from './transport.ts'
import { UdpTransport, type UdpTransportOptions } from './udp-transport.ts'

export type DtlsTransportOptions = UdpTransportOptions & DtlsServerOptions

/**
 * CoAP over DTLS 1.2 with PSK (coaps, port 5684): the same CoAP machinery as UdpTransport, on a DTLS server
 * per address family. Requests carry `secure: true` and the session's PSK identity; requests to a client go
 * over its session, so the client must have one (it made one to register).
 */
export class DtlsTransport extends UdpTransport {
  override readonly scheme = 'coaps' as const
  private readonly servers: DtlsServer[] = []
  private readonly dtlsOptions: DtlsServerOptions

  constructor(options: DtlsTransportOptions) {
    super(options)
    this.dtlsOptions = options
  }

  protected override async openSocket(type: 'udp4' | 'udp6', host: string, port: number): Promise<Socket> {
    const udp = await super.openSocket(type, host, port)
    const server = new DtlsServer(udp, this.dtlsOptions)
    this.servers.push(server)
    return new DtlsSocket(udp, server) as unknown as Socket
  }

  protected override securityOf(peer: CoapPeer): Pick<IncomingRequest, 'secure' | 'pskIdentity' | 'identity'> {
    const session = this.session(peer)
    return session ? { secure: true, pskIdentity: session.pskIdentity, identity: session.pskIdentity } : {}
  }

  /** The established session with a peer, if any. */
  session(peer: CoapPeer): SessionInfo | undefined {
    for (const server of this.servers) {
      const session = server.session(peer)
      if (session) return session
    }
    return undefined
  }

  /** Closes the sessions (and ends the handshakes) of a revoked PSK identity on every address family; see DtlsServer.closeSessions. */
  closeSessions(pskIdentity: string, reason: string): number {
    return this.servers.reduce((n, server) => n + server.closeSessions(pskIdentity, reason), 0)
  }

  /** Sessions and handshakes of all address families together. */
  stats(): DtlsServerStats {
    const sum = (key: keyof DtlsServerStats): number => this.servers.reduce((n, s) => n + s.stats()[key], 0)
    return { sessions: sum('sessions'), handshakes: sum('handshakes'), handshakesCompleted: sum('handshakesCompleted'), handshakesFailed: sum('handshakesFailed'), helloVerifyRequests: sum('helloVerifyRequests') }
  }
}
