import { randomFillSync } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import { Agent, createServer, ObserveWriteStream, type IncomingMessage, type OutgoingMessage, type Server } from 'coap'
import { stringOptions, uintOption, type RawOption } from './coap-options.ts'
import { NotificationIds, ObserveChannel, respondWithoutObserve } from './observe-channel.ts'
import {
  TransportError,
  type CoapMethod,
  type CoapPeer,
  type CoapRequest,
  type CoapResponse,
  type CoapTransport,
  type IncomingRequest,
  type ObserveHandle,
  type RequestHandler,
  type Responder,
  type ResponseOptions,
} from './transport.ts'

export interface UdpTransportOptions {
  /** Address to bind the IPv4 socket to; default 127.0.0.1. Empty to skip IPv4. */
  readonly host4?: string
  /** Address to bind the IPv6 socket to; default none (skip IPv6). "::1" or "::" to enable. */
  readonly host6?: string
  /** When true, a host without IPv6 still listens on IPv4 alone instead of failing. */
  readonly host6Optional?: boolean
  /** Port for both families; 0 means any free port (each family then gets its own). */
  readonly port?: number
  readonly defaultTimeoutMs?: number
}

interface Family {
  readonly socket: Socket
  readonly server: Server
  readonly agent: Agent
  port: number
}

const METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'PUT', 'DELETE', 'FETCH', 'iPATCH'])
const BLOCK_SIZE = 1024

/**
 * CoAP over UDP on the `coap` package: per address family one socket, shared by a coap Server
 * (incoming requests) and a coap Agent (outgoing requests), so requests to a client leave from
 * the port it registered to — what NAT bindings and DTLS sessions need.
 */
export class UdpTransport implements CoapTransport {
  readonly scheme: 'coap' | 'coaps' = 'coap'
  private readonly families = new Map<'udp4' | 'udp6', Family>()
  private handler: RequestHandler = (_req, res) => res.respond('5.03', 'server not ready')
  private closed = false
  private readonly notificationIds = new NotificationIds()
  /** Tokens (hex) of observations being cancelled actively, until the cancel is answered. */
  private readonly cancelling = new Set<string>()

  private readonly options: UdpTransportOptions

  constructor(options: UdpTransportOptions = {}) {
    this.options = options
  }

  onRequest(handler: RequestHandler): void {
    this.handler = handler
  }

  async listen(): Promise<{ port4?: number; port6?: number }> {
    const host4 = this.options.host4 ?? '127.0.0.1'
    const port = this.options.port ?? 0
    if (host4 !== '') this.families.set('udp4', await this.bind('udp4', host4, port))
    const host6 = this.options.host6
    if (host6) {
      // Same port number for both families when we can, so one "coap=<port>" serves both.
      const port4 = this.families.get('udp4')?.port
      const tries = port === 0 && port4 !== undefined ? [port4, 0] : [port]
      let lastError: unknown
      for (const p of tries) {
        try {
          this.families.set('udp6', await this.bind('udp6', host6, p))
          break
        } catch (e) {
          lastError = e
        }
      }
      if (!this.families.has('udp6') && !(this.options.host6Optional && this.families.has('udp4'))) throw lastError
    }
    return { port4: this.families.get('udp4')?.port, port6: this.families.get('udp6')?.port }
  }

