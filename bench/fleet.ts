import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { Encoder } from 'cbor-x'
import { generate, parse, type NamedOption, type ParsedPacket } from 'coap-packet'

/**
 * A simulated LwM2M fleet for benchmarks: lean raw-CoAP clients (coap-packet only, no client
 * engine), one UDP socket each. A client registers, answers GETs at once (piggybacked) and, once
 * observed on /1031/0/1, pushes ECG notifications as SenML batches of timestamped samples.
 */

export interface Peer {
  readonly address: string
  readonly port: number
}

export const ECG_PATH = '/1031/0/1'
export const BATTERY_PATH = '/3/0/9'
export const ECG_SAMPLE_RATE_HZ = 250

const TEXT = 0
const LINK = 40
const SENML_JSON = 110
const SENML_CBOR = 112
const TLV = 11542
const BATTERY_LEVEL = 87

// Plain CBOR maps with integer keys, as SenML CBOR has them (no tag 259, no cbor-x records).
const cbor = new Encoder({ mapsAsObjects: false, useRecords: false })
const encodeCbor = (value: unknown): Uint8Array => cbor.encode(value)

/** Absolute wall-clock milliseconds with sub-millisecond resolution, comparable across the process. */
export const nowMs = (): number => performance.timeOrigin + performance.now()

interface Observation {
  readonly token: Buffer
  readonly peer: Peer
  readonly format: number
  sequence: number
}

/** What a fleet client talks over: its own UDP socket, or a DTLS session with the server (bench/dtls-client-socket.ts). */
export interface FleetSocket {
  send(msg: Buffer, port: number, address: string): void
  on(event: 'message', listener: (msg: Buffer, rinfo: RemoteInfo) => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
  close(callback?: () => void): unknown
}

export interface FleetClient {
  readonly endpoint: string
  readonly socket: FleetSocket
  /** Location-Path of the last registration, e.g. "rd/5a3f". */
  location?: string
  observation?: Observation
  /** Where the client is in its ECG waveform. */
  ecgPhase: number
}

interface Pending {
  readonly resolve: (packet: ParsedPacket) => void
  readonly reject: (error: Error) => void
  readonly timer: NodeJS.Timeout
}

export interface RegisterResult {
  readonly registered: number
  readonly failed: number
  readonly elapsedMs: number
  readonly firstError?: string
}

export interface StreamResult {
  readonly batches: number
  readonly samples: number
  readonly elapsedMs: number
}

// ---- small CoAP helpers -------------------------------------------------------------------------

function uintBuffer(value: number): Buffer {
  if (value === 0) return Buffer.alloc(0)
  const bytes: number[] = []
  for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256)
  return Buffer.from(bytes)
}

function uintOf(value: Buffer): number {
  let n = 0
  for (const byte of value) n = n * 256 + byte
  return n
}

function optionValues(packet: ParsedPacket, name: string): Buffer[] {
  const out: Buffer[] = []
  for (const o of packet.options) if (o.name === name) out.push(o.value)
  return out
}

const CONTENT_FORMAT_OPTION: ReadonlyMap<number, Buffer> = new Map([TEXT, LINK, SENML_JSON, SENML_CBOR, TLV].map((f) => [f, uintBuffer(f)]))
const contentFormatOption = (format: number): NamedOption => ({ name: 'Content-Format', value: CONTENT_FORMAT_OPTION.get(format) ?? uintBuffer(format) })

/** The battery level in each format a server may ask for; LwM2M JSON and others get 4.06. */
const BATTERY_PAYLOADS: ReadonlyMap<number, Buffer> = new Map([
  [TEXT, Buffer.from(String(BATTERY_LEVEL))],
  [TLV, Buffer.from([0xc1, 0x09, BATTERY_LEVEL])],
  [SENML_JSON, Buffer.from(JSON.stringify([{ bn: BATTERY_PATH, v: BATTERY_LEVEL }]))],
  [SENML_CBOR, Buffer.from(encodeCbor([new Map<number, unknown>([[-2, BATTERY_PATH], [2, BATTERY_LEVEL]])]))],
])

/** One heartbeat (1 s at 60 bpm) of a crude ECG in µV/10: P wave, QRS spike, T wave. */
const ECG_CYCLE: Int16Array = (() => {
  const cycle = new Int16Array(ECG_SAMPLE_RATE_HZ)
  const bump = (x: number, centre: number, width: number, height: number): number => height * Math.exp(-(((x - centre) / width) ** 2))
  for (let i = 0; i < cycle.length; i++) {
    const x = i / cycle.length
    cycle[i] = Math.round(bump(x, 0.2, 0.025, 15) - bump(x, 0.285, 0.008, 12) + bump(x, 0.3, 0.012, 110) - bump(x, 0.315, 0.008, 25) + bump(x, 0.55, 0.05, 30))
  }
  return cycle
})()

