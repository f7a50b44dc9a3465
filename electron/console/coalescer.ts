/**
 * Rate-limits a notification: ordinary changes fire at most once per interval (those in between merge into one
 * trailing call), urgent ones fire at once. The local gateway's status events go through one.
 */
export class Coalescer {
  private readonly fire: () => void
  private readonly intervalMs: number
  private readonly now: () => number
  private timer: ReturnType<typeof setTimeout> | undefined
  private lastFiredAt = -Infinity

  constructor(fire: () => void, intervalMs: number, now: () => number = Date.now) {
    this.fire = fire
    this.intervalMs = intervalMs
    this.now = now
  }

  changed(urgent: boolean): void {
    const wait = this.lastFiredAt + this.intervalMs - this.now()
    if (urgent || wait <= 0) {
      this.cancel()
      this.lastFiredAt = this.now()
      this.fire()
      return
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined
      this.lastFiredAt = this.now()
      this.fire()
    }, wait)
  }

  /** Drops a pending trailing call. */
  cancel(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }
}
