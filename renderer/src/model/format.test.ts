import { describe, expect, it } from 'vitest'
import { formatAgo, formatClock, formatClockMs, formatSeconds } from './format.ts'

describe('format', () => {
  it('says how long ago', () => {
    expect(formatAgo(1000, 1500)).toBe('just now')
    expect(formatAgo(0, 42_000)).toBe('42 s ago')
    expect(formatAgo(0, 5 * 60_000)).toBe('5 min ago')
    expect(formatAgo(0, 3 * 3_600_000)).toBe('3 h ago')
    expect(formatAgo(0, 2 * 86_400_000)).toBe('2 d ago')
  })

  it('writes durations', () => {
    expect(formatSeconds(60)).toBe('60 s')
    expect(formatSeconds(300)).toBe('5 min')
    expect(formatSeconds(330)).toBe('5 min 30 s')
    expect(formatSeconds(5400)).toBe('1 h 30 min')
    expect(formatSeconds(86_400)).toBe('24 h')
    expect(formatSeconds(3 * 86_400)).toBe('3 d')
  })

  it('writes clock times, with the date when not today', () => {
    const t = new Date(2024, 4, 1, 9, 5, 7, 25).getTime()
    expect(formatClock(t, t)).toBe('09:05:07')
    expect(formatClock(t, t + 86_400_000)).toBe('2024-05-01 09:05:07')
    expect(formatClockMs(t)).toBe('09:05:07.025')
  })
})
