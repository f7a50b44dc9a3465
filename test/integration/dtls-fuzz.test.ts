/**
 * Bounded fuzzing of the running DTLS server: random datagrams, random records, mutated ClientHellos,
 * handshakes that pass the cookie exchange and then go wrong, and real handshakes (node-dtls-client) through
 * a relay that mangles them. Afterwards the server still serves and has lost no registration or session.
 * Seeded: a failure names its seed (FUZZ_SEED=<n> repeats it).
 */
import { createSocket, type Socket } from 'node:dgram'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectDtls } from '../../bench/dtls-client-socket.ts'
import { BATTERY_PATH, Fleet } from '../../bench/fleet.ts'
import { encodeWhole, HandshakeType, parseHandshakeFragments, parseClientHello } from '../../electron/coap/dtls/handshake-messages.ts'
import { ContentType, DTLS_1_2, encodeRecord, parseRecords } from '../../electron/coap/dtls/record.ts'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { coapsClient, registerArgs, UdpRelay } from '../support/dtls-peers.ts'
import { hostLacks } from '../support/host-tools.ts'

/** libcoap's clients (libcoap3-bin, with coap-client-notls) are the independent peers; CI installs them on Linux. */
const NO_LIBCOAP = hostLacks('coap-client-notls')

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000)

/** mulberry32: small, fast, and the same sequence for the same seed. */
function prng(seed: number): { next(): number; int(n: number): number; bytes(n: number): Buffer; pick<T>(items: readonly T[]): T } {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => Math.floor(next() * n)
  return { next, int, bytes: (n) => Buffer.from(Array.from({ length: n }, () => int(256))), pick: (items) => items[int(items.length)] as (typeof items)[number] }
}

type Rng = ReturnType<typeof prng>

function mutate(rng: Rng, input: Buffer): Buffer {
  const out = Buffer.from(input)
  switch (rng.int(5)) {
    case 0: // bit flips
      for (let i = rng.int(4) + 1; i > 0 && out.length > 0; i--) out[rng.int(out.length)] = (out[rng.int(out.length)] as number) ^ (1 << rng.int(8))
      return out
    case 1:
      return out.subarray(0, rng.int(out.length + 1))
    case 2:
      return Buffer.concat([out, rng.bytes(rng.int(40) + 1)])
    case 3: // a length field (record or handshake header) set to something else
      if (out.length > 13) out.writeUInt16BE(rng.int(0x10000), 11)
      if (out.length > 16) out.writeUIntBE(rng.int(0x1000000), 14, 3)
      return out
    default: // a random byte set to an edge value
      if (out.length > 0) out[rng.int(out.length)] = rng.pick([0, 1, 0x7f, 0x80, 0xff])
      return out
  }
}

function clientHelloBody(random: Buffer, cookie: Buffer, suites: readonly number[], extensions: Buffer): Buffer {
  const suiteBytes = Buffer.alloc(suites.length * 2)
  suites.forEach((s, i) => suiteBytes.writeUInt16BE(s, i * 2))
  return Buffer.concat([Buffer.from([0xfe, 0xfd]), random, Buffer.from([0, cookie.length]), cookie, Buffer.from([suiteBytes.length >> 8, suiteBytes.length & 0xff]), suiteBytes, Buffer.from([1, 0]), Buffer.from([extensions.length >> 8, extensions.length & 0xff]), extensions])
}

const handshakeRecord = (type: number, messageSeq: number, body: Buffer, sequence: number, epoch = 0): Buffer =>
  encodeRecord({ type: ContentType.handshake, version: DTLS_1_2, epoch, sequence, fragment: encodeWhole({ type, messageSeq, body }) })

async function openSocket(): Promise<Socket> {
  const socket = createSocket('udp4')
  socket.on('error', () => undefined)
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()))
  return socket
}

/** The next datagram on `socket`, or undefined after `ms`. */
function nextDatagram(socket: Socket, ms: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.off('message', onMessage)
      resolve(undefined)
    }, ms)
    const onMessage = (msg: Buffer): void => {
      clearTimeout(timer)
      socket.off('message', onMessage)
      resolve(msg)
    }
    socket.on('message', onMessage)
  })
}

