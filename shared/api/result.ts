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
  | 'internal'

export interface ApiError {
  readonly code: ErrorCode
  readonly message: string
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ApiError }

export const ok = <T>(value: T): Result<T> => ({ ok: true, value })
export const fail = <T = never>(code: ErrorCode, message: string): Result<T> => ({ ok: false, error: { code, message } })