  /** Binds the datagram socket of one address family; DtlsTransport puts a DTLS server between it and CoAP. */
  protected async openSocket(type: 'udp4' | 'udp6', host: string, port: number): Promise<Socket> {
    const socket = createSocket({ type, ipv6Only: type === 'udp6' })
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(port, host, () => {
        socket.off('error', reject)
        resolve()
      })
    })
    // A datagram error (ICMP unreachable surfaces as ECONNREFUSED on some OSes) must not kill the process.
    socket.on('error', () => undefined)
    // node-coap's Agent asks for the bound address on every datagram (a getsockname call); it never changes.
    const bound = socket.address()
    socket.address = () => bound
    return socket
  }

  /** What a request tells about its sender's security: nothing on plain UDP; DtlsTransport adds the session. */
  protected securityOf(_peer: CoapPeer): Pick<IncomingRequest, 'secure' | 'pskIdentity' | 'identity'> {
    return {}
  }

  private async bind(type: 'udp4' | 'udp6', host: string, port: number): Promise<Family> {
    const socket = await this.openSocket(type, host, port)
    const server = createServer({ type, piggybackReplyMs: 50 })
    server.on('request', (req: IncomingMessage, res: OutgoingMessage) => this.dispatch(req, res))
    server.on('error', () => undefined)
    server.listen(socket)
    keepOnlyBytesOfSentResponses(server)
    answerErrorsToTheirSender(server, socket)
    reassembleBlocksAcrossTokens(server)
    keepOptionsOfLaterBlocks(server)
    const agent = new Agent({ socket })
    agent.on('error', () => undefined)
    refuseNotificationsWhileCancelling(agent, socket, this.cancelling)
    socket.on('message', (msg: Buffer, rinfo) => {
      // An empty RST (type 3, code 0.00) may answer one of our NON notifications, which node-coap does not track.
      if (msg.length === 4 && (((msg[0] as number) >> 4) & 0x03) === 3 && msg[1] === 0) {
        this.notificationIds.reset({ address: rinfo.address, port: rinfo.port }, ((msg[2] as number) << 8) | (msg[3] as number))
      }
    })
    return { socket, server, agent, port: socket.address().port }
  }

  private dispatch(req: IncomingMessage, res: OutgoingMessage | ObserveWriteStream): void {
    const options = (req as unknown as { options: RawOption[] }).options
    const method = req.method as string
    const peer = { address: req.rsinfo.address, port: req.rsinfo.port }
    if (res instanceof ObserveWriteStream) return this.dispatchObserve(req, res, options, peer)
    captureOptionsOfFirstBlock(res)
    const respond = (code: string, payload?: Uint8Array | string, opts: ResponseOptions = {}): void => {
      res.code = code
      if (opts.contentFormat !== undefined) res.setOption('Content-Format', opts.contentFormat)
      if (opts.locationPath) res.setOption('Location-Path', opts.locationPath.map((s) => Buffer.from(s)))
      res.end(payload === undefined ? undefined : Buffer.from(payload))
    }
    if (req.code === '0.00') {
      // An empty message (a CoAP ping, or an ACK or RST that matched nothing) is no request: the Agent
      // on this socket answers a ping with RST, and answering an RST could loop between two endpoints.
      clearTimeout((res as unknown as { _ackTimer?: NodeJS.Timeout })._ackTimer)
      return
    }
    if (!METHODS.has(method)) return respond('4.05', `method ${method} not allowed`)
    this.deliver(req, method as CoapMethod, options, peer, { respond })
  }

  /** Hands the request to the handler; a handler that throws is answered 5.00. */
  private deliver(req: IncomingMessage, method: CoapMethod, options: RawOption[], peer: CoapPeer, responder: Responder): void {
    const request: IncomingRequest = {
      method,
      pathSegments: stringOptions(options, 'Uri-Path'),
      query: stringOptions(options, 'Uri-Query'),
      contentFormat: uintOption(options, 'Content-Format'),
      accept: uintOption(options, 'Accept'),
      payload: req.payload ?? Buffer.alloc(0),
      peer,
      ...this.securityOf(peer),
      ...observeFields(req, options),
    }
    try {
      this.handler(request, responder)
    } catch (e) {
      responder.respond('5.00', `internal error: ${(e as Error).message}`)
    }
  }

  /** A GET or FETCH with Observe 0: node-coap answers it through an observe stream. */
  private dispatchObserve(req: IncomingMessage, stream: ObserveWriteStream, options: RawOption[], peer: CoapPeer): void {
    // node-coap throws from an observe stream with no error listener (e.g. a notification too large to send).
    stream.on('error', () => undefined)
    let answered = false
    const respond = (code: string, payload?: Uint8Array | string, opts: ResponseOptions = {}): void => {
      if (answered) return
      answered = true
      respondWithoutObserve(stream, code, payload === undefined ? undefined : Buffer.from(payload), opts)
    }
    const observe = (payload: Uint8Array, opts: ResponseOptions = {}): ObserveChannel => {
      if (answered) throw new Error('this observe request is already answered')
      answered = true
      return new ObserveChannel(stream, peer, this.notificationIds).open(payload, opts)
    }
    this.deliver(req, req.method as CoapMethod, options, peer, { respond, observe })
  }

  private familyFor(peer: CoapPeer): Family {
    const family = this.families.get(peer.address.includes(':') ? 'udp6' : 'udp4')
    if (!family || this.closed) throw new TransportError('closed', `no ${peer.address.includes(':') ? 'IPv6' : 'IPv4'} endpoint is open`)
    return family
  }

  private send(
    peer: CoapPeer,
    request: CoapRequest,
    onNotification?: (n: CoapResponse) => void,
    token?: Buffer,
  ): Promise<{ response: CoapResponse; token: Buffer; stream?: IncomingMessage & { close(eager?: boolean): void } }> {
    const family = this.familyFor(peer)
    const timeoutMs = request.timeoutMs ?? this.options.defaultTimeoutMs ?? 10_000
    return new Promise((resolve, reject) => {
      const req = family.agent.request({
        hostname: peer.address,
        port: peer.port,
        method: request.method as 'GET',
        pathname: request.path,
        ...(request.query && request.query.length > 0 ? { query: request.query.join('&') } : {}),
        confirmable: request.confirmable !== false,
        ...(request.observe !== undefined ? { observe: request.observe } : {}),
        ...(request.contentFormat !== undefined ? { contentFormat: request.contentFormat } : {}),
        ...(request.accept !== undefined ? { accept: request.accept } : {}),
        // Our own token: node-coap's costs a randomBytes() call per request.
        token: token ?? nextToken(),
      })
      if (request.payload && request.payload.length > BLOCK_SIZE) req.setOption('Block1', Buffer.from([0x06])) // block 0, size 1024
      const timer = setTimeout(() => {
        family.agent.abort(req)
        reject(new TransportError('timeout', `no answer from ${peer.address}:${peer.port} to ${request.method} ${request.path} within ${timeoutMs} ms`))
      }, timeoutMs)
      req.on('response', (res: IncomingMessage) => {
        clearTimeout(timer)
        const response = toResponse(res)
        // node-coap answers a 4.04 to an observe with a plain message that has no close(): no stream then.
        const observing = request.observe === 0 && typeof (res as Partial<{ close: unknown }>).close === 'function'
        const stream = observing ? (res as IncomingMessage & { close(eager?: boolean): void }) : undefined
        if (stream) closeOnce(stream)
        if (stream && onNotification) {
          if (!response.code.startsWith('2.')) stream.close()
          else {
            stream.on('data', () => onNotification(toResponse(res)))
            deliverFinalNotification(stream, onNotification)
          }
        }
        resolve({ response, token: (req as unknown as { _packet: { token: Buffer } })._packet.token, ...(stream ? { stream } : {}) })
      })
      req.on('timeout', () => {
        clearTimeout(timer)
        reject(new TransportError('timeout', `no answer from ${peer.address}:${peer.port} to ${request.method} ${request.path}`))
      })
      req.on('error', (e: Error) => {
        clearTimeout(timer)
        reject(new TransportError('unreachable', `${request.method} ${request.path} to ${peer.address}:${peer.port} failed: ${e.message}`))
      })
      req.end(request.payload ? Buffer.from(request.payload.buffer, request.payload.byteOffset, request.payload.byteLength) : undefined)
    })
  }

  async request(peer: CoapPeer, request: CoapRequest): Promise<CoapResponse> {
    return (await this.send(peer, { ...request, observe: request.observe === 0 ? undefined : request.observe } as CoapRequest)).response
  }

  async observe(peer: CoapPeer, request: CoapRequest, onNotification: (n: CoapResponse) => void): Promise<ObserveHandle> {
    const { response, stream, token } = await this.send(peer, { ...request, method: request.method === 'FETCH' ? 'FETCH' : 'GET', observe: 0 }, onNotification)
    let done = false
    return {
      response,
      forget: () => {
        if (done) return
        done = true
        stream?.close()
      },
      cancel: async () => {
        if (!done) {
          done = true
          stream?.close()
        }
        // RFC 7641 §3.6: the cancelling GET carries the observation's token.
        const key = token.toString('hex')
        this.cancelling.add(key)
        try {
          return await this.send(peer, { ...request, observe: 1 }, undefined, token).then((r) => r.response, () => undefined)
        } finally {
          this.cancelling.delete(key)
        }
      },
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const family of this.families.values()) {
      family.server.close()
      // An agent on a shared socket never calls back from close(); it resets its senders synchronously.
      family.agent.close()
      // node-coap may still fire a piggyback-ACK or retransmission timer, and a send on a closed socket throws.
      family.socket.send = (() => undefined) as Socket['send']
      await new Promise<void>((resolve) => family.socket.close(() => resolve()))
    }
    this.families.clear()
  }
}

