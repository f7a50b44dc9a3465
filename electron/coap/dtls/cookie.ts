import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

const COOKIE_LENGTH = 16

export interface CookiePeer {
  readonly address: string
  readonly port: number
}

/**
 * Stateless HelloVerifyRequest cookies (RFC 6347 §4.2.1): an HMAC over the client's address and its
 * ClientHello parameters under a secret that rotates; a cookie of the previous secret is still good,
 * so a client that got one just before a rotation is not turned away.
 */
export class CookieJar {
  private secret = randomBytes(32)
  private previous: Buffer | undefined
  private rotatedAt: number
  private readonly rotateMs: number
  private readonly now: () => number

  constructor(options: { rotateMs?: number; now?: () => number } = {}) {
    this.rotateMs = options.rotateMs ?? 300_000
    this.now = options.now ?? Date.now
    this.rotatedAt = this.now()
  }

  cookieFor(peer: CookiePeer, clientParameters: Buffer): Buffer {
    this.rotateIfDue()
    return this.mac(this.secret, peer, clientParameters)
  }

  verify(peer: CookiePeer, clientParameters: Buffer, cookie: Buffer): boolean {
    if (cookie.length !== COOKIE_LENGTH) return false
    this.rotateIfDue()
    const matches = (secret: Buffer | undefined): boolean => secret !== undefined && timingSafeEqual(this.mac(secret, peer, clientParameters), cookie)
    return matches(this.secret) || matches(this.previous)
  }

  private rotateIfDue(): void {
    if (this.now() - this.rotatedAt < this.rotateMs) return
    this.previous = this.secret
    this.secret = randomBytes(32)
    this.rotatedAt = this.now()
  }

  private mac(secret: Buffer, peer: CookiePeer, clientParameters: Buffer): Buffer {
    return createHmac('sha256', secret).update(`${peer.address}\0${peer.port}\0`).update(clientParameters).digest().subarray(0, COOKIE_LENGTH)
  }
}
