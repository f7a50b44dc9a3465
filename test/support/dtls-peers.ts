/**
 * Peers and plumbing for the DTLS tests: libcoap's coap-client (OpenSSL and GnuTLS builds, independent DTLS
 * implementations) with PSK, and a UDP relay that drops or mangles datagrams between a client and the server.
 */
import { execFile } from 'node:child_process'
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'

export type LibcoapTls = 'openssl' | 'gnutls'

export interface LibcoapResult {
  /** The response code, e.g. "2.01"; undefined when no answer came (a failed handshake). */
  readonly code?: string
  readonly locationPath: string[]
  readonly output: string
}

export interface LibcoapOptions {
  readonly identity: string
  readonly key: string
  /** Seconds coap-client waits for an answer (-B). */
  readonly waitS?: number
  /** Local port to send from (-p). */
  readonly localPort?: number
}

/** One `coap-client-<tls>` exchange over coaps with `-u identity -k key`; `-v 6` prints the response header. */
export function coapsClient(tls: LibcoapTls, args: readonly string[], options: LibcoapOptions): Promise<LibcoapResult> {
  const flags = ['-v', '6', '-B', String(options.waitS ?? 5), '-u', options.identity, '-k', options.key, ...(options.localPort ? ['-p', String(options.localPort)] : [])]
  return new Promise((resolve) => {
    execFile(`coap-client-${tls}`, [...flags, ...args], { timeout: 30_000, killSignal: 'SIGKILL' }, (_error, stdout, stderr) => {
      const output = stdout + stderr
      const header = /^v:1 t:(?:ACK|CON|NON) c:(\d\.\d\d) .*$/m.exec(output)
      const locationPath = [...(header?.[0].matchAll(/Location-Path:([^,\s\]]+)/g) ?? [])].map((m) => m[1] as string)
      resolve({ ...(header ? { code: header[1] } : {}), locationPath, output })
    })
  })
}

/** A hand-written LwM2M Register, as coap-client arguments (`-t 40`: link format). */
export const registerArgs = (port: number, endpoint: string, lifetime = 60): string[] => [
  '-m',
  'post',
  '-t',
  '40',
  '-e',
  '</1/0>,</3/0>',
  `coaps://127.0.0.1:${port}/rd?ep=${endpoint}&lt=${lifetime}`,
]

export type Direction = 'toServer' | 'toClient'

/** What the relay does with one datagram: pass it (return it), change it, or drop it (undefined). */
export type RelayRule = (datagram: Buffer, direction: Direction, index: number) => Buffer | undefined

/**
 * A UDP relay on 127.0.0.1: each client gets its own socket towards the server (so the server sees one peer
 * per client), and every datagram goes through `rule` with its per-client, per-direction index.
 */
export class UdpRelay {
  private readonly front: Socket
  /** One socket towards the server per client (a promise: datagrams that come while it binds wait in order). */
  private readonly backs = new Map<string, Promise<Socket>>()
  private readonly target: { address: string; port: number }
  private readonly rule: RelayRule
  private readonly counts = new Map<string, number>()

  private constructor(front: Socket, target: { address: string; port: number }, rule: RelayRule) {
    this.front = front
    this.target = target
    this.rule = rule
    front.on('message', (msg, rinfo) => void this.fromClient(msg, rinfo))
  }

  static async start(target: { address: string; port: number }, rule: RelayRule): Promise<UdpRelay> {
    const front = await bound()
    return new UdpRelay(front, target, rule)
  }

  get port(): number {
    return this.front.address().port
  }

  private next(key: string): number {
    const n = this.counts.get(key) ?? 0
    this.counts.set(key, n + 1)
    return n
  }

  private async fromClient(msg: Buffer, client: RemoteInfo): Promise<void> {
    const key = `${client.address}:${client.port}`
    let opening = this.backs.get(key)
    if (!opening) {
      opening = bound().then((socket) => {
        socket.on('message', (reply) => {
          const out = this.rule(reply, 'toClient', this.next(`${key} toClient`))
          if (out) this.front.send(out, client.port, client.address)
        })
        return socket
      })
      this.backs.set(key, opening)
    }
    const back = await opening
    const out = this.rule(msg, 'toServer', this.next(`${key} toServer`))
    if (out) back.send(out, this.target.port, this.target.address)
  }

  async close(): Promise<void> {
    const sockets = [this.front, ...(await Promise.all(this.backs.values()))]
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
  }
}

async function bound(): Promise<Socket> {
  const socket = createSocket('udp4')
  socket.on('error', () => undefined)
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()))
  return socket
}
