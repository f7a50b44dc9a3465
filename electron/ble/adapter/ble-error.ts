import { attErrorName } from '../../../shared/ble/att-errors.ts'

/**
 * Why a BLE operation failed. `timeout`: no answer in time (noble may never call back, REFERENCE.md §3);
 * `att-error`: the peripheral answered with an ATT error; `disconnected`: the link went down during the operation;
 * `not-connected`: there was no link; `not-found`: unknown service / characteristic / descriptor;
 * `unavailable`: no usable adapter (see the adapter state); `closed`: the adapter was closed; `failed`: noble
 * reported an error; `invalid`: bad arguments.
 */
export type BleErrorCode = 'timeout' | 'att-error' | 'disconnected' | 'not-connected' | 'not-found' | 'unavailable' | 'closed' | 'failed' | 'invalid'

export class BleError extends Error {
  override readonly name = 'BleError'
  readonly code: BleErrorCode
  /** The ATT error code when code = 'att-error'. */
  readonly attError: number | undefined
  /** The disconnect reason when code = 'disconnected' (HCI status or noble's string). */
  readonly reason: number | string | undefined

  constructor(code: BleErrorCode, message: string, details: { attError?: number; reason?: number | string } = {}) {
    super(message)
    this.code = code
    this.attError = details.attError
    this.reason = details.reason
  }

  static att(operation: string, code: number, handle: number): BleError {
    return new BleError('att-error', `${operation}: ATT error ${attErrorName(code)} on handle 0x${handle.toString(16).padStart(4, '0')}`, { attError: code })
  }
}

export function isBleError(e: unknown): e is BleError {
  return e instanceof BleError
}
