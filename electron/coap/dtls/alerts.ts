/** TLS alerts (RFC 5246 §7.2, RFC 4279 §2). */

export const AlertLevel = { warning: 1, fatal: 2 } as const

export const AlertDescription = {
  closeNotify: 0,
  unexpectedMessage: 10,
  badRecordMac: 20,
  handshakeFailure: 40,
  illegalParameter: 47,
  accessDenied: 49,
  decodeError: 50,
  decryptError: 51,
  protocolVersion: 70,
  internalError: 80,
  noRenegotiation: 100,
  unknownPskIdentity: 115,
} as const

const NAMES = new Map<number, string>(Object.entries(AlertDescription).map(([name, code]) => [code, name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)]))

/** "unknown_psk_identity", or the number of an alert we do not name. */
export function alertName(description: number): string {
  return NAMES.get(description) ?? `alert ${description}`
}

export interface Alert {
  readonly level: number
  readonly description: number
}

export function encodeAlert(alert: Alert): Buffer {
  return Buffer.from([alert.level, alert.description])
}

export function parseAlert(fragment: Buffer): Alert | undefined {
  if (fragment.length !== 2) return undefined
  return { level: fragment[0] as number, description: fragment[1] as number }
}

export const fatal = (description: number): Alert => ({ level: AlertLevel.fatal, description })
