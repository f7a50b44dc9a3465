import { createCipheriv, createDecipheriv, createHmac, randomFillSync, timingSafeEqual } from 'node:crypto'
import { aesCcm } from './aes-ccm.ts'
import { additionalData } from './record.ts'

/** Protects the records of one direction of one epoch. */
export interface RecordProtection {
  /** The most bytes protection adds to a record's fragment (for PMTU arithmetic). */
  readonly overhead: number
  seal(type: number, version: number, epoch: number, sequence: number, plaintext: Buffer): Buffer
  /** The plaintext, or undefined when the record does not authenticate. */
  open(type: number, version: number, epoch: number, sequence: number, fragment: Buffer): Buffer | undefined
}

export interface DirectionKeys {
  readonly macKey: Buffer
  readonly key: Buffer
  readonly iv: Buffer
}

export interface CipherSuite {
  readonly id: number
  readonly name: CipherSuiteName
  readonly macKeyLength: number
  readonly keyLength: number
  readonly fixedIvLength: number
  protect(keys: DirectionKeys): RecordProtection
}

export type CipherSuiteName = 'TLS_PSK_WITH_AES_128_CCM_8' | 'TLS_PSK_WITH_AES_128_CBC_SHA256'

const CCM_TAG_LENGTH = 8
const EXPLICIT_NONCE_LENGTH = 8

/** RFC 6655 §3 with DTLS's explicit nonce: epoch and sequence number; 8-byte tag (RFC 6655 §4). */
function aes128Ccm8(keys: DirectionKeys): RecordProtection {
  const nonceOf = (explicit: Buffer): Buffer => Buffer.concat([keys.iv, explicit])
  return {
    overhead: EXPLICIT_NONCE_LENGTH + CCM_TAG_LENGTH,
    seal(type, version, epoch, sequence, plaintext) {
      const explicit = Buffer.allocUnsafe(EXPLICIT_NONCE_LENGTH)
      explicit.writeUInt16BE(epoch, 0)
      explicit.writeUIntBE(sequence, 2, 6)
      const { ciphertext, tag } = aesCcm.seal(keys.key, nonceOf(explicit), additionalData(type, version, epoch, sequence, plaintext.length), plaintext, CCM_TAG_LENGTH)
      return Buffer.concat([explicit, ciphertext, tag])
    },
    open(type, version, epoch, sequence, fragment) {
      if (fragment.length < EXPLICIT_NONCE_LENGTH + CCM_TAG_LENGTH) return undefined
      const ciphertext = fragment.subarray(EXPLICIT_NONCE_LENGTH, fragment.length - CCM_TAG_LENGTH)
      const nonce = nonceOf(fragment.subarray(0, EXPLICIT_NONCE_LENGTH))
      return aesCcm.open(keys.key, nonce, additionalData(type, version, epoch, sequence, ciphertext.length), ciphertext, fragment.subarray(fragment.length - CCM_TAG_LENGTH))
    },
  }
}

const BLOCK = 16
const MAC_LENGTH = 32

/** RFC 5246 §6.2.3.2: HMAC-SHA256 over the plaintext, then padded and AES-128-CBC encrypted under an explicit IV. */
function aes128CbcSha256(keys: DirectionKeys): RecordProtection {
  const mac = (type: number, version: number, epoch: number, sequence: number, content: Buffer): Buffer =>
    createHmac('sha256', keys.macKey).update(additionalData(type, version, epoch, sequence, content.length)).update(content).digest()
  return {
    overhead: BLOCK + MAC_LENGTH + BLOCK,
    seal(type, version, epoch, sequence, plaintext) {
      const padLength = (BLOCK - ((plaintext.length + MAC_LENGTH + 1) % BLOCK)) % BLOCK
      const padded = Buffer.concat([plaintext, mac(type, version, epoch, sequence, plaintext), Buffer.alloc(padLength + 1, padLength)])
      const iv = randomFillSync(Buffer.allocUnsafe(BLOCK))
      const cipher = createCipheriv('aes-128-cbc', keys.key, iv).setAutoPadding(false)
      return Buffer.concat([iv, cipher.update(padded), cipher.final()])
    },
    open(type, version, epoch, sequence, fragment) {
      if (fragment.length < 2 * BLOCK + MAC_LENGTH || fragment.length % BLOCK !== 0) return undefined
      const decipher = createDecipheriv('aes-128-cbc', keys.key, fragment.subarray(0, BLOCK)).setAutoPadding(false)
      const padded = Buffer.concat([decipher.update(fragment.subarray(BLOCK)), decipher.final()])
      const padLength = padded[padded.length - 1] as number
      let padOk = padLength + 1 + MAC_LENGTH <= padded.length
      for (let i = 1; padOk && i <= padLength; i++) padOk = padded[padded.length - 1 - i] === padLength
      // On bad padding the MAC is still computed (over the record as if unpadded), so both failures take alike long.
      const contentLength = padOk ? padded.length - padLength - 1 - MAC_LENGTH : padded.length - MAC_LENGTH
      const content = padded.subarray(0, contentLength)
      const expected = mac(type, version, epoch, sequence, content)
      const macOk = timingSafeEqual(expected, padded.subarray(contentLength, contentLength + MAC_LENGTH))
      return padOk && macOk ? content : undefined
    },
  }
}

export const CIPHER_SUITES: readonly CipherSuite[] = [
  { id: 0xc0a8, name: 'TLS_PSK_WITH_AES_128_CCM_8', macKeyLength: 0, keyLength: 16, fixedIvLength: 4, protect: aes128Ccm8 },
  { id: 0x00ae, name: 'TLS_PSK_WITH_AES_128_CBC_SHA256', macKeyLength: 32, keyLength: 16, fixedIvLength: 0, protect: aes128CbcSha256 },
]

export function cipherSuiteNamed(name: CipherSuiteName): CipherSuite {
  const suite = CIPHER_SUITES.find((s) => s.name === name)
  if (!suite) throw new Error(`unknown cipher suite ${String(name)}`)
  return suite
}

/** Splits a key block (RFC 5246 §6.3) into the client's and the server's write keys. */
export function splitKeyBlock(suite: CipherSuite, block: Buffer): { client: DirectionKeys; server: DirectionKeys } {
  let offset = 0
  const take = (n: number): Buffer => block.subarray(offset, (offset += n))
  const clientMac = take(suite.macKeyLength)
  const serverMac = take(suite.macKeyLength)
  const clientKey = take(suite.keyLength)
  const serverKey = take(suite.keyLength)
  const clientIv = take(suite.fixedIvLength)
  const serverIv = take(suite.fixedIvLength)
  return { client: { macKey: clientMac, key: clientKey, iv: clientIv }, server: { macKey: serverMac, key: serverKey, iv: serverIv } }
}

export const keyBlockLength = (suite: CipherSuite): number => 2 * (suite.macKeyLength + suite.keyLength + suite.fixedIvLength)
