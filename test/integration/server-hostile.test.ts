/**
 * Hostile and malformed input against the real server over loopback UDP: garbage datagrams,
 * bad registrations, unknown paths, huge payloads, a flood of registrations, a lying client.
 * The server answers or ignores, never crashes, and never loses the legitimate client.
 * Datagrams are built byte by byte with the small codec below, so nothing is off limits.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { prng } from '../../shared/lwm2m/fuzz.test-helper.ts'
import { waitFor } from '../support/server-harness.ts'
import { hostLacks } from '../support/host-tools.ts'

// ---- a minimal CoAP codec (RFC 7252 §3) -----------------------------------------------------

const CON = 0
const NON = 1
const ACK = 2
const RST = 3
const GET = 0x01
const POST = 0x02
const PUT = 0x03
const DELETE = 0x04
const URI_PATH = 11
const CONTENT_FORMAT = 12
const URI_QUERY = 15
const BLOCK1 = 27
const PROXY_URI = 35

type Option = readonly [number, Buffer]

interface CoapMessage {
  readonly type: number
  /** class << 5 | detail */
  readonly code: number
  readonly messageId: number
  readonly token?: Buffer
  readonly options?: readonly Option[]
  readonly payload?: Buffer
}

interface Decoded {
  readonly type: number
  readonly code: string
  readonly messageId: number
  readonly token: Buffer
  readonly options: Option[]
  readonly payload: Buffer
}

const EMPTY = Buffer.alloc(0)

function nibble(n: number): [number, Buffer] {
  if (n < 13) return [n, EMPTY]
  if (n < 269) return [13, Buffer.from([n - 13])]
  return [14, Buffer.from([(n - 269) >> 8, (n - 269) & 0xff])]
}

function encodeCoap(m: CoapMessage): Buffer {
  const token = m.token ?? EMPTY
  const parts = [Buffer.from([0x40 | (m.type << 4) | token.length, m.code, m.messageId >> 8, m.messageId & 0xff]), token]
  let previous = 0
  for (const [number, value] of [...(m.options ?? [])].sort((a, b) => a[0] - b[0])) {
    const [deltaNibble, deltaExt] = nibble(number - previous)
    const [lengthNibble, lengthExt] = nibble(value.length)
    parts.push(Buffer.from([(deltaNibble << 4) | lengthNibble]), deltaExt, lengthExt, value)
    previous = number
  }
  if (m.payload && m.payload.length > 0) parts.push(Buffer.from([0xff]), m.payload)
  return Buffer.concat(parts)
}

function codeString(code: number): string {
  return `${code >> 5}.${String(code & 0x1f).padStart(2, '0')}`
}

/** Tolerant decoder for what the server sends back; undefined when it is not CoAP at all. */
function decodeCoap(b: Buffer): Decoded | undefined {
  const first = b[0]
  if (b.length < 4 || first === undefined || first >> 6 !== 1) return undefined
  const tkl = first & 0x0f
  if (tkl > 8 || 4 + tkl > b.length) return undefined
  const options: Option[] = []
  let i = 4 + tkl
  let number = 0
  const extended = (n: number): number | undefined => {
    if (n < 13) return n
    if (n === 13) return (b[i++] ?? 0) + 13
    if (n === 14) {
      const v = b.readUInt16BE(i) + 269
      i += 2
      return v
    }
    return undefined
  }
  while (i < b.length && b[i] !== 0xff) {
    const byte = b[i++] as number
    const delta = extended(byte >> 4)
    const length = extended(byte & 0x0f)
    if (delta === undefined || length === undefined) return undefined
    number += delta
    options.push([number, b.subarray(i, i + length)])
    i += length
  }
  return { type: (first >> 4) & 3, code: codeString(b[1] as number), messageId: b.readUInt16BE(2), token: b.subarray(4, 4 + tkl), options, payload: i < b.length ? b.subarray(i + 1) : EMPTY }
}

const pathOptions = (path: string): Option[] => path.split('/').filter((s) => s.length > 0).map((s) => [URI_PATH, Buffer.from(s)] as const)
const queryOptions = (query: readonly string[]): Option[] => query.map((q) => [URI_QUERY, Buffer.from(q)] as const)
const optionStrings = (m: Decoded, number: number): string[] => m.options.filter(([n]) => n === number).map(([, v]) => v.toString('utf8'))

// ---- a raw UDP peer --------------------------------------------------------------------------

