import type { RemoteInfo } from 'node:dgram'
import { dtls } from 'node-dtls-client'
import type { FleetSocket, Peer } from './fleet.ts'

export interface DtlsClientOptions {
  readonly identity: string
  readonly key: Buffer
  /** The one suite offered (default: all node-dtls-client has). */
  readonly cipher?: 'TLS_PSK_WITH_AES_128_CCM_8' | 'TLS_PSK_WITH_AES_128_CBC_SHA256'
  readonly timeoutMs?: number
}

/**
 * A DTLS-PSK client session with `server` over node-dtls-client (an implementation independent of ours),
 * shaped as a fleet socket; resolves once the handshake is done and rejects with the client's error.
 */
export function connectDtls(server: Peer, options: DtlsClientOptions): Promise<FleetSocket> {
  return new Promise((resolve, reject) => {
    const socket = dtls.createSocket({
      type: server.address.includes(':') ? 'udp6' : 'udp4',
      address: server.address,
      port: server.port,
      psk: { [options.identity]: options.key },
      timeout: options.timeoutMs ?? 5000,
      ...(options.cipher ? { ciphers: [options.cipher] } : {}),
    } as dtls.Options)
    let connected = false
    socket.on('error', (e: Error) => {
      if (!connected) reject(new Error(`DTLS handshake with ${server.address}:${server.port} as "${options.identity}" failed: ${e.message}`))
    })
    socket.once('connected', () => {
      connected = true
      resolve({
        send: (msg) => socket.send(msg),
        on: (event: 'message' | 'error', listener: (...args: never[]) => void) => socket.on(event, listener as (msg: Buffer, rinfo: RemoteInfo) => void),
        close: (callback?: () => void) => {
          socket.close(() => callback?.())
        },
      } as FleetSocket)
    })
  })
}
