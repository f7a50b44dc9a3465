/**
 * The DTLS server against a scripted client built from the same primitives (record, handshake messages, PRF,
 * ciphers): the behaviours no independent client can be made to show — renegotiation, replays, bad records,
 * unauthenticated alerts — and an asynchronous PSK lookup. Interop with real clients is in test/integration.
 */
import { createHash } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import { afterEach, describe, expect, it } from 'vitest'
import { AlertDescription, AlertLevel, encodeAlert, parseAlert } from './alerts.ts'
import { cipherSuiteNamed, keyBlockLength, splitKeyBlock, type RecordProtection } from './cipher-suites.ts'
import { encodeWhole, fragmentMessage, HandshakeType, parseHandshakeFragments, type HandshakeMessage } from './handshake-messages.ts'
import { extendedMasterSecret, keyBlock, masterSecret, pskPremasterSecret, verifyData } from './prf.ts'
import { ContentType, DTLS_1_2, encodeRecord, parseRecords, type DtlsRecord } from './record.ts'
import { DtlsServer, type PskLookup } from './server.ts'

const PSK = Buffer.from('scripted-secret')
const CCM_8 = cipherSuiteNamed('TLS_PSK_WITH_AES_128_CCM_8')

async function udp(): Promise<Socket> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()))
  return socket
}

/** A DTLS 1.2 PSK client, one flight at a time, with a queue of what the server sent. */
class ScriptedClient {
  readonly socket: Socket
  private readonly port: number
  private readonly inbox: Buffer[] = []
  private waiting: ((datagram: Buffer) => void) | undefined
  private sequence = 0
  private epoch1Sequence = 0
  writer: RecordProtection | undefined
  reader: RecordProtection | undefined

  constructor(socket: Socket, port: number) {
    this.socket = socket
    this.port = port
    socket.on('message', (msg: Buffer) => {
      if (this.waiting) {
        const resolve = this.waiting
        this.waiting = undefined
        resolve(msg)
      } else this.inbox.push(msg)
    })
  }

  send(...records: Buffer[]): void {
    this.socket.send(Buffer.concat(records), this.port, '127.0.0.1')
  }

  plain(type: number, payload: Buffer): Buffer {
    return encodeRecord({ type, version: DTLS_1_2, epoch: 0, sequence: this.sequence++, fragment: payload })
  }

  sealed(type: number, payload: Buffer, sequence = this.epoch1Sequence++): Buffer {
    return encodeRecord({ type, version: DTLS_1_2, epoch: 1, sequence, fragment: (this.writer as RecordProtection).seal(type, DTLS_1_2, 1, sequence, payload) })
  }

  /** The next datagram's records, or undefined after `ms`. */
  next(ms = 1000): Promise<DtlsRecord[] | undefined> {
    const queued = this.inbox.shift()
    if (queued) return Promise.resolve(parseRecords(queued))
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = undefined
        resolve(undefined)
      }, ms)
      this.waiting = (datagram) => {
        clearTimeout(timer)
        resolve(parseRecords(datagram))
      }
    })
  }

  open(record: DtlsRecord): Buffer | undefined {
    return record.epoch === 0 ? record.fragment : this.reader?.open(record.type, record.version, record.epoch, record.sequence, record.fragment)
  }

  /** A full handshake; resolves to the ServerHello's extension types. */
  async handshake(options: { identity: string; extendedMasterSecret: boolean; fragmentKeyExchange?: boolean }): Promise<number[]> {
    const random = Buffer.alloc(32, 7)
    const extensions = options.extendedMasterSecret ? Buffer.from([0, 4, 0x00, 0x17, 0, 0]) : Buffer.from([0, 0])
    const hello = (cookie: Buffer): Buffer => Buffer.concat([Buffer.from([0xfe, 0xfd]), random, Buffer.from([0, cookie.length]), cookie, Buffer.from([0, 2, 0xc0, 0xa8, 1, 0]), extensions])
    this.send(this.plain(ContentType.handshake, encodeWhole({ type: HandshakeType.clientHello, messageSeq: 0, body: hello(Buffer.alloc(0)) })))
    const verify = (await this.next()) as DtlsRecord[]
    const cookie = parseHandshakeFragments(verify[0]!.fragment)[0]!.body.subarray(3)
    const transcript = createHash('sha256')
    const clientHello: HandshakeMessage = { type: HandshakeType.clientHello, messageSeq: 1, body: hello(cookie) }
    transcript.update(encodeWhole(clientHello))
    this.send(this.plain(ContentType.handshake, encodeWhole(clientHello)))
    const flight = ((await this.next()) as DtlsRecord[]).flatMap((r) => parseHandshakeFragments(r.fragment))
    expect(flight.map((f) => f.type)).toEqual([HandshakeType.serverHello, HandshakeType.serverKeyExchange, HandshakeType.serverHelloDone])
    for (const f of flight) transcript.update(encodeWhole({ type: f.type, messageSeq: f.messageSeq, body: f.body }))
    const serverHello = flight[0]!.body
    const serverRandom = serverHello.subarray(2, 34)
    const extensionTypes: number[] = []
    for (let at = 34 + 1 + 3 + 2; at < serverHello.length; at += 4 + serverHello.readUInt16BE(at + 2)) extensionTypes.push(serverHello.readUInt16BE(at))
    const identity = Buffer.from(options.identity)
    const keyExchange: HandshakeMessage = { type: HandshakeType.clientKeyExchange, messageSeq: 2, body: Buffer.concat([Buffer.from([0, identity.length]), identity]) }
    transcript.update(encodeWhole(keyExchange))
    const sessionHash = transcript.copy().digest()
    const premaster = pskPremasterSecret(PSK)
    const master = extensionTypes.includes(0x17) ? extendedMasterSecret(premaster, sessionHash) : masterSecret(premaster, random, serverRandom)
    const keys = splitKeyBlock(CCM_8, keyBlock(master, random, serverRandom, keyBlockLength(CCM_8)))
    this.writer = CCM_8.protect(keys.client)
    this.reader = CCM_8.protect(keys.server)
    const finished: HandshakeMessage = { type: HandshakeType.finished, messageSeq: 3, body: verifyData(master, 'client', sessionHash) }
    transcript.update(encodeWhole(finished))
    if (options.fragmentKeyExchange) {
      // Fragments of 3 bytes, each in its own datagram, last one first.
      for (const fragment of fragmentMessage(keyExchange, 3).reverse()) this.send(this.plain(ContentType.handshake, fragment))
      this.send(this.plain(ContentType.changeCipherSpec, Buffer.from([1])), this.sealed(ContentType.handshake, encodeWhole(finished)))
    } else {
      this.send(this.plain(ContentType.handshake, encodeWhole(keyExchange)), this.plain(ContentType.changeCipherSpec, Buffer.from([1])), this.sealed(ContentType.handshake, encodeWhole(finished)))
    }
    const last = (await this.next()) as DtlsRecord[]
    if (last[0]?.type === ContentType.alert) throw new Error(`alert ${parseAlert(last[0].fragment)?.description}`)
    expect(last.map((r) => [r.type, r.epoch])).toEqual([[ContentType.changeCipherSpec, 0], [ContentType.handshake, 1]])
    const serverFinished = parseHandshakeFragments(this.open(last[1]!)!)[0]!
    expect(serverFinished.body).toEqual(verifyData(master, 'server', transcript.digest()))
    return extensionTypes
  }
}

