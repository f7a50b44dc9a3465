/**
 * A ClientHello flood from 2,000 source ports does not keep a legitimate client out: a hello without our
 * cookie costs the server an HMAC and no state. A quarter of the flood comes from another loopback address
 * and returns the cookie, then stalls: that host only churns its own share of the handshake table.
 */
import { randomBytes } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeWhole, HandshakeType, parseHandshakeFragments } from '../../electron/coap/dtls/handshake-messages.ts'
import { ContentType, DTLS_1_2, encodeRecord, parseRecords } from '../../electron/coap/dtls/record.ts'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { coapsClient, registerArgs, type LibcoapResult } from '../support/dtls-peers.ts'
import { hostLacks } from '../support/host-tools.ts'

/** libcoap's clients (libcoap3-bin, with coap-client-notls) are the independent peers; CI installs them on Linux. */
const NO_LIBCOAP = hostLacks('coap-client-notls')

const SOURCES = 2000
const AT_ONCE = 200
const MAX_HANDSHAKES = 20
const PER_ADDRESS = 5
/** Where the stalling part of the flood comes from (all of 127.0.0.0/8 is loopback). */
const STALLING_HOST = '127.0.0.2'

function hello(random: Buffer, cookie: Buffer, messageSeq: number): Buffer {
  const body = Buffer.concat([Buffer.from([0xfe, 0xfd]), random, Buffer.from([0, cookie.length]), cookie, Buffer.from([0, 4, 0xc0, 0xa8, 0x00, 0xae, 1, 0])])
  return encodeRecord({ type: ContentType.handshake, version: DTLS_1_2, epoch: 0, sequence: messageSeq, fragment: encodeWhole({ type: HandshakeType.clientHello, messageSeq, body }) })
}

/**
 * One flooding source: a ClientHello from its own port; a stalling one also returns the cookie, so the server
 * starts a handshake, which the source then abandons. Resolves when the source is done.
 */
async function floodFrom(port: number, stall: boolean): Promise<void> {
  const socket: Socket = createSocket('udp4')
  socket.on('error', () => undefined)
  await new Promise<void>((resolve) => socket.bind(0, stall ? STALLING_HOST : '127.0.0.1', () => resolve()))
  try {
    const random = randomBytes(32)
    const answered = new Promise<Buffer | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 1000)
      socket.once('message', (msg: Buffer) => {
        clearTimeout(timer)
        resolve(msg)
      })
    })
    socket.send(hello(random, Buffer.alloc(0), 0), port, '127.0.0.1')
    const verify = await answered
    if (!stall || !verify) return
    const record = parseRecords(verify)[0]
    const cookie = record ? parseHandshakeFragments(record.fragment)[0]?.body.subarray(3) : undefined
    // Closing the socket right away would cancel the send: wait for it.
    if (cookie) await new Promise((resolve) => socket.send(hello(random, cookie, 1), port, '127.0.0.1', resolve))
  } finally {
    socket.close()
  }
}

describe.skipIf(NO_LIBCOAP)('a ClientHello flood', () => {
  let service: ConsoleService
  beforeAll(async () => {
    service = await ConsoleService.create({ coapPort: 0, dtls: { maxHandshakes: MAX_HANDSHAKES, maxHandshakesPerAddress: PER_ADDRESS } })
    for (const endpoint of ['legit-openssl', 'legit-gnutls']) service.setSecurity({ endpoint, identity: `${endpoint}-id`, key: Buffer.from(`${endpoint}-key`).toString('hex') })
  })
  afterAll(async () => service.close())

  it(`from ${SOURCES} source ports does not stop legitimate clients from registering during it`, async () => {
    const port = service.coapsPort
    let legit: Promise<LibcoapResult[]> | undefined
    let legitDone = false
    let tableWhenTheyStarted = 0
    let sent = 0
    // Flooding goes on until the legitimate clients are through, and at least SOURCES ports have sent.
    while (sent < SOURCES || !legitDone) {
      // The legitimate clients start once the flood is in full swing and the handshake table full.
      if (sent === 2 * AT_ONCE) {
        await new Promise((resolve) => setTimeout(resolve, 50)) // the server takes in the last hellos
        tableWhenTheyStarted = service.dtlsStats().handshakes
        const clients = (['openssl', 'gnutls'] as const).map((tls) => coapsClient(tls, registerArgs(port, `legit-${tls}`), { identity: `legit-${tls}-id`, key: `legit-${tls}-key`, waitS: 20 }))
        legit = Promise.all(clients).finally(() => (legitDone = true))
      }
      const batch = Array.from({ length: AT_ONCE }, (_, i) => floodFrom(port, (sent + i) % 4 === 0))
      sent += AT_ONCE
      await Promise.all(batch)
    }
    expect(tableWhenTheyStarted).toBe(PER_ADDRESS)
    const results = await (legit as Promise<LibcoapResult[]>)
    for (const r of results) expect(r.code, r.output).toBe('2.01')
    expect(service.server.getClient('legit-openssl')).toMatchObject({ secure: true })
    expect(service.server.getClient('legit-gnutls')).toMatchObject({ secure: true })
    const stats = service.dtlsStats()
    expect(stats.helloVerifyRequests).toBeGreaterThanOrEqual(SOURCES)
    // State only for hellos that returned the cookie, and never beyond the stalling host's share.
    expect(stats.handshakes).toBeLessThanOrEqual(PER_ADDRESS)
    expect(stats.handshakesFailed).toBeGreaterThan(SOURCES / 8) // most stalled ones, given way
    expect(stats.sessions).toBeLessThanOrEqual(2)
  })
})