describe.skipIf(NO_LIBCOAP)(`DTLS fuzzing (seed ${SEED})`, () => {
  let service: ConsoleService
  let keeper: Fleet
  let plain: Fleet
  const keeperKey = Buffer.from('keeper-secret-key')

  beforeAll(async () => {
    service = await ConsoleService.create({ coapPort: 0, dtls: { maxHandshakes: 40, retransmitMs: 300, maxRetransmits: 2 } })
    service.setSecurity({ endpoint: 'keeper-000001', identity: 'keeper-id', key: keeperKey.toString('hex') })
    const server = { address: '127.0.0.1', port: service.coapsPort }
    keeper = await Fleet.open(1, { endpointPrefix: 'keeper', openSocket: () => connectDtls(server, { identity: 'keeper-id', key: keeperKey }) })
    await keeper.register(keeper.clients[0]!, server)
    plain = await Fleet.open(1, { endpointPrefix: 'plain' })
    await plain.register(plain.clients[0]!, { address: '127.0.0.1', port: service.coapPort })
  })

  afterAll(async () => {
    await keeper?.close()
    await plain?.close()
    await service?.close()
  })

  it('survives random datagrams, random records and mutated ClientHellos', async () => {
    const rng = prng(SEED)
    const sockets = await Promise.all(Array.from({ length: 8 }, openSocket))
    const hello = handshakeRecord(HandshakeType.clientHello, 0, clientHelloBody(rng.bytes(32), Buffer.alloc(0), [0xc0a8, 0x00ae, 0x00ff], Buffer.from([0x00, 0x17, 0, 0])), 0)
    try {
      for (let i = 0; i < 4500; i++) {
        let datagram: Buffer
        if (i < 1500) datagram = rng.bytes(rng.int(300))
        else if (i < 3000) {
          const fragment = rng.bytes(rng.int(200))
          datagram = encodeRecord({ type: rng.pick([20, 21, 22, 23, rng.int(256)]), version: rng.pick([0xfefd, 0xfeff]), epoch: rng.pick([0, 1, 2, rng.int(0x10000)]), sequence: rng.int(2 ** 32), fragment })
          if (rng.next() < 0.3) datagram = Buffer.concat([datagram, mutate(rng, datagram)])
        } else datagram = mutate(rng, hello)
        rng.pick(sockets).send(datagram, service.coapsPort, '127.0.0.1')
        if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve))
      }
    } finally {
      await new Promise((resolve) => setTimeout(resolve, 200))
      for (const s of sockets) s.close()
    }
    expect(service.dtlsStats().sessions).toBe(1)
  })

  it('survives handshakes that pass the cookie exchange and then go wrong', async () => {
    const rng = prng(SEED + 1)
    const identities = ['keeper-id', 'nobody', '', '\u00ff\u00fe']
    const failures: string[] = []
    service.onEvent((e) => e.kind === 'log' && e.message.includes('handshake') && failures.push(e.message))
    let started = 0
    for (let round = 0; round < 120; round++) {
      const socket = await openSocket()
      try {
        const random = rng.bytes(32)
        const suites = rng.pick([[0xc0a8], [0x00ae], [0xc0a8, 0x00ae], [0x1234], [0xc0a8, 0x00ff]])
        const extensions = rng.pick([Buffer.alloc(0), Buffer.from([0x00, 0x17, 0, 0]), Buffer.from([0xff, 0x01, 0, 1, 0]), Buffer.from([0xff, 0x01, 0, 2, 1, 9])])
        socket.send(handshakeRecord(HandshakeType.clientHello, 0, clientHelloBody(random, Buffer.alloc(0), suites, extensions), 0), service.coapsPort, '127.0.0.1')
        const verify = await nextDatagram(socket, 500)
        const hvr = verify && parseRecords(verify)[0]
        expect(hvr, 'a HelloVerifyRequest').toBeDefined()
        const cookie = parseHandshakeFragments(hvr!.fragment)[0]!.body.subarray(3)
        const body = clientHelloBody(random, cookie, suites, extensions)
        expect(parseClientHello(body).cookie).toEqual(cookie)
        socket.send(handshakeRecord(HandshakeType.clientHello, 1, rng.next() < 0.2 ? mutate(rng, body) : body, 1), service.coapsPort, '127.0.0.1')
        if (!(await nextDatagram(socket, 300))) continue
        started++
        // The client's second flight, wrong in one of many ways.
        const identity = Buffer.from(rng.pick(identities), 'utf8')
        const keyExchange = Buffer.concat([Buffer.from([identity.length >> 8, identity.length & 0xff]), identity])
        const records = [
          handshakeRecord(HandshakeType.clientKeyExchange, 2, rng.next() < 0.3 ? mutate(rng, keyExchange) : keyExchange, 2),
          encodeRecord({ type: ContentType.changeCipherSpec, version: DTLS_1_2, epoch: 0, sequence: 3, fragment: Buffer.from([rng.next() < 0.8 ? 1 : 2]) }),
          encodeRecord({ type: ContentType.handshake, version: DTLS_1_2, epoch: 1, sequence: 0, fragment: rng.bytes(rng.int(60)) }),
          encodeRecord({ type: ContentType.alert, version: DTLS_1_2, epoch: rng.int(2), sequence: 4, fragment: rng.bytes(2) }),
          handshakeRecord(rng.int(25), rng.int(6), rng.bytes(rng.int(40)), 5),
        ]
        const order = records.filter(() => rng.next() < 0.8)
        const datagram = rng.next() < 0.5 ? Buffer.concat(order) : mutate(rng, Buffer.concat(order))
        socket.send(datagram, service.coapsPort, '127.0.0.1')
        await nextDatagram(socket, 50)
      } finally {
        socket.close()
      }
    }
    expect(started).toBeGreaterThan(20)
    expect(service.dtlsStats().handshakes).toBeLessThanOrEqual(40)
    // The rounds reached every stage: the hello, the key exchange, and the (encrypted) Finished.
    for (const stage of ['no common cipher suite', 'unknown PSK identity', "the client's Finished does not authenticate"]) {
      expect(failures.some((f) => f.includes(stage)), `a failure "${stage}" among ${failures.length}`).toBe(true)
    }
  })

  it('survives real handshakes (node-dtls-client) through a relay that mangles their datagrams', async () => {
    const rng = prng(SEED + 2)
    const relay = await UdpRelay.start({ address: '127.0.0.1', port: service.coapsPort }, (datagram, direction) => {
      const roll = rng.next()
      if (roll < 0.1) return undefined
      if (direction === 'toServer' && roll < 0.4) return mutate(rng, datagram)
      return datagram
    })
    let connected = 0
    try {
      for (let batch = 0; batch < 4; batch++) {
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, () =>
            connectDtls({ address: '127.0.0.1', port: relay.port }, { identity: 'keeper-id', key: keeperKey, timeoutMs: 1500 }).then(
              (socket) => new Promise<void>((resolve) => socket.close(resolve)),
            ),
          ),
        )
        connected += results.filter((r) => r.status === 'fulfilled').length
      }
    } finally {
      await relay.close()
    }
    // Whatever made it through, the fuzz must not have been all-failing by construction.
    expect(connected).toBeGreaterThan(0)
  })

  it('afterwards still serves: the DTLS and plain registrations are there, the old session reads, a new client registers', async () => {
    expect(service.server.getClient('keeper-000001')).toMatchObject({ secure: true })
    expect(service.server.getClient('plain-000001')).toMatchObject({ secure: false })
    const read = await service.read('keeper-000001', BATTERY_PATH)
    expect(read.ok && read.value.records?.[0]?.value).toBe(87)
    service.setSecurity({ endpoint: 'after-fuzz', identity: 'after-fuzz-id', key: Buffer.from('after-fuzz-key').toString('hex') })
    const r = await coapsClient('openssl', registerArgs(service.coapsPort, 'after-fuzz'), { identity: 'after-fuzz-id', key: 'after-fuzz-key' })
    expect(r.code, r.output).toBe('2.01')
  })
})