describe('DtlsServer with a scripted client', () => {
  const cleanup: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c()
  })

  // The key comes asynchronously, as from a store: records behind the key exchange wait for it.
  async function setUp(pskFor: PskLookup = async (identity) => (identity === 'scripted' ? PSK : undefined)): Promise<{ server: DtlsServer; client: ScriptedClient; received: string[]; another: () => Promise<ScriptedClient> }> {
    const socket = await udp()
    const server = new DtlsServer(socket, { identityHint: 'hint', pskFor })
    const received: string[] = []
    server.onData((payload, session) => received.push(`${session.pskIdentity}:${payload.toString()}`))
    const clientSocket = await udp()
    cleanup.push(async () => {
      await server.close()
      socket.close()
      clientSocket.close()
    })
    const another = async (): Promise<ScriptedClient> => {
      const more = await udp()
      cleanup.push(async () => void more.close())
      return new ScriptedClient(more, socket.address().port)
    }
    return { server, client: new ScriptedClient(clientSocket, socket.address().port), received, another }
  }

  it.each([true, false])('completes a handshake (extended master secret offered: %s), then carries data both ways', async (ems) => {
    const { server, client, received } = await setUp()
    const extensions = await client.handshake({ identity: 'scripted', extendedMasterSecret: ems })
    expect(extensions.includes(0x17)).toBe(ems)
    const peer = { address: '127.0.0.1', port: client.socket.address().port }
    expect(server.session(peer)).toMatchObject({ pskIdentity: 'scripted', cipherSuite: 'TLS_PSK_WITH_AES_128_CCM_8' })
    client.send(client.sealed(ContentType.applicationData, Buffer.from('up')))
    await expect.poll(() => received).toEqual(['scripted:up'])
    expect(server.send(peer, Buffer.from('down'))).toBe(true)
    const [record] = (await client.next()) as DtlsRecord[]
    expect(client.open(record!)?.toString()).toBe('down')
  })

  it('reassembles a key exchange that comes in fragments, out of order', async () => {
    const { server, client } = await setUp()
    await client.handshake({ identity: 'scripted', extendedMasterSecret: true, fragmentKeyExchange: true })
    expect(server.stats().handshakesCompleted).toBe(1)
  })

  it('delivers a replayed record once, drops a tampered one without an alert, and keeps the session', async () => {
    const { client, received } = await setUp()
    await client.handshake({ identity: 'scripted', extendedMasterSecret: true })
    const record = client.sealed(ContentType.applicationData, Buffer.from('once'))
    client.send(record)
    client.send(record)
    const tampered = client.sealed(ContentType.applicationData, Buffer.from('forged'))
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1
    client.send(tampered)
    client.send(client.sealed(ContentType.applicationData, Buffer.from('after')))
    await expect.poll(() => received).toEqual(['scripted:once', 'scripted:after'])
    expect(await client.next(200)).toBeUndefined()
  })

  it('refuses renegotiation with a no_renegotiation warning and goes on', async () => {
    const { client, received } = await setUp()
    await client.handshake({ identity: 'scripted', extendedMasterSecret: true })
    client.send(client.sealed(ContentType.handshake, encodeWhole({ type: HandshakeType.clientHello, messageSeq: 4, body: Buffer.alloc(40) })))
    const [alert] = (await client.next()) as DtlsRecord[]
    expect(parseAlert(client.open(alert!)!)).toEqual({ level: AlertLevel.warning, description: AlertDescription.noRenegotiation })
    client.send(client.sealed(ContentType.applicationData, Buffer.from('still here')))
    await expect.poll(() => received).toEqual(['scripted:still here'])
  })

  it('ignores an unauthenticated (epoch 0) alert on a session, and answers an encrypted close_notify with one', async () => {
    const { server, client } = await setUp()
    await client.handshake({ identity: 'scripted', extendedMasterSecret: true })
    const peer = { address: '127.0.0.1', port: client.socket.address().port }
    client.send(client.plain(ContentType.alert, encodeAlert({ level: AlertLevel.fatal, description: AlertDescription.handshakeFailure })))
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(server.session(peer)).toBeDefined()
    client.send(client.sealed(ContentType.alert, encodeAlert({ level: AlertLevel.warning, description: AlertDescription.closeNotify })))
    const [reply] = (await client.next()) as DtlsRecord[]
    expect(parseAlert(client.open(reply!)!)).toEqual({ level: AlertLevel.warning, description: AlertDescription.closeNotify })
    expect(server.session(peer)).toBeUndefined()
    expect(server.stats()).toMatchObject({ sessions: 0, handshakes: 0, handshakesCompleted: 1 })
  })

  it('says close_notify to every session when it closes', async () => {
    const { server, client } = await setUp()
    await client.handshake({ identity: 'scripted', extendedMasterSecret: false })
    await server.close()
    const [alert] = (await client.next()) as DtlsRecord[]
    expect(parseAlert(client.open(alert!)!)).toEqual({ level: AlertLevel.warning, description: AlertDescription.closeNotify })
  })

  it('closes the sessions of a revoked identity with an encrypted close_notify, keeps the others, and wants a new handshake', async () => {
    const { server, client, received, another } = await setUp(async (identity) => (identity === 'scripted' || identity === 'other' ? PSK : undefined))
    const other = await another()
    await client.handshake({ identity: 'scripted', extendedMasterSecret: true })
    await other.handshake({ identity: 'other', extendedMasterSecret: true })
    const peer = { address: '127.0.0.1', port: client.socket.address().port }
    expect(server.closeSessions('scripted', 'its key was revoked')).toBe(1)
    const [alert] = (await client.next()) as DtlsRecord[]
    expect(alert).toMatchObject({ type: ContentType.alert, epoch: 1 })
    expect(parseAlert(client.open(alert!)!)).toEqual({ level: AlertLevel.warning, description: AlertDescription.closeNotify })
    expect(server.session(peer)).toBeUndefined()
    expect(server.stats().sessions).toBe(1)
    // A record of the old session is not delivered; after a new handshake, data flows again.
    client.send(client.sealed(ContentType.applicationData, Buffer.from('stale')))
    other.send(other.sealed(ContentType.applicationData, Buffer.from('untouched')))
    await client.handshake({ identity: 'scripted', extendedMasterSecret: true })
    client.send(client.sealed(ContentType.applicationData, Buffer.from('fresh')))
    await expect.poll(() => [...received].sort()).toEqual(['other:untouched', 'scripted:fresh'])
    expect(server.stats()).toMatchObject({ sessions: 2, handshakesCompleted: 3 })
  })

  it('ends with access_denied a handshake whose identity is revoked while its key is looked up', async () => {
    let lookedUp!: () => void
    const lookup = new Promise<void>((resolve) => (lookedUp = resolve))
    let answer!: (key: Buffer) => void
    const { server, client } = await setUp((identity) => {
      expect(identity).toBe('scripted')
      lookedUp()
      return new Promise((resolve) => (answer = resolve))
    })
    const handshake = client.handshake({ identity: 'scripted', extendedMasterSecret: true })
    await lookup
    expect(server.closeSessions('scripted', 'its key was revoked')).toBe(0)
    // The old key arrives too late: the handshake is over.
    answer(PSK)
    await expect(handshake).rejects.toThrow(`alert ${AlertDescription.accessDenied}`)
    expect(server.stats()).toMatchObject({ sessions: 0, handshakes: 0, handshakesFailed: 1, handshakesCompleted: 0 })
  })

  it('answers an unknown identity with a fatal unknown_psk_identity', async () => {
    const { server, client } = await setUp()
    await expect(client.handshake({ identity: 'stranger', extendedMasterSecret: false })).rejects.toThrow(`alert ${AlertDescription.unknownPskIdentity}`)
    expect(server.stats()).toMatchObject({ sessions: 0, handshakes: 0, handshakesFailed: 1 })
  })
})
