import { describe, expect, it } from 'vitest'
import { ReplayWindow } from './replay-window.ts'

describe('ReplayWindow (RFC 6347 §4.1.2.6)', () => {
  it('accepts each sequence number once, in any order within 64', () => {
    const window = new ReplayWindow()
    for (const n of [5, 3, 9, 4, 70]) {
      expect(window.check(n), `first ${n}`).toBe(true)
      window.accept(n)
      expect(window.check(n), `again ${n}`).toBe(false)
    }
    // 70 is the newest: 7..70 is the window, so 9 is still remembered and 6 is too old.
    expect(window.check(9)).toBe(false)
    expect(window.check(8)).toBe(true)
    expect(window.check(6)).toBe(false)
  })

  it('checks without accepting: a record that fails to authenticate does not move the window', () => {
    const window = new ReplayWindow()
    window.accept(10)
    expect(window.check(1000)).toBe(true)
    expect(window.check(11)).toBe(true)
    window.accept(1000)
    expect(window.check(11)).toBe(false)
    expect(window.check(999)).toBe(true)
  })

  it('handles 48-bit sequence numbers', () => {
    const window = new ReplayWindow()
    const big = 2 ** 48 - 2
    window.accept(big)
    expect(window.check(big)).toBe(false)
    expect(window.check(big + 1)).toBe(true)
    expect(window.check(big - 63)).toBe(true)
    expect(window.check(big - 64)).toBe(false)
  })
})