// 64 random bits per token (RFC 7252 §5.3.1), drawn from a pool refilled in bulk.
const tokenPool = Buffer.alloc(8 * 512)
let tokenOffset = tokenPool.length

function nextToken(): Buffer {
  if (tokenOffset === tokenPool.length) {
    randomFillSync(tokenPool)
    tokenOffset = 0
  }
  const token = Buffer.from(tokenPool.subarray(tokenOffset, tokenOffset + 8))
  tokenOffset += 8
  return token
}

interface CachedResponse extends Buffer {
  sender?: { reset(): void }
  response?: unknown
}

/**
 * node-coap caches each response it sends, for answering duplicates, together with its sender,
 * whose 202-s timer keeps the whole exchange (request and response streams) alive: ~5 KB per
 * Register. An ACK or NON is never retransmitted, so once sent only its bytes are kept.
 */
function keepOnlyBytesOfSentResponses(server: Server): void {
  const lru = (server as unknown as { _lru?: { set(key: string, value: CachedResponse): unknown; peek(key: string): CachedResponse | undefined } })._lru
  if (!lru || typeof lru.set !== 'function' || typeof lru.peek !== 'function') return
  const set = lru.set.bind(lru)
  lru.set = (key, value) => {
    const result = set(key, value)
    const type = ((value[0] ?? 0) >> 4) & 0x03 // 0 CON, 1 NON, 2 ACK, 3 RST
    // Observe streams included: an RST or a duplicate request never finds their NON or ACK entries by the stream.
    if (type !== 0) {
      // node-coap attaches the sender and sends right after set(): trim once that is done.
      queueMicrotask(() => {
        if (lru.peek(key) !== value) return
        const bytes = Buffer.allocUnsafeSlow(value.length) // its own ArrayBuffer: the cache sizes entries by it
        value.copy(bytes)
        set(key, bytes) // the cache disposes of the old entry, which resets its sender
      })
    }
    return result
  }
}

