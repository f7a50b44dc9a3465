import { describe, it, expect } from 'vitest'
import { DisplayClock } from './display-clock.ts'

/** Simulate frames at 60 Hz while samples arrive in bursts every `burstS`; returns display times per frame. */
function simulate(clock: DisplayClock, seconds: number, burstS: number, stopAt = Infinity): { wall: number[]; shown: number[]; latest: number[] } {
  const wall: number[] = []
  const shown: number[] = []
  const latest: number[] = []
  for (let f = 0; f * (1 / 60) < seconds; f++) {
    const w = f / 60
    // data time runs 1000 s ahead of wall time and is delivered in bursts
    const delivered = Math.min(Math.floor(w / burstS) * burstS, stopAt)
    const l = 1000 + delivered
    wall.push(w)
    latest.push(l)
    shown.push(clock.update(w, l))
  }
  return { wall, shown, latest }
}

describe('DisplayClock', () => {
  it('starts a play-out delay behind the newest sample', () => {
    const c = new DisplayClock({ delayS: 0.3 })
    expect(Number.isNaN(c.time)).toBe(true)
    expect(c.update(5, 100)).toBeCloseTo(99.7, 12)
  })

  it('moves smoothly through bursty arrivals, never ahead of the data, settling at the delay', () => {
    const c = new DisplayClock({ delayS: 0.3 })
    const { shown, latest } = simulate(c, 20, 0.1)
    for (let i = 1; i < shown.length; i++) {
      const step = (shown[i] as number) - (shown[i - 1] as number)
      expect(step).toBeGreaterThanOrEqual(0)
      expect(shown[i] as number).toBeLessThanOrEqual(latest[i] as number)
      // after settling, every frame advances by about one frame period (no jumps per burst)
      if (i > 5 * 60) expect(Math.abs(step - 1 / 60)).toBeLessThan(0.004)
    }
    const lag = (latest[latest.length - 1] as number) - (shown[shown.length - 1] as number)
    expect(lag).toBeGreaterThan(0.15)
    expect(lag).toBeLessThan(0.45)
  })

  it('stops at the newest sample when data stops', () => {
    const c = new DisplayClock({ delayS: 0.3 })
    const { shown } = simulate(c, 10, 0.1, 4)
    expect(shown[shown.length - 1]).toBe(1004)
  })

  it('snaps after a jump of the data clock (reconnect, new time base)', () => {
    const c = new DisplayClock({ delayS: 0.3, snapS: 2 })
    c.update(0, 100)
    c.update(0.016, 100.1)
    expect(c.update(0.032, 500)).toBeCloseTo(499.7, 9)
    expect(c.update(0.048, 20)).toBeCloseTo(19.7, 9)
  })

  it('ignores frames without data and restarts after reset', () => {
    const c = new DisplayClock()
    expect(Number.isNaN(c.update(1, NaN))).toBe(true)
    c.update(1, 10)
    c.reset()
    expect(Number.isNaN(c.time)).toBe(true)
    expect(c.update(2, 50)).toBeCloseTo(49.7, 9)
  })
})