/** A SenML batch of `count` samples, the last one taken at `lastTimeMs` (absolute). */
function ecgBatch(client: FleetClient, count: number, lastTimeMs: number, format: number): Buffer {
  const baseTime = lastTimeMs / 1000 - (count - 1) / ECG_SAMPLE_RATE_HZ
  const values = new Array<number>(count)
  for (let i = 0; i < count; i++) {
    values[i] = ECG_CYCLE[client.ecgPhase] as number
    client.ecgPhase = (client.ecgPhase + 1) % ECG_CYCLE.length
  }
  if (format === SENML_JSON) {
    return Buffer.from(JSON.stringify(values.map((v, i) => (i === 0 ? { bn: ECG_PATH, bt: baseTime, v } : { t: i / ECG_SAMPLE_RATE_HZ, v }))))
  }
  const records = values.map((v, i) =>
    i === 0
      ? new Map<number, unknown>([
          [-2, ECG_PATH],
          [-3, baseTime],
          [2, v],
        ])
      : new Map<number, unknown>([
          [6, i / ECG_SAMPLE_RATE_HZ],
          [2, v],
        ]),
  )
  return Buffer.from(encodeCbor(records))
}

/** Runs `task(0..count-1)` with at most `concurrency` in flight, counting successes and failures. */
async function pool(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<RegisterResult> {
  let next = 0
  let registered = 0
  let failed = 0
  let firstError: string | undefined
  const started = performance.now()
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++
      try {
        await task(index)
        registered++
      } catch (e) {
        failed++
        firstError ??= (e as Error).message
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker))
  return { registered, failed, elapsedMs: performance.now() - started, ...(firstError ? { firstError } : {}) }
}

// ---- the fleet ----------------------------------------------------------------------------------

const ACK_TIMEOUT_MS = 2000
const MAX_RETRANSMIT = 4

export class Fleet {
  readonly clients: FleetClient[] = []
  /** Outstanding requests by token; tokens and message IDs are unique across the whole fleet. */
  private readonly pending = new Map<string, Pending>()
  private messageId = Math.floor(Math.random() * 0xffff)
  private tokenCounter = Math.floor(Math.random() * 0xffffffff)
  private readonly host: string
  private readonly openSocket: ((endpoint: string) => Promise<FleetSocket>) | undefined
  private closed = false

  private constructor(host: string, openSocket?: (endpoint: string) => Promise<FleetSocket>) {
    this.host = host
    this.openSocket = openSocket
  }

  /**
   * Binds `size` sockets on `host` (ephemeral ports), `endpointPrefix`-000001 and so on; `openSocket` gives
   * each client another kind of socket (a DTLS session).
   */
  static async open(size: number, options: { host?: string; endpointPrefix?: string; openSocket?: (endpoint: string) => Promise<FleetSocket> } = {}): Promise<Fleet> {
    const fleet = new Fleet(options.host ?? '127.0.0.1', options.openSocket)
    const prefix = options.endpointPrefix ?? 'bench'
    const width = Math.max(6, String(size).length)
    try {
      for (let start = 0; start < size; start += 256) {
        const batch: Promise<FleetClient>[] = []
        for (let i = start; i < Math.min(size, start + 256); i++) batch.push(fleet.openClient(`${prefix}-${String(i + 1).padStart(width, '0')}`))
        fleet.clients.push(...(await Promise.all(batch)))
      }
    } catch (e) {
      await fleet.close()
      throw e
    }
    return fleet
  }

  /** A client without a socket yet: for fleets that open and close sockets as they go. */
  async openClient(endpoint: string): Promise<FleetClient> {
    const socket = this.openSocket ? await this.openSocket(endpoint) : await this.bindUdp()
    const client: FleetClient = { endpoint, socket, ecgPhase: Math.floor(Math.random() * ECG_CYCLE.length) }
    socket.on('message', (msg, rinfo) => this.onMessage(client, msg, rinfo))
    socket.on('error', () => undefined) // ICMP port unreachable after a server stops
    return client
  }