interface ErrorPacket {
  readonly messageId?: number
  readonly token?: Buffer
}

/**
 * node-coap sends its own error replies (unparseable datagram, broken block transfer) without the
 * sender's address, so they land on localhost:<sender's port>, a reflection onto local services.
 * They go to the sender instead; a datagram that did not even parse gets no answer (RFC 7252 §4.2).
 */
function answerErrorsToTheirSender(server: Server, socket: Socket): void {
  const s = server as unknown as { _sendError?: (payload: Buffer, rsinfo: { address: string; port: number }, packet?: ErrorPacket, code?: string) => void }
  if (typeof s._sendError !== 'function') return
  s._sendError = (payload, rsinfo, packet, code = '5.00') => {
    if (packet?.messageId === undefined) return
    const token = packet.token ?? Buffer.alloc(0)
    const [codeClass = 5, detail = 0] = code.split('.').map(Number)
    const header = Buffer.from([0x50 | (token.length & 0x0f), (codeClass << 5) | detail, packet.messageId >> 8, packet.messageId & 0xff]) // NON
    socket.send(Buffer.concat([header, token, Buffer.from([0xff]), payload]), rsinfo.port, rsinfo.address)
  }
}

interface CacheKeyPacket {
  readonly code?: string
  readonly options?: readonly RawOption[]
}

