import type { ObserveWriteStream } from 'coap'
import type { ChannelCloseReason, CoapPeer, NotificationChannel, NotifyOptions, ResponseOptions } from './transport.ts'

/** node-coap's observe stream, with the internals a notification needs (coap 1.x). */
interface StreamInternals {
  _packet: { confirmable?: boolean; ack?: boolean; options?: { name: string | number }[] }
  _send: (stream: unknown, packet: { messageId?: number }) => void
  _doSend(data?: Buffer): void
  _counter: number
  statusCode: string
}

/** Message ids of notifications in flight, so an RST (which carries only the message id) finds its observation. */
export class NotificationIds {
  private readonly byKey = new Map<string, ObserveChannel>()

  add(peer: CoapPeer, messageId: number, channel: ObserveChannel): string {
    const key = `${peer.address}:${peer.port}/${messageId}`
    this.byKey.set(key, channel)
    return key
  }

  remove(key: string): void {
    this.byKey.delete(key)
  }

  /** An RST from `peer` with this message id: ends the observation it answers, if any. */
  reset(peer: CoapPeer, messageId: number): void {
    this.byKey.get(`${peer.address}:${peer.port}/${messageId}`)?.end('reset')
  }
}

// An RST answers one of the last few notifications; older message ids are forgotten.
const REMEMBERED_IDS = 16

/**
 * One observation over node-coap's ObserveWriteStream. node-coap makes every notification of a CON
 * request confirmable and cannot end an observation with an error code; both are set on its packet here.
 * node-coap notices an RST only to a CON notification; RSTs to NON ones come through `NotificationIds`.
 */
export class ObserveChannel implements NotificationChannel {
  private readonly stream: ObserveWriteStream & StreamInternals
  private readonly peer: CoapPeer
  private readonly ids: NotificationIds
  private readonly recentKeys: string[] = []
  private readonly listeners: ((reason: ChannelCloseReason) => void)[] = []
  private ended = false

  constructor(stream: ObserveWriteStream, peer: CoapPeer, ids: NotificationIds) {
    this.stream = stream as ObserveWriteStream & StreamInternals
    this.peer = peer
    this.ids = ids
    const send = this.stream._send
    this.stream._send = (s, packet) => {
      send(s, packet)
      // coap-packet has just given the packet its message id.
      if (packet.messageId !== undefined) this.remember(packet.messageId)
    }
    // node-coap ends the stream when a CON notification is reset (NotificationIds saw the RST first) or never acknowledged.
    this.stream.on('finish', () => this.end('failed'))
    this.stream.on('error', () => this.end('failed'))
  }

  get closed(): boolean {
    return this.ended
  }

  /** The first answer: 2.05 with Observe, piggybacked on the ACK of the request. */
  open(payload: Uint8Array, options: ResponseOptions = {}): this {
    this.stream.statusCode = '2.05'
    if (options.contentFormat !== undefined) this.stream.setOption('Content-Format', options.contentFormat)
    this.stream.write(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength))
    return this
  }

  notify(payload: Uint8Array, options: NotifyOptions = {}): boolean {
    if (this.ended) return false
    const packet = this.stream._packet
    packet.confirmable = options.confirmable !== false
    packet.ack = false
    if (options.contentFormat !== undefined) this.stream.setOption('Content-Format', options.contentFormat)
    try {
      this.stream.write(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength))
    } catch {
      this.end('failed')
      return false
    }
    return !this.ended
  }

  close(code?: string, payload?: Uint8Array | string): void {
    if (this.ended) return
    if (code !== undefined) {
      const packet = this.stream._packet
      packet.options = (packet.options ?? []).filter((o) => o.name !== 'Observe')
      packet.ack = false
      this.stream.statusCode = code
      this.stream._doSend(payload === undefined ? undefined : Buffer.from(payload))
    }
    this.end('closed')
  }

  onClose(listener: (reason: ChannelCloseReason) => void): void {
    if (this.ended) return
    this.listeners.push(listener)
  }

  end(reason: ChannelCloseReason): void {
    if (this.ended) return
    this.ended = true
    for (const key of this.recentKeys.splice(0)) this.ids.remove(key)
    for (const listener of this.listeners.splice(0)) {
      try {
        listener(reason)
      } catch {
        // A faulty listener must not break the transport.
      }
    }
  }

  private remember(messageId: number): void {
    this.recentKeys.push(this.ids.add(this.peer, messageId, this))
    if (this.recentKeys.length > REMEMBERED_IDS) this.ids.remove(this.recentKeys.shift() as string)
  }
}

/** Answers an observe request without starting an observation: no Observe option (RFC 7641 §4.1). */
export function respondWithoutObserve(stream: ObserveWriteStream, code: string, payload: Buffer | undefined, options: ResponseOptions): void {
  const s = stream as ObserveWriteStream & StreamInternals
  s.statusCode = code
  if (options.contentFormat !== undefined) s.setOption('Content-Format', options.contentFormat)
  if (options.locationPath) s.setOption('Location-Path', options.locationPath.map((p) => Buffer.from(p)))
  s._doSend(payload)
  // Nothing more goes out on this token: node-coap would otherwise send an empty answer when the stream ends.
  s._counter = 1
}
