import { createHmac } from 'node:crypto'

/** The TLS 1.2 PRF with SHA-256 (RFC 5246 §5), the PRF of both our cipher suites. */
export function prf(secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const labelAndSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed])
  const hmac = (data: Buffer): Buffer => createHmac('sha256', secret).update(data).digest()
  const out: Buffer[] = []
  let produced = 0
  let a = hmac(labelAndSeed) // A(1)
  while (produced < length) {
    const block = hmac(Buffer.concat([a, labelAndSeed]))
    out.push(block)
    produced += block.length
    a = hmac(a)
  }
  return Buffer.concat(out).subarray(0, length)
}

/** RFC 4279 §2: as many zero bytes as the key is long, then the key, each with a 16-bit length. */
export function pskPremasterSecret(psk: Uint8Array): Buffer {
  const n = psk.length
  const out = Buffer.alloc(4 + 2 * n)
  out.writeUInt16BE(n, 0)
  out.writeUInt16BE(n, 2 + n)
  out.set(psk, 4 + n)
  return out
}

export function masterSecret(premaster: Buffer, clientRandom: Buffer, serverRandom: Buffer): Buffer {
  return prf(premaster, 'master secret', Buffer.concat([clientRandom, serverRandom]), 48)
}

/** RFC 7627: bound to the hash of the handshake up to ClientKeyExchange, so it differs per connection. */
export function extendedMasterSecret(premaster: Buffer, sessionHash: Buffer): Buffer {
  return prf(premaster, 'extended master secret', sessionHash, 48)
}

/** RFC 5246 §6.3: note the server random comes first here. */
export function keyBlock(master: Buffer, clientRandom: Buffer, serverRandom: Buffer, length: number): Buffer {
  return prf(master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), length)
}

export function verifyData(master: Buffer, sender: 'client' | 'server', transcriptHash: Buffer): Buffer {
  return prf(master, `${sender} finished`, transcriptHash, 12)
}