/**
 * node-coap reassembles Block1 (and serves Block2) per token, but a client may use a new token for
 * every block (RFC 7959 §2.4; libcoap does): key the transfer by sender, method and URI instead.
 */
function reassembleBlocksAcrossTokens(server: Server): void {
  const s = server as unknown as { _toCacheKey?: (request: { rsinfo: { address: string; port: number } }, packet: CacheKeyPacket) => string | null }
  if (typeof s._toCacheKey !== 'function') return
  s._toCacheKey = (request, packet) => {
    const uri = (packet.options ?? []).filter((o) => o.name === 'Uri-Path' || o.name === 'Uri-Query').map((o) => `${o.name}=${String(o.value)}`)
    return `${request.rsinfo.address}:${request.rsinfo.port} ${packet.code ?? ''} ${uri.join('&')}`
  }
}

const BLOCK_OPTIONS: ReadonlySet<unknown> = new Set(['Block2', 'ETag', 'Size2'])

interface BlockCacheEntry {
  readonly buffer: Buffer
  readonly options: RawOption[]
}

/**
 * A response too large for one datagram goes out block by block, the later blocks from a cache. node-coap
 * copies the response's options into that cache right after the request event, before an asynchronous
 * handler has answered, and empties them again with each block it serves: later blocks, and so the
 * reassembled response, lost the Content-Format. The options are taken from the first block instead
 * (captureOptionsOfFirstBlock) and kept while the same payload is served.
 */
function keepOptionsOfLaterBlocks(server: Server): void {
  const s = server as unknown as { saveAdditionalBlock2Options?: unknown; _block2Cache?: { add(key: string, entry: BlockCacheEntry): void; get(key: string): BlockCacheEntry | undefined } }
  const cache = s._block2Cache
  if (!cache || typeof cache.add !== 'function' || typeof cache.get !== 'function') return
  s.saveAdditionalBlock2Options = () => undefined
  const add = cache.add.bind(cache)
  cache.add = (key, entry) => {
    const old = cache.get(key)
    add(key, old && old.buffer === entry.buffer && entry.options.length === 0 ? { ...entry, options: old.options } : entry)
  }
}

function captureOptionsOfFirstBlock(res: OutgoingMessage): void {
  const r = res as unknown as { _addCacheEntry?: (key: string, entry: BlockCacheEntry) => void; _packet: { options?: RawOption[] } }
  const add = r._addCacheEntry
  if (typeof add !== 'function') return
  r._addCacheEntry = (key, entry) => add(key, { ...entry, options: (r._packet.options ?? []).filter((o) => !BLOCK_OPTIONS.has(o.name)) })
}

/**
 * node-coap's agent forgets an observation's token on every 'close' of its stream. close() emits one at once, and
 * the stream, ended, emits another a tick later: by then an active cancel has taken the same token, which the
 * second 'close' took from it, so the cancel's separate (late) answer found no request and timed out.
 */