interface RequestSpec {
  readonly method: number
  readonly path: string
  readonly query?: readonly string[]
  readonly payload?: Buffer | string
  readonly contentFormat?: number
  readonly options?: readonly Option[]
}

interface Reply extends Decoded {
  readonly text: string
  readonly locationPath: string[]
}

/** A UDP socket that speaks just enough CoAP: CON requests with retransmission, and answers to the server's requests. */
class RawPeer {
  readonly received: Buffer[] = []
  private readonly socket: Socket
  private readonly serverPort: number
  private readonly waiting = new Map<string, (reply: Reply) => void>()
  private nextMessageId = randomBytes(2).readUInt16BE(0)
  /** How this peer answers the server's requests (a device); none: no answer. */
  answer: ((request: Decoded) => CoapMessage | undefined) | undefined

  private constructor(socket: Socket, serverPort: number) {
    this.socket = socket
    this.serverPort = serverPort
    // Only what the server under test sends counts: other test files run servers on this host too.
    socket.on('message', (datagram, from) => {
      if (from.port === serverPort && from.address === '127.0.0.1') this.onDatagram(datagram)
    })
  }

  static async open(serverPort: number, address = '127.0.0.1', port = 0): Promise<RawPeer> {
    const socket = createSocket('udp4')
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(port, address, () => resolve())
    })
    return new RawPeer(socket, serverPort)
  }

  get port(): number {
    return this.socket.address().port
  }

  messageId(): number {
    this.nextMessageId = (this.nextMessageId + 1) & 0xffff
    return this.nextMessageId
  }

  send(datagram: Buffer): void {
    this.socket.send(datagram, this.serverPort, '127.0.0.1')
  }

  /** Everything received so far that decodes, optionally only for one message ID. */
  replies(messageId?: number): Decoded[] {
    return this.received.map(decodeCoap).filter((m): m is Decoded => m !== undefined && (messageId === undefined || m.messageId === messageId))
  }

  /** A CON request, retransmitted every second until answered (at most 5 tries). */
  request(spec: RequestSpec): Promise<Reply> {
    const token = randomBytes(4)
    const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload) : spec.payload
    const datagram = encodeCoap({
      type: CON,
      code: spec.method,
      messageId: this.messageId(),
      token,
      options: [...pathOptions(spec.path), ...queryOptions(spec.query ?? []), ...(spec.contentFormat !== undefined ? [[CONTENT_FORMAT, uint(spec.contentFormat)] as const] : []), ...(spec.options ?? [])],
      ...(payload ? { payload } : {}),
    })
    return new Promise((resolve, reject) => {
      let tries = 0
      const attempt = (): void => {
        if (++tries > 5) {
          this.waiting.delete(token.toString('hex'))
          clearInterval(timer)
          reject(new Error(`no answer to ${codeString(spec.method)} ${spec.path} after 5 tries`))
          return
        }
        this.send(datagram)
      }
      const timer = setInterval(attempt, 1000)
      this.waiting.set(token.toString('hex'), (reply) => {
        clearInterval(timer)
        resolve(reply)
      })
      attempt()
    })
  }

  /**
   * Sends a request that must come back 4.04 and waits for it. The server handles one socket's
   * datagrams in order, so every direct reply to what this peer sent before has arrived by then.
   */
  async roundTrip(): Promise<void> {
    const reply = await this.request({ method: GET, path: '/sentinel' })
    expect(reply.code).toBe('4.04')
  }

  private onDatagram(datagram: Buffer): void {
    this.received.push(datagram)
    const m = decodeCoap(datagram)
    if (!m) return
    const isRequest = m.code.startsWith('0.') && m.code !== '0.00'
    if (isRequest) {
      const answer = this.answer?.(m)
      if (answer) this.socket.send(encodeCoap(answer), this.serverPort, '127.0.0.1')
      return
    }
    if (m.code === '0.00') return // an empty ACK or RST
    const waiter = this.waiting.get(m.token.toString('hex'))
    if (m.type === CON) this.socket.send(encodeCoap({ type: ACK, code: 0, messageId: m.messageId }), this.serverPort, '127.0.0.1')
    if (!waiter) return
    this.waiting.delete(m.token.toString('hex'))
    waiter({ ...m, text: m.payload.toString('utf8'), locationPath: optionStrings(m, 8) })
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()))
  }
}

function uint(n: number): Buffer {
  if (n === 0) return EMPTY
  if (n < 0x100) return Buffer.from([n])
  return Buffer.from([n >> 8, n & 0xff])
}

