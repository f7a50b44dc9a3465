import { Socket } from 'node:dgram'
import { EventEmitter } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { DtlsServer } from './server.ts'

type SendCallback = (error: Error | null, bytes: number) => void

/**
 * A dgram.Socket look-alike that node-coap's Server and Agent can share, as they share a UDP socket in
 * UdpTransport: `send` goes out over the peer's DTLS session, and 'message' carries decrypted
 * application data. Only what node-coap calls is implemented.
 */
export class DtlsSocket extends EventEmitter {
  private readonly udp: Socket
  private readonly server: DtlsServer

  constructor(udp: Socket, server: DtlsServer) {
    super()
    this.udp = udp
    this.server = server
    server.onData((payload, session) => {
      const family = session.peer.address.includes(':') ? 'IPv6' : 'IPv4'
      this.emit('message', payload, { address: session.peer.address, port: session.peer.port, family, size: payload.length })
    })
  }

  /** send(msg, port, address, cb) or send(msg, offset, length, port, address, cb), as dgram has it. */
  send(msg: Buffer, ...args: unknown[]): void {
    const [offset, length, port, address, callback] = (typeof args[1] === 'string' ? [0, msg.length, ...args] : args) as [number, number, number, string, SendCallback?]
    const sent = this.server.send({ address, port }, msg.subarray(offset, offset + length))
    if (!callback) return
    const error = sent ? null : new Error(`no DTLS session with ${address}:${port}`)
    queueMicrotask(() => callback(error, sent ? length : 0))
  }

  address(): AddressInfo {
    return this.udp.address()
  }

  bind(): this {
    return this
  }

  /** Says close_notify to every session, then closes the UDP socket. */
  close(callback?: () => void): this {
    void this.server.close().then(() => this.udp.close(callback))
    return this
  }
}

// node-coap answers a duplicate request from its cache only on a real dgram.Socket (an instanceof test).
Object.setPrototypeOf(DtlsSocket.prototype, Socket.prototype)