function closeOnce(stream: IncomingMessage): void {
  const emit = stream.emit.bind(stream)
  let closed = false
  stream.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'close') {
      if (closed) return false
      closed = true
    }
    return emit(event, ...args)
  }) as IncomingMessage['emit']
}

interface AgentPacket {
  readonly code: string
  readonly messageId: number
  readonly token: Buffer
  readonly confirmable?: boolean
  readonly options?: readonly RawOption[]
}

/**
 * While an observation is cancelled (a GET with Observe 1 and its token), notifications still in flight carry that
 * token too, and node-coap would take the first for the cancel's answer. They are refused with RST (RFC 7641 §3.6
 * allows it), and the answer — which has no Observe option — is awaited.
 */
function refuseNotificationsWhileCancelling(agent: Agent, socket: Socket, cancelling: ReadonlySet<string>): void {
  const a = agent as unknown as { _handle?: (packet: AgentPacket, ...rest: unknown[]) => void; _msgIdToReq?: Map<number, unknown> }
  const handle = a._handle?.bind(agent)
  if (!handle) return
  a._handle = (packet, ...rest) => {
    const rsinfo = rest[0] as { address: string; port: number }
    const staleNotification =
      cancelling.size > 0 &&
      packet.code !== '0.00' &&
      packet.token.length > 0 &&
      cancelling.has(packet.token.toString('hex')) &&
      a._msgIdToReq?.has(packet.messageId) !== true && // not a piggybacked answer to one of our requests
      (packet.options ?? []).some((o) => o.name === 'Observe')
    if (!staleNotification) return handle(packet, ...rest)
    const rst = Buffer.from([0x70, 0x00, packet.messageId >> 8, packet.messageId & 0xff]) // RST, empty
    socket.send(rst, rsinfo.port, rsinfo.address)
  }
}

interface RawPacket {
  readonly code: string
  readonly payload?: Buffer
  readonly options?: RawOption[]
}

/**
 * A notification with an error code and no Observe option ends an observation (RFC 7641 §3.2, e.g. 4.04
 * when the resource was deleted); node-coap's observe stream drops it as out of sequence. It is handed
 * on here, and the stream closed.
 */
function deliverFinalNotification(stream: IncomingMessage & { close(eager?: boolean): void }, onNotification: (n: CoapResponse) => void): void {
  const s = stream as unknown as { append?: (packet: RawPacket, firstPacket?: boolean) => void }
  const append = s.append?.bind(stream)
  if (!append) return
  s.append = (packet, firstPacket) => {
    if (!firstPacket && !packet.code.startsWith('2.') && !(packet.options ?? []).some((o) => o.name === 'Observe')) {
      const contentFormat = uintOption(packet.options, 'Content-Format')
      onNotification({ code: packet.code, payload: packet.payload ?? new Uint8Array(0), ...(contentFormat !== undefined ? { contentFormat } : {}) })
      stream.close()
      return
    }
    append(packet, firstPacket)
  }
}

function observeFields(req: IncomingMessage, options: RawOption[]): { observe?: number; token?: string } {
  const observe = uintOption(options, 'Observe')
  const token = (req as unknown as { _packet?: { token?: Buffer } })._packet?.token
  return { ...(observe !== undefined ? { observe } : {}), ...(token && token.length > 0 ? { token: token.toString('hex') } : {}) }
}

function toResponse(res: IncomingMessage): CoapResponse {
  const options = (res as unknown as { options: RawOption[] }).options
  const contentFormat = uintOption(options, 'Content-Format')
  const observe = uintOption(options, 'Observe')
  const locationPath = stringOptions(options, 'Location-Path')
  return {
    code: res.code,
    payload: res.payload ?? new Uint8Array(0),
    ...(contentFormat !== undefined ? { contentFormat } : {}),
    ...(observe !== undefined ? { observe } : {}),
    ...(locationPath.length > 0 ? { locationPath } : {}),
  }
}

