import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DecodeError, encodeWhole, fragmentMessage, HandshakeType, parseClientHello, parseClientKeyExchange, parseHandshakeFragments, serverHelloBody } from './handshake-messages.ts'
import { HandshakeReassembler } from './reassembly.ts'

/** A ClientHello as OpenSSL sends one: DTLS 1.2, a cookie, CCM_8 and the SCSV, null compression, two extensions. */
function clientHello(cookie: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from([0xfe, 0xfd]),
    Buffer.alloc(32, 0xaa),
    Buffer.from([0]), // session_id
    Buffer.from([cookie.length]),
    cookie,
    Buffer.from([0, 4, 0xc0, 0xa8, 0x00, 0xff]),
    Buffer.from([1, 0]),
    Buffer.from([0, 9, 0x00, 0x17, 0, 0, 0xff, 0x01, 0, 1, 0]),
  ])
}

describe('ClientHello', () => {
  it('parses version, random, cookie, suites, compression and extensions', () => {
    const hello = parseClientHello(clientHello(Buffer.from('cookie')))
    expect(hello.version).toBe(0xfefd)
    expect(hello.random).toEqual(Buffer.alloc(32, 0xaa))
    expect(hello.cookie.toString()).toBe('cookie')
    expect(hello.cipherSuites).toEqual([0xc0a8, 0x00ff])
    expect([...hello.compressionMethods]).toEqual([0])
    expect([...hello.extensions.keys()]).toEqual([0x0017, 0xff01])
  })

  it('covers with the cookie input everything but the cookie and the extensions', () => {
    expect(parseClientHello(clientHello(Buffer.alloc(0))).cookieInput).toEqual(parseClientHello(clientHello(Buffer.from('cookie'))).cookieInput)
  })

  it('names what is wrong in a malformed hello', () => {
    const full = clientHello(Buffer.alloc(0))
    expect(() => parseClientHello(full.subarray(0, 20))).toThrow(new DecodeError('client_version and random: needs 34 bytes, 20 left'))
    expect(() => parseClientHello(full.subarray(0, full.length - 3))).toThrow(DecodeError)
    const oddSuites = Buffer.from(full)
    oddSuites[36] = 3
    expect(() => parseClientHello(oddSuites)).toThrow(/cipher_suites/)
  })

  it('throws only DecodeError on any input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        try {
          parseClientHello(Buffer.from(bytes))
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError)
        }
      }),
    )
  })
})

describe('ServerHello and ClientKeyExchange', () => {
  it('writes no session_id, the suite, null compression and the extensions', () => {
    const body = serverHelloBody({ version: 0xfefd, random: Buffer.alloc(32, 1), cipherSuite: 0xc0a8, extensions: new Map([[0xff01, Buffer.from([0])]]) })
    expect(body.subarray(34).toString('hex')).toBe('00' + 'c0a8' + '00' + '0005' + 'ff01' + '0001' + '00')
  })

  it('reads the PSK identity', () => {
    expect(parseClientKeyExchange(Buffer.from([0, 4, ...Buffer.from('dev1')])).toString()).toBe('dev1')
    expect(() => parseClientKeyExchange(Buffer.from([0, 9, 1]))).toThrow(/psk_identity/)
  })
})

describe('fragmentation and reassembly (RFC 6347 §4.2.3)', () => {
  it('puts a message back together from its fragments in any order, duplicates and overlaps included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 64 }), fc.integer(), (bytes, size, seed) => {
        const message = { type: HandshakeType.clientKeyExchange, messageSeq: 2, body: Buffer.from(bytes) }
        const fragments = fragmentMessage(message, size).flatMap((f) => parseHandshakeFragments(f))
        const shuffled = [...fragments, fragments[0]!].sort((x, y) => ((x.offset * 7919 + seed) % 101) - ((y.offset * 7919 + seed) % 101))
        const reassembler = new HandshakeReassembler()
        for (const fragment of shuffled.slice(0, -1)) {
          expect(reassembler.take(2)).toBeUndefined()
          reassembler.add(fragment, 2)
        }
        reassembler.add(shuffled[shuffled.length - 1]!, 2)
        expect(reassembler.take(2)).toEqual(message)
        expect(reassembler.take(2)).toBeUndefined()
      }),
    )
  })

  it('keeps an unfragmented message whole, as the transcript hashes it', () => {
    const message = { type: HandshakeType.finished, messageSeq: 4, body: Buffer.alloc(12, 5) }
    expect(fragmentMessage(message, 100)).toEqual([encodeWhole(message)])
    expect(fragmentMessage({ ...message, body: Buffer.alloc(0) }, 100)).toHaveLength(1)
  })

  it('ignores fragments of messages already taken or too far ahead, and refuses contradicting ones', () => {
    const reassembler = new HandshakeReassembler({ lookahead: 2 })
    const [head] = parseHandshakeFragments(fragmentMessage({ type: 16, messageSeq: 1, body: Buffer.alloc(20) }, 10)[0]!)
    reassembler.add(head!, 2)
    reassembler.add({ ...head!, messageSeq: 9 }, 2)
    expect(reassembler.take(1)).toBeUndefined()
    reassembler.add({ ...head!, messageSeq: 2 }, 2)
    expect(() => reassembler.add({ ...head!, messageSeq: 2, type: 20 }, 2)).toThrow(DecodeError)
    expect(() => reassembler.add({ ...head!, messageSeq: 3, length: 100_000 }, 2)).toThrow(/exceeds/)
  })

  it('refuses a fragment that claims to reach past its message', () => {
    const bytes = fragmentMessage({ type: 16, messageSeq: 0, body: Buffer.alloc(20) }, 10)[1]!
    bytes.writeUIntBE(15, 6, 3) // offset 15 + 10 > 20
    expect(() => parseHandshakeFragments(bytes)).toThrow(/exceeds the message length/)
  })
})
