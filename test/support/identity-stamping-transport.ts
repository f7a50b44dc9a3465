import { UdpTransport } from '../../electron/coap/udp-transport.ts'
import type { CoapPeer, CoapRequest, CoapResponse, CoapTransport, ObserveHandle, RequestHandler } from '../../electron/coap/transport.ts'

/**
 * Real CoAP over loopback UDP whose incoming requests carry `secure: true` and a PSK identity, as the DTLS
 * transport's do once a handshake has authenticated the peer: the identity is the one the test assigned to the
 * sender's port. For the server's identity rules without a DTLS handshake in the way.
 */
export class IdentityStampingTransport implements CoapTransport {
  readonly scheme = 'coaps' as const
  /** Sender port → the PSK identity its "session" authenticated with. */
  readonly identities = new Map<number, string>()
  private readonly inner = new UdpTransport({ host4: '127.0.0.1', port: 0 })

  listen(): Promise<{ port4?: number; port6?: number }> {
    return this.inner.listen()
  }

  onRequest(handler: RequestHandler): void {
    this.inner.onRequest((request, responder) => {
      const identity = this.identities.get(request.peer.port)
      handler({ ...request, secure: true, ...(identity !== undefined ? { pskIdentity: identity } : {}) }, responder)
    })
  }

  request(peer: CoapPeer, request: CoapRequest): Promise<CoapResponse> {
    return this.inner.request(peer, request)
  }

  observe(peer: CoapPeer, request: CoapRequest, onNotification: (notification: CoapResponse) => void): Promise<ObserveHandle> {
    return this.inner.observe(peer, request, onNotification)
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}
