import type { CoapPeer, IncomingRequest } from '../coap/transport.ts'
import type { SecurityStore } from '../store/security-store.ts'
import type { Refusal } from './registration.ts'

/** Who sent a registration request: over DTLS with which PSK identity, or plain CoAP. */
export interface Session {
  readonly secure: boolean
  /** The PSK identity the DTLS peer authenticated with. */
  readonly identity?: string
  readonly peer: CoapPeer
}

export function sessionOf(request: IncomingRequest): Session {
  const secure = request.secure === true
  return { secure, ...(secure && request.pskIdentity !== undefined ? { identity: request.pskIdentity } : {}), peer: request.peer }
}

/** Decides whether a session may register (or update) as an endpoint; undefined allows it. */
export interface RegistrationAccess {
  check(endpoint: string, session: Session): Refusal | undefined
}

const forbidden = (diagnostic: string): Refusal => ({ code: '4.03', diagnostic })

export interface SecurityAccessOptions {
  /**
   * A plain-CoAP session the console itself vouches for (its own local gateway on loopback), let in whatever
   * the store and the policy say.
   */
  readonly trusted?: (endpoint: string, session: Session) => boolean
}

/**
 * The device-identity rules over the security store:
 * - over DTLS, the endpoint must be stored with exactly the identity the session authenticated with, so a valid
 *   identity of endpoint A cannot register as B;
 * - over plain CoAP, an endpoint stored with a PSK is refused (it must use DTLS); one stored as NoSec is let in;
 *   any other is refused when the policy refuses NoSec registrations.
 */
export function securityAccess(store: Pick<SecurityStore, 'get' | 'endpointOfIdentity' | 'policy'>, options: SecurityAccessOptions = {}): RegistrationAccess {
  return {
    check(endpoint, session) {
      const entry = store.get(endpoint)
      if (session.secure) {
        if (session.identity === undefined) return forbidden(`DTLS session without a PSK identity may not register as ${endpoint}`)
        if (entry?.mode === 'psk' && entry.identity === session.identity) return undefined
        const owner = store.endpointOfIdentity(session.identity)
        const bound = entry?.mode === 'psk' ? `${endpoint} is bound to another PSK identity` : `no PSK identity is bound to ${endpoint}`
        return forbidden(`PSK identity "${session.identity}" may not register as ${endpoint}: ${bound}${owner && owner !== endpoint ? ` (the identity belongs to ${owner})` : ''}`)
      }
      if (options.trusted?.(endpoint, session)) return undefined
      if (entry?.mode === 'psk') return forbidden(`${endpoint} has a PSK identity: it must register over DTLS (coaps), not plain CoAP`)
      if (entry?.mode === 'nosec') return undefined
      if (store.policy().refuseNoSec) return forbidden(`NoSec registrations are refused by this server's security policy; register ${endpoint} over DTLS with a PSK, or allow it as NoSec`)
      return undefined
    },
  }
}

/**
 * An Update, De-register or Send must come from the same kind of session as the Register did, with the same
 * PSK identity: a registration made over DTLS cannot be changed or removed from plain CoAP or another identity.
 */
export function sameSession(registered: { secure: boolean; identity?: string }, session: Session, what: string, endpoint: string): Refusal | undefined {
  if (registered.secure === session.secure && registered.identity === session.identity) return undefined
  const was = registered.secure ? `PSK identity "${registered.identity ?? ''}"` : 'plain CoAP'
  const now = session.secure ? `PSK identity "${session.identity ?? ''}"` : 'plain CoAP'
  return forbidden(`${what} of ${endpoint} refused: it registered with ${was}, this request came with ${now}`)
}
