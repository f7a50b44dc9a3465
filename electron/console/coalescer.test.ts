import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Coalescer } from './coalescer.ts'

describe('Coalescer', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('fires the first change at once and merges a burst into one trailing call per interval', () => {
    const fire = vi.fn()
    const c = new Coalescer(fire, 250)
    for (let i = 0; i < 20; i++) c.changed(false)
    expect(fire).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(249)
    expect(fire).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(1)
    expect(fire).toHaveBeenCalledTimes(2)
    // Changes every 10 ms for a second: about four calls, never more than one per 250 ms.
    for (let t = 0; t < 1000; t += 10) {
      c.changed(false)
      vi.advanceTimersByTime(10)
    }
    expect(fire.mock.calls.length - 2).toBeGreaterThanOrEqual(3)
    expect(fire.mock.calls.length - 2).toBeLessThanOrEqual(4)
  })

  it('fires urgent changes at once, taking the place of a pending trailing call', () => {
    const fire = vi.fn()
    const c = new Coalescer(fire, 250)
    c.changed(false)
    c.changed(false)
    c.changed(true)
    expect(fire).toHaveBeenCalledTimes(2)
    vi.advanceTimersByTime(1000)
    expect(fire).toHaveBeenCalledTimes(2)
  })

  it('drops a pending call when cancelled', () => {
    const fire = vi.fn()
    const c = new Coalescer(fire, 250)
    c.changed(false)
    c.changed(false)
    c.cancel()
    vi.advanceTimersByTime(1000)
    expect(fire).toHaveBeenCalledTimes(1)
  })
})
