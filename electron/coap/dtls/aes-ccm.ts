import { createCipheriv, createDecipheriv, getCiphers, timingSafeEqual } from 'node:crypto'

/**
 * AES-128-CCM (RFC 3610) built from AES blocks, for runtimes whose crypto has no CCM mode: Electron links
 * BoringSSL, which lacks `aes-128-ccm`, and CCM_8 is the cipher suite LwM2M makes mandatory. Node's OpenSSL
 * has it, so there the native mode is used. The nonce is 15 − L bytes; DTLS uses 12 (L = 3).
 */
export interface Ccm {
  seal(key: Buffer, nonce: Buffer, aad: Buffer, plaintext: Buffer, tagLength: number): { ciphertext: Buffer; tag: Buffer }
  /** The plaintext, or undefined when the tag does not verify. */
  open(key: Buffer, nonce: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer): Buffer | undefined
}

const BLOCK = 16

function counterBlock(nonce: Buffer, counter: number): Buffer {
  const L = 15 - nonce.length
  const a = Buffer.alloc(BLOCK)
  a[0] = L - 1
  nonce.copy(a, 1)
  a.writeUIntBE(counter, BLOCK - L, L)
  return a
}

/** CBC-MAC over B0, the encoded AAD and the message, each zero-padded to blocks (RFC 3610 §2.2). */
function cbcMac(key: Buffer, nonce: Buffer, aad: Buffer, message: Buffer, tagLength: number): Buffer {
  const L = 15 - nonce.length
  const b0 = Buffer.alloc(BLOCK)
  b0[0] = (aad.length > 0 ? 0x40 : 0) | (((tagLength - 2) / 2) << 3) | (L - 1)
  nonce.copy(b0, 1)
  b0.writeUIntBE(message.length, BLOCK - L, L)
  // AAD lengths below 2^16 − 2^8 take two bytes, which is all a DTLS record's 13 bytes need.
  if (aad.length >= 0xff00) throw new Error(`CCM: additional data of ${aad.length} bytes is more than this implementation encodes`)
  const header = aad.length > 0 ? Buffer.concat([Buffer.from([aad.length >> 8, aad.length & 0xff]), aad]) : Buffer.alloc(0)
  const pad = (b: Buffer): Buffer => (b.length % BLOCK === 0 ? b : Buffer.concat([b, Buffer.alloc(BLOCK - (b.length % BLOCK))]))
  const mac = createCipheriv('aes-128-cbc', key, Buffer.alloc(BLOCK)).setAutoPadding(false)
  const out = Buffer.concat([mac.update(Buffer.concat([b0, pad(header), pad(message)])), mac.final()])
  return out.subarray(out.length - BLOCK)
}

/** Counter mode from A1 for the message; S0 (= E(A0)) masks the tag. */
function ctr(key: Buffer, nonce: Buffer, data: Buffer): { out: Buffer; s0: Buffer } {
  const s0 = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false).update(counterBlock(nonce, 0))
  const stream = createCipheriv('aes-128-ctr', key, counterBlock(nonce, 1))
  return { out: Buffer.concat([stream.update(data), stream.final()]), s0 }
}

function xorPrefix(a: Buffer, b: Buffer, length: number): Buffer {
  const out = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) out[i] = (a[i] as number) ^ (b[i] as number)
  return out
}

export const blockCcm: Ccm = {
  seal(key, nonce, aad, plaintext, tagLength) {
    const t = cbcMac(key, nonce, aad, plaintext, tagLength)
    const { out, s0 } = ctr(key, nonce, plaintext)
    return { ciphertext: out, tag: xorPrefix(t, s0, tagLength) }
  },
  open(key, nonce, aad, ciphertext, tag) {
    const { out: plaintext, s0 } = ctr(key, nonce, ciphertext)
    const expected = xorPrefix(cbcMac(key, nonce, aad, plaintext, tag.length), s0, tag.length)
    return timingSafeEqual(expected, tag) ? plaintext : undefined
  },
}

export const nativeCcm: Ccm = {
  seal(key, nonce, aad, plaintext, tagLength) {
    const cipher = createCipheriv('aes-128-ccm', key, nonce, { authTagLength: tagLength })
    cipher.setAAD(aad, { plaintextLength: plaintext.length })
    const ciphertext = cipher.update(plaintext)
    cipher.final()
    return { ciphertext, tag: cipher.getAuthTag() }
  },
  open(key, nonce, aad, ciphertext, tag) {
    try {
      const decipher = createDecipheriv('aes-128-ccm', key, nonce, { authTagLength: tag.length })
      decipher.setAuthTag(tag)
      decipher.setAAD(aad, { plaintextLength: ciphertext.length })
      const plaintext = decipher.update(ciphertext)
      decipher.final()
      return plaintext
    } catch {
      return undefined
    }
  },
}

/** The native mode where the runtime's crypto has it (Node), else the block construction (Electron). */
export const aesCcm: Ccm = getCiphers().includes('aes-128-ccm') ? nativeCcm : blockCcm