/** Deterministic random bytes (mulberry32), so a failing datagram can be found again. */
function seededBytes(seed: number): (n: number) => Buffer {
  const next = prng(seed)
  return (n) => Buffer.from(Array.from({ length: n }, () => (next() * 2 ** 32) & 0xff))
}

const register = (peer: RawPeer, endpoint: string, links: string | Buffer = '</1/0>,</3/0>', query: readonly string[] = ['lt=300', 'lwm2m=1.1', 'b=U']): Promise<Reply> =>
  peer.request({ method: POST, path: '/rd', query: [`ep=${endpoint}`, ...query], contentFormat: 40, payload: links })

// ---- the tests -------------------------------------------------------------------------------

describe('the server under hostile input', () => {
  let service: ConsoleService
  let legit: RawPeer
  let legitLocation: string[]
  const peers: RawPeer[] = []

  const peer = async (address?: string, port?: number): Promise<RawPeer> => {
    const p = await RawPeer.open(service.coapPort, address, port)
    peers.push(p)
    return p
  }

  /** The legitimate client is still registered under the same id, and its Update still gets 2.04. */
  const expectLegitIntact = async (): Promise<void> => {
    expect(service.server.getClient('legit-device')).toMatchObject({ registrationId: legitLocation[1], port: legit.port })
    const update = await legit.request({ method: POST, path: legitLocation.join('/') })
    expect(update.code).toBe('2.04')
  }

  beforeAll(async () => {
    service = await ConsoleService.create({ coapPort: 0, requestTimeoutMs: 3000 })
    legit = await RawPeer.open(service.coapPort)
    const reply = await register(legit, 'legit-device', '</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>')
    expect(reply.code).toBe('2.01')
    legitLocation = reply.locationPath
    expect(legitLocation).toEqual(['rd', expect.stringMatching(/^[0-9a-f]+$/)])
  })

  afterEach(async () => {
    await expectLegitIntact()
    await Promise.all(peers.splice(0).map((p) => p.close()))
  })

  afterAll(async () => {
    await Promise.all(peers.splice(0).map((p) => p.close()))
    await legit?.close()
    await service?.close()
  })

  it('survives random datagrams and malformed CoAP headers, and keeps serving', async () => {
    const attacker = await peer()
    const random = seededBytes(0x0b1ec7)
    for (let i = 0; i < 1000; i++) attacker.send(random(i % 301))
    const crafted: Buffer[] = [
      EMPTY,
      Buffer.from([0x40]), // 1 byte
      Buffer.from([0x40, 0x01, 0x12]), // 3 bytes: truncated header
      Buffer.from([0x48, 0x01, 0x12, 0x36, 1, 2]), // token length 8, 2 bytes present
      Buffer.from([0x4f, 0x01, 0x12, 0x37, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]), // token length 15 (reserved)
      Buffer.from([0x40, 0x01, 0x12, 0x38, 0xbe, 0xff, 0xff, 0x72, 0x64]), // Uri-Path claiming 65,804 bytes
      Buffer.from([0x40, 0x01, 0x12, 0x39, 0xed, 0xff, 0xff, 0xff]), // option delta 65,804 and length 268, nothing after
      Buffer.from([0x40, 0x01, 0x12, 0x3a, 0xbf, 0x72]), // length nibble 15 (reserved)
      Buffer.from([0x40, 0x01, 0x12, 0x3b, 0xf0]), // delta nibble 15 without payload
      Buffer.from([0x40, 0x02, 0x12, 0x3c, 0xb2, 0x72, 0x64, 0xff]), // payload marker, no payload
      Buffer.from([0x00, 0x01, 0x12, 0x3d, 0xb2, 0x72, 0x64]), // version 0
      Buffer.from([0xc0, 0x01, 0x12, 0x3e, 0xb2, 0x72, 0x64]), // version 3
      ...[0x09, 0x1f, 0x20, 0xc0, 0xe0, 0xff].map((code, i) => Buffer.from([0x40, code, 0x13, i, 0xb2, 0x72, 0x64])), // unknown methods, reserved classes
    ]
    for (const datagram of crafted) attacker.send(datagram)
    await attacker.roundTrip()
    // Nothing in all that was a registration.
    expect(service.listClients().map((c) => c.endpoint)).toEqual(['legit-device'])
    expect(attacker.replies().filter((m) => ['2.01', '2.02', '2.04'].includes(m.code))).toEqual([])
  })

  it('answers a CoAP ping with RST only, and never answers an RST or an empty ACK', async () => {
    const p = await peer()
    const ping = p.messageId()
    const rst = p.messageId()
    const emptyAck = p.messageId()
    p.send(encodeCoap({ type: CON, code: 0, messageId: ping }))
    p.send(encodeCoap({ type: RST, code: 0, messageId: rst }))
    p.send(encodeCoap({ type: ACK, code: 0, messageId: emptyAck }))
    await p.roundTrip()
    // An answer to an RST could loop forever between two endpoints that each answer the other.
    expect(p.replies(ping).map((m) => [m.type, m.code])).toEqual([[RST, '0.00']])
    expect(p.replies(rst)).toEqual([])
    expect(p.replies(emptyAck)).toEqual([])
  })

  it('rejects responses that match no request of its own', async () => {
    const p = await peer()
    const [con, non, ack] = [p.messageId(), p.messageId(), p.messageId()]
    const notification = { code: 0x45, token: Buffer.from('feedface', 'hex'), options: [[6, Buffer.from([7])] as const], payload: Buffer.from('42') }
    p.send(encodeCoap({ type: CON, messageId: con, ...notification }))
    p.send(encodeCoap({ type: NON, messageId: non, ...notification }))
    p.send(encodeCoap({ type: ACK, messageId: ack, ...notification }))
    await p.roundTrip()
    expect(p.replies(con).map((m) => [m.type, m.code])).toEqual([[RST, '0.00']])
    for (const m of [...p.replies(non), ...p.replies(ack)]) expect([m.type, m.code]).toEqual([RST, '0.00'])
  })

  it('sends its error replies to the sender, never to another local port', async () => {
    // node-coap answered unparseable datagrams without an address, so to 127.0.0.1:<sender's port>.
    const attacker = await peer('127.0.0.2')
    const bystander = await peer('127.0.0.1', attacker.port)
    for (const datagram of [EMPTY, Buffer.from([0x40]), Buffer.from([0x40, 0x01, 0x12, 0x3a, 0xbf, 0x72]), Buffer.from([0x80, 0x01, 0x12, 0x42])]) attacker.send(datagram)
    await attacker.roundTrip()
    await bystander.roundTrip()
    expect(bystander.replies().filter((m) => m.code !== '4.04')).toEqual([])
  })

  it.each([
    { name: 'no endpoint', query: ['lt=300'], links: '</1/0>', code: '4.00', diagnostic: /endpoint name/ },
    { name: 'an unsupported version', query: ['ep=bad-version', 'lwm2m=9.9'], links: '</1/0>', code: '4.12', diagnostic: /9\.9/ },
    { name: 'a lifetime that is no number', query: ['ep=bad-lt', 'lt=soon'], links: '</1/0>', code: '4.00', diagnostic: /lifetime/ },
    { name: 'a lifetime of zero', query: ['ep=zero-lt', 'lt=0'], links: '</1/0>', code: '4.00', diagnostic: /lifetime/ },
    { name: 'an unknown binding', query: ['ep=bad-binding', 'b=XYZ'], links: '</1/0>', code: '4.00', diagnostic: /binding/ },
    { name: 'a control character in the endpoint', query: ['ep=bad\u0001name'], links: '</1/0>', code: '4.00', diagnostic: /control/ },
    { name: 'a 300-character endpoint', query: [`ep=${'x'.repeat(300)}`], links: '</1/0>', code: '4.00', diagnostic: /300 characters/ },
    { name: 'an unterminated link', query: ['ep=bad-link'], links: '</3/0', code: '4.00', diagnostic: /unterminated/ },
    { name: 'a link to a resource', query: ['ep=resource-link'], links: '</1/0/5>', code: '4.00', diagnostic: /names a resource/ },
    { name: 'a non-numeric instance id', query: ['ep=bad-instance'], links: '</3/zero>', code: '4.00', diagnostic: /"zero"/ },
    { name: 'an object id out of range', query: ['ep=huge-object'], links: '</70000/0>', code: '4.00', diagnostic: /70000/ },
    { name: 'two versions of one object', query: ['ep=two-versions'], links: '</3>;ver=1.0,</3/0>;ver=1.1', code: '4.00', diagnostic: /two versions/ },
    { name: 'bytes that are not UTF-8', query: ['ep=bad-utf8'], links: Buffer.from([0x3c, 0x2f, 0xc3, 0x28, 0x3e]), code: '4.00', diagnostic: /UTF-8/ },
  ])('refuses a registration with $name: $code and a diagnostic', async ({ query, links, code, diagnostic }) => {
    const p = await peer()
    const reply = await p.request({ method: POST, path: '/rd', query, contentFormat: 40, payload: links })
    expect(reply.code).toBe(code)
    expect(reply.text).toMatch(diagnostic)
    expect(service.listClients()).toHaveLength(1)
  })

  it('refuses object links in another content format with 4.15', async () => {
    const p = await peer()
    const reply = await p.request({ method: POST, path: '/rd', query: ['ep=cbor-links'], contentFormat: 60, payload: Buffer.from([0xa0]) })
    expect(reply.code).toBe('4.15')
    expect(service.server.getClient('cbor-links')).toBeUndefined()
  })

  it('answers unknown paths, wrong methods and unknown registration ids', async () => {
    const p = await peer()
    const cases: [RequestSpec, string][] = [
      [{ method: GET, path: '/nothing/here' }, '4.04'],
      [{ method: POST, path: '/bs', query: ['ep=x'] }, '4.04'],
      [{ method: GET, path: '/rd' }, '4.05'],
      [{ method: PUT, path: '/rd' }, '4.05'],
      [{ method: GET, path: '/dp' }, '4.05'],
      [{ method: POST, path: '/rd/0123456789ab' }, '4.04'],
      [{ method: DELETE, path: '/rd/0123456789ab' }, '4.04'],
      [{ method: GET, path: `/${legitLocation.join('/')}` }, '4.05'],
      [{ method: POST, path: '/rd/a/b' }, '4.04'],
      [{ method: POST, path: '/dp', contentFormat: 110, payload: '[{"n":"/3/0/9","v":1}]' }, '4.04'], // Send from an unregistered address
    ]
    for (const [spec, code] of cases) expect({ path: spec.path, code: (await p.request(spec)).code }).toEqual({ path: spec.path, code })
  })

  it('does not forward a request that carries Proxy-Uri', async () => {
    const p = await peer()
    const target = await peer()
    const reply = await p.request({ method: GET, path: '/', options: [[PROXY_URI, Buffer.from(`coap://127.0.0.1:${target.port}/secret`)]] })
    expect(reply.code).toMatch(/^[45]\./)
    await target.roundTrip()
    expect(target.replies().filter((m) => m.code !== '4.04')).toEqual([])
  })

  it('takes a 60 KB registration in one datagram, and refuses 60 KB of garbage', async () => {
    const p = await peer()
    const links = Array.from({ length: 5000 }, (_, i) => `</3303/${i}>`).join(',')
    expect(links.length).toBeGreaterThan(60_000)
    const big = await register(p, 'big-datagram', links)
    expect(big.code).toBe('2.01')
    expect(service.server.getClient('big-datagram')?.objects).toEqual([{ objectId: 3303, instances: Array.from({ length: 5000 }, (_, i) => i) }])
    expect((await p.request({ method: DELETE, path: big.locationPath.join('/') })).code).toBe('2.02')

    const garbage = await register(p, 'big-garbage', seededBytes(7)(60_000))
    expect(garbage.code).toBe('4.00')
    expect(service.server.getClient('big-garbage')).toBeUndefined()
  })

  it.skipIf(hostLacks('coap-client-notls'))('reassembles a 64 KB block-wise registration from libcoap, which changes the token every block', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'objecttwin-hostile-'))
    try {
      const file = join(dir, 'links.txt')
      const links = Array.from({ length: 5500 }, (_, i) => `</3303/${i}>`).join(',')
      expect(links.length).toBeGreaterThan(65_536)
      writeFileSync(file, links)
      const output = await new Promise<string>((resolve) => {
        execFile('coap-client-notls', ['-v', '6', '-B', '20', '-m', 'post', '-t', '40', '-b', '1024', '-f', file, `coap://127.0.0.1:${service.coapPort}/rd?ep=blockwise&lt=300`], { timeout: 30_000, killSignal: 'SIGKILL' }, (_e, stdout, stderr) => resolve(stdout + stderr))
      })
      expect(output).toMatch(/c:2\.01 .*Location-Path:rd/)
      expect(service.server.getClient('blockwise')?.objects[0]?.instances).toHaveLength(5500)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('keeps serving when a registered client answers reads with garbage', async () => {
    const liar = await peer()
    expect((await register(liar, 'liar', '</3/0>')).code).toBe('2.01')
    const answers: Omit<CoapMessage, 'type' | 'messageId' | 'token'>[] = [
      { code: 0x45, options: [[CONTENT_FORMAT, uint(11542)]], payload: Buffer.from([0xc8, 0x09, 0xff, 0x01]) }, // TLV claiming 255 bytes
      { code: 0x45, options: [[CONTENT_FORMAT, uint(112)]], payload: Buffer.from([0x9f, 0xff, 0xff, 0x00]) }, // broken CBOR
      { code: 0x45, options: [[CONTENT_FORMAT, uint(65000)]], payload: Buffer.from('??') }, // a format nobody knows
      { code: 0xa0 }, // 5.00 from the device
    ]
    let next = 0
    liar.answer = (request) => ({ type: ACK, messageId: request.messageId, token: request.token, ...(answers[next++] as object) }) as CoapMessage
    const results = []
    for (let i = 0; i < answers.length; i++) results.push(await service.read('liar', '/3/0'))
    expect(results[0]).toMatchObject({ ok: true, value: { code: '2.05', contentFormat: 11542, decodeError: expect.any(String), payloadHex: 'c809ff01' } })
    expect(results[1]).toMatchObject({ ok: true, value: { code: '2.05', contentFormat: 112, decodeError: expect.any(String) } })
    expect(results[2]).toMatchObject({ ok: true, value: { code: '2.05', contentFormat: 65000, decodeError: expect.stringMatching(/65000/) } })
    expect(results[3]).toMatchObject({ ok: true, value: { code: '5.00', success: false } })
  })

  it('survives a flood of 2,000 registrations from 50 sockets', async () => {
    const before = service.listClients().length
    const senders = await Promise.all(Array.from({ length: 50 }, () => peer()))
    const codes = new Map<string, number>()
    await Promise.all(
      senders.map(async (s, si) => {
        // Four in flight per socket: a bounded flood that the socket buffers can hold.
        for (let batch = 0; batch < 40; batch += 4) {
          const replies = await Promise.all([0, 1, 2, 3].map((k) => register(s, `flood-${si}-${batch + k}`, `</3303/${k}>`)))
          for (const r of replies) codes.set(r.code, (codes.get(r.code) ?? 0) + 1)
        }
      }),
    )
    expect(Object.fromEntries(codes)).toEqual({ '2.01': 2000 })
    expect(service.listClients()).toHaveLength(before + 2000)
    expect(service.server.getClient('flood-49-39')).toMatchObject({ port: senders[49]?.port, objects: [{ objectId: 3303, instances: [3] }] })
  })

  it('shuts down cleanly right after answering a broken block transfer', async () => {
    const doomed = await ConsoleService.create({ coapPort: 0 })
    const p = await RawPeer.open(doomed.coapPort)
    try {
      // Block 5 of a transfer that never had blocks 0-4: node-coap answers 5.00 and leaves its
      // 50 ms piggyback-ACK timer running, which used to fire on the closed socket and throw.
      const reply = await p.request({ method: POST, path: '/rd', query: ['ep=half'], contentFormat: 40, payload: '</3/0>', options: [[BLOCK1, Buffer.from([(5 << 4) | 6])]] })
      expect(reply.code).toBe('5.00')
      await doomed.close()
      // An uncaught exception from that timer would fail this test file; give it time to fire.
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(doomed.server.getClient('half')).toBeUndefined()
    } finally {
      await p.close()
      await doomed.close()
    }
  })

  it('answers 5.03 once maxClients registrations are held, and takes new ones after a de-register', async () => {
    const small = await ConsoleService.create({ coapPort: 0, maxClients: 3 })
    const p = await RawPeer.open(small.coapPort)
    try {
      const locations = []
      for (const ep of ['cap-1', 'cap-2', 'cap-3']) {
        const r = await register(p, ep)
        expect(r.code).toBe('2.01')
        locations.push(r.locationPath)
      }
      const full = await register(p, 'cap-4')
      expect(full.code).toBe('5.03')
      expect(full.text).toMatch(/maximum of 3/)
      // A known endpoint may still register again: it replaces itself.
      expect((await register(p, 'cap-2')).code).toBe('2.01')
      expect(small.listClients().map((c) => c.endpoint).sort()).toEqual(['cap-1', 'cap-2', 'cap-3'])
      expect((await p.request({ method: DELETE, path: (locations[0] as string[]).join('/') })).code).toBe('2.02')
      expect((await register(p, 'cap-4')).code).toBe('2.01')
      await waitFor(() => small.getClient('cap-4').ok, 'cap-4 to be listed', 10_000)
    } finally {
      await p.close()
      await small.close()
    }
  })
})
