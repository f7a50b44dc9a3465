/** Results, not exceptions, across the API boundary (DESIGN.md). */

export type ErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'not_registered'
  | 'timeout'
  | 'unreachable'
  | 'decode_failed'
  | 'unsupported'
  | 'conflict'
  | 'queued_expired'
  | 'unauthorized'
  | 'rate_limited'
  /** The state of the console forbids it now: the local gateway is off, or not on the virtual radio. */
  | 'unavailable'
  | 'internal'

export interface ApiError {
  readonly code: ErrorCode
  readonly message: string
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ApiError }

export const ok = <T>(value: T): Result<T> => ({ ok: true, value })
export const fail = <T = never>(code: ErrorCode, message: string): Result<T> => ({ ok: false, error: { code, message } })

/** Every error code once (a code added to ErrorCode must be added here), for transports that check what they receive. */
const CODES: { readonly [C in ErrorCode]: true } = {
  invalid_input: true, not_found: true, not_registered: true, timeout: true, unreachable: true, decode_failed: true,
  unsupported: true, conflict: true, queued_expired: true, unauthorized: true, rate_limited: true, unavailable: true, internal: true,
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(CODES, code)
}
