import { describe, expect, it } from 'vitest'
import { filterWords, matchesWords } from './log-filter.ts'

describe('log filter', () => {
  it('matches when every word occurs, in any case and order', () => {
    const words = filterWords('  GW-1   /1031 ')
    expect(words).toEqual(['gw-1', '/1031'])
    expect(matchesWords('notification gw-1 /1031/0/1=5', words)).toBe(true)
    expect(matchesWords('notification gw-2 /1031/0/1=5', words)).toBe(false)
    expect(matchesWords('anything', filterWords(''))).toBe(true)
  })
})
