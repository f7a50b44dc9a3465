/**
 * The CoAP transport the LwM2M server and client stand on: UDP (udp-transport.ts) and DTLS 1.2 with PSK
 * (dtls-transport.ts, dtls/) behind the same interface; the engines never touch sockets.
 */

export interface CoapPeer {
  readonly address: string
  readonly port: number
}

export type CoapMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'FETCH' | 'iPATCH'

export interface CoapRequest {
  readonly method: CoapMethod
  /** Uri-Path, e.g. "/3/0/1" or "/rd/5a3f"; "/" for none. */
  readonly path: string
  /** Uri-Query options, one per entry, e.g. ["ep=node1", "lt=300"]. */
  readonly query?: readonly string[]
  readonly contentFormat?: number
  readonly accept?: number
  readonly payload?: Uint8Array
  /** Observe option: 0 registers, 1 deregisters. */
  readonly observe?: 0 | 1
  /** Default true: LwM2M management requests are confirmable. */
  readonly confirmable?: boolean
  /** Give up after this long (default 10 s); the peer may still be retransmitting. */
  readonly timeoutMs?: number
}

export interface CoapResponse {
  /** "2.05", "4.04", … */
  readonly code: string
  readonly contentFormat?: number
  readonly payload: Uint8Array
  /** Observe sequence number of a notification. */
  readonly observe?: number
  readonly locationPath?: readonly string[]
}

export interface IncomingRequest {
  readonly method: CoapMethod
  readonly pathSegments: readonly string[]
  readonly query: readonly string[]
  readonly contentFormat?: number
  readonly accept?: number
  readonly payload: Uint8Array
  readonly peer: CoapPeer
  /** The DTLS PSK identity the peer authenticated with; undefined on plain UDP. */
  readonly identity?: string
  /** True when the request came over a DTLS session (coaps). */
  readonly secure?: boolean
  /** The PSK identity the DTLS peer authenticated with (coaps only). */
  readonly pskIdentity?: string
  /** Observe option (RFC 7641): 0 asks to observe, 1 cancels an observation. */
  readonly observe?: number
  /** The request token in hex: an observation is known by its token. */
  readonly token?: string
}

export interface ResponseOptions {
  readonly contentFormat?: number
  readonly locationPath?: readonly string[]
}

export interface Responder {
  /** Answers once; on an observe request this answer carries no Observe option, so nothing is observed. */
  respond(code: string, payload?: Uint8Array | string, options?: ResponseOptions): void
  /**
   * Only on a GET or FETCH with Observe 0: answers 2.05 with an Observe option and keeps the token
   * open for notifications.
   */
  readonly observe?: (payload: Uint8Array, options?: ResponseOptions) => NotificationChannel
}

export interface NotifyOptions {
  readonly contentFormat?: number
  /** Default true (CON); false sends a NON notification. */
  readonly confirmable?: boolean
}

/** Why an observation ended on the observed side. */
export type ChannelCloseReason = 'reset' | 'closed' | 'failed'

/** The notifying end of one observation (RFC 7641), held by the observed endpoint. */
export interface NotificationChannel {
  /** Sends a 2.05 notification; false once the channel is closed. */
  notify(payload: Uint8Array, options?: NotifyOptions): boolean
  /** Ends the observation; with a code (e.g. "4.04") the observer is told why in a last message without Observe. */
  close(code?: string, payload?: Uint8Array | string): void
  /** Called once: the observer answered a notification with RST ("reset"), sending failed, or close() was called. */
  onClose(listener: (reason: ChannelCloseReason) => void): void
  readonly closed: boolean
}

export type RequestHandler = (request: IncomingRequest, responder: Responder) => void

/** A live observation; notifications go to the listener given to `observe`. */
export interface ObserveHandle {
  readonly response: CoapResponse
  /** Active cancel: a GET with Observe 1. */
  cancel(): Promise<CoapResponse | undefined>
  /** Passive cancel: forget the token; the next notification is answered with RST. */
  forget(): void
}

/** Why a request got no answer from the peer. Device answers (4.04, …) are responses, not failures. */
export class TransportError extends Error {
  override readonly name = 'TransportError'
  readonly kind: 'timeout' | 'unreachable' | 'closed' | 'invalid'
  constructor(kind: TransportError['kind'], message: string) {
    super(message)
    this.kind = kind
  }
}

export interface CoapTransport {
  readonly scheme: 'coap' | 'coaps'
  /** Binds; resolves to the bound ports per address family. */
  listen(): Promise<{ port4?: number; port6?: number }>
  onRequest(handler: RequestHandler): void
  request(peer: CoapPeer, request: CoapRequest): Promise<CoapResponse>
  observe(peer: CoapPeer, request: CoapRequest, onNotification: (notification: CoapResponse) => void): Promise<ObserveHandle>
  close(): Promise<void>
}
