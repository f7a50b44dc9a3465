import { describe, expect, it } from 'vitest'
import { RingBuffer } from './ring-buffer.ts'

describe('RingBuffer', () => {
  it('keeps items oldest first until full', () => {
    const b = new RingBuffer<number>(3)
    b.push(1)
    b.push(2)
    expect(b.toArray()).toEqual([1, 2])
    expect(b.size).toBe(2)
    expect(b.last()).toBe(2)
  })

  it('overwrites the oldest when full and counts what it dropped', () => {
    const b = new RingBuffer<number>(3)
    b.pushAll([1, 2, 3, 4, 5])
    expect(b.toArray()).toEqual([3, 4, 5])
    expect(b.at(0)).toBe(3)
    expect(b.at(3)).toBeUndefined()
    expect(b.total).toBe(5)
    expect(b.dropped).toBe(2)
  })

  it('gives the newest matching items, newest first', () => {
    const b = new RingBuffer<number>(5)
    b.pushAll([1, 2, 3, 4, 5, 6, 7])
    expect(b.latest(2)).toEqual([7, 6])
    expect(b.latest(10, (n) => n % 2 === 0)).toEqual([6, 4])
  })

  it('clears', () => {
    const b = new RingBuffer<string>(2)
    b.pushAll(['a', 'b', 'c'])
    b.clear()
    expect(b.toArray()).toEqual([])
    b.push('d')
    expect(b.toArray()).toEqual(['d'])
  })

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new RingBuffer(0)).toThrow(/positive integer/)
    expect(() => new RingBuffer(1.5)).toThrow(/positive integer/)
  })
})
