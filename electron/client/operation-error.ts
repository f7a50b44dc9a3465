import { isCodecError } from '../../shared/lwm2m/errors.ts'

/** Why an operation on the client's objects failed; each kind is one CoAP response code. */
export type OperationErrorKind =
  | 'bad_request'
  | 'unauthorized'
  | 'not_found'
  | 'not_allowed'
  | 'not_acceptable'
  | 'unsupported_format'
  | 'internal'
  | 'unavailable'
  | 'gateway_timeout'

export const OPERATION_ERROR_CODES: Readonly<Record<OperationErrorKind, string>> = {
  bad_request: '4.00',
  unauthorized: '4.01',
  not_found: '4.04',
  not_allowed: '4.05',
  not_acceptable: '4.06',
  unsupported_format: '4.15',
  internal: '5.00',
  unavailable: '5.03',
  gateway_timeout: '5.04',
}

/**
 * Thrown by the object tree and by resource handlers (e.g. a BLE read that timed out throws
 * `new OperationError('gateway_timeout', 'sensor ecg-1 did not answer within 2 s')`); the client answers
 * the server with its code and the message as diagnostic payload.
 */
export class OperationError extends Error {
  override readonly name = 'OperationError'
  readonly kind: OperationErrorKind
  constructor(kind: OperationErrorKind, message: string) {
    super(message)
    this.kind = kind
  }

  get code(): string {
    return OPERATION_ERROR_CODES[this.kind]
  }
}

/** Any failure as an OperationError: codec errors are the server's bad input, anything else is ours. */
export function toOperationError(e: unknown): OperationError {
  if (e instanceof OperationError) return e
  if (isCodecError(e)) return new OperationError('bad_request', e.message)
  return new OperationError('internal', e instanceof Error ? e.message : String(e))
}
