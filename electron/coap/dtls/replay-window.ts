const WINDOW = 64n
const MASK = (1n << WINDOW) - 1n

/**
 * The anti-replay window of one epoch (RFC 6347 §4.1.2.6): the highest sequence number seen and a
 * bitmap of the 64 before it. `accept` only after the record has been authenticated.
 */
export class ReplayWindow {
  private latest = -1
  /** Bit i set: sequence number latest - i was received. */
  private seen = 0n

  /** False for a duplicate or a record older than the window. */
  check(sequence: number): boolean {
    if (sequence > this.latest) return true
    const age = this.latest - sequence
    if (age >= Number(WINDOW)) return false
    return ((this.seen >> BigInt(age)) & 1n) === 0n
  }

  accept(sequence: number): void {
    if (sequence > this.latest) {
      const shift = sequence - this.latest
      this.seen = shift >= Number(WINDOW) ? 1n : ((this.seen << BigInt(shift)) | 1n) & MASK
      this.latest = sequence
    } else {
      this.seen |= 1n << BigInt(this.latest - sequence)
    }
  }
}
