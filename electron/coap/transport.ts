/**
 * The CoAP transport the LwM2M server and client stand on. UDP today, DTLS-PSK behind the same
 * interface later: the engines never touch sockets.
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
}

export interface ResponseOptions {
  readonly contentFormat?: number
  readonly locationPath?: readonly string[]
}

export interface Responder {
  respond(code: string, payload?: Uint8Array | string, options?: ResponseOptions): void
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