  private async bindUdp(): Promise<Socket> {
    const socket = createSocket('udp4')
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(0, this.host, () => {
        socket.off('error', reject)
        resolve()
      })
    })
    return socket
  }

  async closeClient(client: FleetClient): Promise<void> {
    await new Promise<void>((resolve) => client.socket.close(() => resolve()))
  }

  private nextMessageId(): number {
    this.messageId = (this.messageId + 1) & 0xffff
    return this.messageId
  }

  private nextToken(): Buffer {
    this.tokenCounter = (this.tokenCounter + 1) >>> 0
    const token = Buffer.alloc(4)
    token.writeUInt32BE(this.tokenCounter)
    return token
  }

  private send(client: FleetClient, packet: Parameters<typeof generate>[0], peer: Peer): void {
    if (this.closed) return
    const buf = generate(packet)
    client.socket.send(buf, peer.port, peer.address)
  }

  // ---- client → server requests --------------------------------------------------------------

  /** A confirmable request with retransmission (RFC 7252 §4.2); resolves to the response. */
  private request(client: FleetClient, peer: Peer, packet: { code: string; options: NamedOption[]; payload?: Buffer }, timeoutMs: number): Promise<ParsedPacket> {
    const token = this.nextToken()
    const key = token.toString('hex')
    const full = { ...packet, token, messageId: this.nextMessageId(), confirmable: true }
    const buf = generate(full)
    return new Promise((resolve, reject) => {
      let attempt = 0
      let retransmit: NodeJS.Timeout | undefined
      const resend = (): void => {
        if (attempt++ >= MAX_RETRANSMIT || this.closed) return
        client.socket.send(buf, peer.port, peer.address)
        retransmit = setTimeout(resend, ACK_TIMEOUT_MS * 2 ** attempt)
      }
      const timer = setTimeout(() => {
        clearTimeout(retransmit)
        this.pending.delete(key)
        reject(new Error(`${client.endpoint}: no answer from ${peer.address}:${peer.port} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(key, {
        resolve: (p) => {
          clearTimeout(retransmit)
          clearTimeout(timer)
          resolve(p)
        },
        reject: (e) => {
          clearTimeout(retransmit)
          clearTimeout(timer)
          reject(e)
        },
        timer,
      })
      client.socket.send(buf, peer.port, peer.address)
      retransmit = setTimeout(resend, ACK_TIMEOUT_MS)
    })
  }

  /** Register (POST /rd) as an LwM2M 1.1 client that prefers SenML CBOR, with the Device and ECG twin objects. */
  async register(client: FleetClient, server: Peer, timeoutMs = 30_000): Promise<void> {
    const query = [`ep=${client.endpoint}`, 'lt=86400', 'lwm2m=1.1', 'b=U']
    const response = await this.request(
      client,
      server,
      {
        code: 'POST',
        options: [{ name: 'Uri-Path', value: Buffer.from('rd') }, contentFormatOption(LINK), ...query.map((q) => ({ name: 'Uri-Query' as const, value: Buffer.from(q) }))],
        payload: Buffer.from(`</>;ct=${SENML_CBOR},</1/0>,</3/0>,</1031/0>`),
      },
      timeoutMs,
    )
    if (response.code !== '2.01') throw new Error(`${client.endpoint}: Register answered ${response.code} ${response.payload.toString('utf8')}`)
    client.location = optionValues(response, 'Location-Path')
      .map((v) => v.toString('utf8'))
      .join('/')
  }

  /** Registers `clients` with at most `concurrency` registrations in flight. */
  registerAll(clients: readonly FleetClient[], server: Peer, concurrency: number): Promise<RegisterResult> {
    return pool(clients.length, concurrency, (i) => this.register(clients[i] as FleetClient, server))
  }

  /**
   * Registers `endpoints` each from a socket of its own that is closed once registered: the server
   * keeps the registrations, and the bench needs only `concurrency` file descriptors.
   */
  registerRolling(endpoints: readonly string[], server: Peer, concurrency: number): Promise<RegisterResult> {
    return pool(endpoints.length, concurrency, async (i) => {
      const client = await this.openClient(endpoints[i] as string)
      try {
        await this.register(client, server)
      } finally {
        await this.closeClient(client)
      }
    })
  }

  // ---- server → client traffic ----------------------------------------------------------------

  private onMessage(client: FleetClient, msg: Buffer, rinfo: RemoteInfo): void {
    let packet: ParsedPacket
    try {
      packet = parse(msg)
    } catch {
      return
    }
    const isRequest = packet.code.startsWith('0.') && packet.code !== '0.00'
    if (isRequest) return this.answer(client, packet, rinfo)
    if (packet.reset) {
      // A RST to a notification: the server forgot the observation (passive cancel).
      if (client.observation) client.observation = undefined
      return
    }
    if (packet.code === '0.00') return // empty ACK of a separate response or of a CON notification
    if (packet.confirmable) this.send(client, { code: '0.00', ack: true, messageId: packet.messageId }, rinfo)
    const key = packet.token.toString('hex')
    const pending = this.pending.get(key)
    if (!pending) return
    this.pending.delete(key)
    pending.resolve(packet)
  }

  /** Answers a server request at once, piggybacked on the ACK (or as a NON to a NON). */
  private answer(client: FleetClient, request: ParsedPacket, peer: Peer): void {
    const path = '/' + optionValues(request, 'Uri-Path')
      .map((v) => v.toString('utf8'))
      .join('/')
    const acceptOption = optionValues(request, 'Accept')[0]
    const accept = acceptOption === undefined ? undefined : uintOf(acceptOption)
    const observeOption = optionValues(request, 'Observe')[0]
    const observe = observeOption === undefined ? undefined : uintOf(observeOption)
    const reply = (code: string, options: NamedOption[] = [], payload?: Buffer): void => {
      this.send(
        client,
        {
          code,
          token: request.token,
          messageId: request.confirmable ? request.messageId : this.nextMessageId(),
          ack: request.confirmable,
          confirmable: false,
          options,
          ...(payload ? { payload } : {}),
        },
        peer,
      )
    }
    if (request.code !== '0.01') return reply('4.05')
    if (path === BATTERY_PATH) {
      const format = accept ?? TEXT
      const payload = BATTERY_PAYLOADS.get(format)
      return payload ? reply('2.05', [contentFormatOption(format)], payload) : reply('4.06')
    }
    if (path === ECG_PATH) {
      const format = accept ?? SENML_CBOR
      if (format !== SENML_CBOR && format !== SENML_JSON) return reply('4.06')
      if (observe === 0) {
        client.observation = { token: request.token, peer: { address: peer.address, port: peer.port }, format, sequence: 2 }
        return reply('2.05', [{ name: 'Observe', value: uintBuffer(1) }, contentFormatOption(format)], ecgBatch(client, 1, nowMs(), format))
      }
      if (observe === 1) client.observation = undefined
      return reply('2.05', [contentFormatOption(format)], ecgBatch(client, 1, nowMs(), format))
    }
    reply('4.04')
  }

  /** One notification of `samples` samples, the last taken now; false when the client is not observed. */
  notify(client: FleetClient, samples: number): boolean {
    const o = client.observation
    if (!o) return false
    const sequence = o.sequence
    o.sequence = (o.sequence + 1) & 0xffffff
    const payload = ecgBatch(client, samples, nowMs(), o.format)
    this.send(
      client,
      {
        code: '2.05',
        token: o.token,
        messageId: this.nextMessageId(),
        confirmable: false,
        options: [{ name: 'Observe', value: uintBuffer(sequence) }, contentFormatOption(o.format)],
        payload,
      },
      o.peer,
    )
    return true
  }

  /**
   * Each of `streams` pushes a batch of `batchSize` samples every batchSize/250 s for `durationMs`,
   * the streams evenly staggered so the offered load is smooth.
   */
  stream(streams: readonly FleetClient[], batchSize: number, durationMs: number): Promise<StreamResult> {
    const periodMs = (1000 * batchSize) / ECG_SAMPLE_RATE_HZ
    const intervalMs = periodMs / Math.max(1, streams.length)
    const total = Math.floor(durationMs / intervalMs)
    let next = 0
    let batches = 0
    const started = performance.now()
    if (streams.length === 0) return Promise.resolve({ batches: 0, samples: 0, elapsedMs: 0 })
    return new Promise((resolve) => {
      const tick = (): void => {
        const due = Math.min(total, Math.floor((performance.now() - started) / intervalMs) + 1)
        for (; next < due; next++) if (this.notify(streams[next % streams.length] as FleetClient, batchSize)) batches++
        if (next >= total || this.closed) {
          clearInterval(timer)
          resolve({ batches, samples: batches * batchSize, elapsedMs: performance.now() - started })
        }
      }
      const timer = setInterval(tick, 1)
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const p of this.pending.values()) {
      clearTimeout(p.timer)
      p.reject(new Error('the fleet is closing'))
    }
    this.pending.clear()
    await Promise.all(this.clients.map((c) => this.closeClient(c)))
  }
}
