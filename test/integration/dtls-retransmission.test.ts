/**
 * Lost and fragmented handshake flights (RFC 6347 §4.2.3, §4.2.4): a relay between the client and the
 * server drops chosen datagrams, and the handshake still completes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectDtls } from '../../bench/dtls-client-socket.ts'
import { HandshakeType } from '../../electron/coap/dtls/handshake-messages.ts'
import { parseRecords } from '../../electron/coap/dtls/record.ts'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { coapsClient, registerArgs, UdpRelay, type Direction, type LibcoapTls } from '../support/dtls-peers.ts'
import { hostLacks } from '../support/host-tools.ts'

/** libcoap's clients (libcoap3-bin, with coap-client-notls) are the independent peers; CI installs them on Linux. */
const NO_LIBCOAP = hostLacks('coap-client-notls')

/** The handshake message types in a datagram's plaintext (epoch 0) records; "ccs" for a ChangeCipherSpec. */
function plaintextMessages(datagram: Buffer): Array<number | 'ccs'> {
  return parseRecords(datagram).flatMap((r): Array<number | 'ccs'> => (r.epoch !== 0 ? [] : r.type === 20 ? ['ccs'] : r.type === 22 ? [r.fragment[0] as number] : []))
}

interface Trace {
  readonly sent: Array<{ direction: Direction; index: number; dropped: boolean; messages: Array<number | 'ccs'> }>
}

/** A relay that drops the datagrams `drop` picks, and remembers what went by. */
async function lossyRelay(port: number, drop: (direction: Direction, index: number) => boolean): Promise<{ relay: UdpRelay; trace: Trace }> {
  const trace: Trace = { sent: [] }
  const relay = await UdpRelay.start({ address: '127.0.0.1', port }, (datagram, direction, index) => {
    const dropped = drop(direction, index)
    trace.sent.push({ direction, index, dropped, messages: plaintextMessages(datagram) })
    return dropped ? undefined : datagram
  })
  return { relay, trace }
}

const serverHellosSent = (trace: Trace): number => trace.sent.filter((s) => s.direction === 'toClient' && s.messages.includes(HandshakeType.serverHello)).length

describe.skipIf(NO_LIBCOAP)('DTLS handshake over a lossy path', () => {
  let service: ConsoleService
  let small: ConsoleService
  beforeAll(async () => {
    service = await ConsoleService.create({ coapPort: 0 })
    // A PMTU of 80 bytes cuts every server flight into several datagrams.
    small = await ConsoleService.create({ coapPort: 0, dtls: { pmtu: 80 } })
  })
  afterAll(async () => {
    await service.close()
    await small.close()
  })

  let n = 0
  async function register(target: ConsoleService, tls: LibcoapTls, drop: (direction: Direction, index: number) => boolean): Promise<Trace> {
    const endpoint = `lossy-${tls}-${++n}`
    const set = target.setSecurity({ endpoint, identity: `${endpoint}-id`, key: Buffer.from('lossy-secret-key').toString('hex') })
    expect(set.ok).toBe(true)
    const { relay, trace } = await lossyRelay(target.coapsPort, drop)
    try {
      const r = await coapsClient(tls, registerArgs(relay.port, endpoint), { identity: `${endpoint}-id`, key: 'lossy-secret-key', waitS: 20 })
      expect(r.code, r.output).toBe('2.01')
      expect(target.server.getClient(endpoint)).toMatchObject({ secure: true })
      return trace
    } finally {
      await relay.close()
    }
  }

  describe.each<LibcoapTls>(['openssl', 'gnutls'])('coap-client-%s', (tls) => {
    it('completes when the first server flight (HelloVerifyRequest) is lost', async () => {
      const trace = await register(service, tls, (d, i) => d === 'toClient' && i === 0)
      expect(trace.sent.filter((s) => s.direction === 'toServer' && s.messages.includes(HandshakeType.clientHello)).length).toBeGreaterThanOrEqual(3) // ClientHello again
    })

    it('completes when the ServerHello flight is lost', async () => {
      const trace = await register(service, tls, (d, i) => d === 'toClient' && i === 1)
      expect(serverHellosSent(trace)).toBeGreaterThanOrEqual(2)
    })

    it("completes when the server's ChangeCipherSpec and Finished are lost (the client repeats its flight, we ours)", async () => {
      const trace = await register(service, tls, (d, i) => d === 'toClient' && i === 2)
      expect(trace.sent.filter((s) => s.direction === 'toClient' && s.messages.includes('ccs')).length).toBeGreaterThanOrEqual(2)
    })

    it("completes when the client's key exchange flight is lost", async () => {
      const trace = await register(service, tls, (d, i) => d === 'toServer' && i === 2)
      // GnuTLS sends ClientKeyExchange, ChangeCipherSpec and Finished in three datagrams, OpenSSL the first two together.
      expect(trace.sent.find((s) => s.dropped)?.messages).toEqual(tls === 'gnutls' ? [HandshakeType.clientKeyExchange] : [HandshakeType.clientKeyExchange, 'ccs'])
      // A ChangeCipherSpec without the key exchange shows the client has our flight: we wait for it to repeat its
      // own rather than resend ours into its retransmission timer (which GnuTLS then restarts, and never repeats).
      if (tls === 'gnutls') expect(serverHellosSent(trace)).toBe(1)
    })

    it('completes with every server flight fragmented to an 80-byte PMTU, one fragment lost', async () => {
      const trace = await register(small, tls, (d, i) => d === 'toClient' && i === 2)
      const flight = trace.sent.filter((s) => s.direction === 'toClient' && s.index >= 1 && s.index <= 4)
      expect(flight.every((s) => s.messages.length > 0)).toBe(true)
      expect(serverHellosSent(trace)).toBeGreaterThanOrEqual(2)
    })
  })

  it("retransmits on its own timer: node-dtls-client, which never retransmits, loses the server's flight", async () => {
    service.setSecurity({ endpoint: 'ndc-lossy', identity: 'ndc-lossy-id', key: Buffer.from('lossy-secret-key').toString('hex') })
    const { relay, trace } = await lossyRelay(service.coapsPort, (d, i) => d === 'toClient' && i === 1)
    try {
      const socket = await connectDtls({ address: '127.0.0.1', port: relay.port }, { identity: 'ndc-lossy-id', key: Buffer.from('lossy-secret-key'), timeoutMs: 10_000 })
      await new Promise<void>((resolve) => socket.close(resolve))
      expect(serverHellosSent(trace)).toBeGreaterThanOrEqual(2)
    } finally {
      await relay.close()
    }
  })
})
