/**
 * The time the trace is drawn up to. Samples arrive in bursts (one notification carries a batch), so drawing up
 * to the newest sample would make the sweep jump once per notification. Instead the display time advances with
 * the wall clock, a little behind the newest sample (the play-out delay), and is steered gently towards that
 * delay: smooth motion, and never ahead of the data. When data stops, the trace stops at the last sample; after a
 * jump (a reconnect, a large backlog) it snaps.
 */
export interface DisplayClockOptions {
  /** Target lag behind the newest sample (s). Default 0.3, about one notification interval. */
  delayS?: number
  /** A lag beyond this (s) is not caught up smoothly but snapped. Default 2. */
  snapS?: number
  /** Share of the lag error corrected per second. Default 1 (about 1 s to settle). */
  gainPerS?: number
}

export class DisplayClock {
  private readonly delayS: number
  private readonly snapS: number
  private readonly gainPerS: number
  private t = NaN
  private lastWall = NaN

  constructor(options: DisplayClockOptions = {}) {
    this.delayS = options.delayS ?? 0.3
    this.snapS = options.snapS ?? 2
    this.gainPerS = options.gainPerS ?? 1
  }

  /** Display time for a frame at wall time `wallS` (s, monotonic) when the newest sample is at `latestS`. */
  update(wallS: number, latestS: number): number {
    if (!Number.isFinite(latestS)) return this.t
    if (!Number.isFinite(this.t) || !Number.isFinite(this.lastWall)) {
      this.t = latestS - this.delayS
      this.lastWall = wallS
      return this.t
    }
    const dWall = Math.max(0, Math.min(1, wallS - this.lastWall))
    this.lastWall = wallS
    let t = this.t + dWall
    const lag = latestS - t
    if (lag > this.snapS || lag < -this.snapS) {
      t = latestS - this.delayS
    } else {
      // steer towards the target delay; never run past the newest sample
      t += (lag - this.delayS) * Math.min(1, this.gainPerS * dWall)
      if (t > latestS) t = latestS
    }
    this.t = t
    return t
  }

  /** The last display time (NaN before the first update). */
  get time(): number {
    return this.t
  }

  reset(): void {
    this.t = NaN
    this.lastWall = NaN
  }
}
