import { describe, expect, it } from 'vitest'
import { RateBudget, SampleBuffer } from './sample-buffer.ts'

const path = { objectId: 1031, instanceId: 0, resourceId: 1 }

describe('SampleBuffer', () => {
  it('keeps samples in order across growth and drains them as timestamped records', () => {
    const buffer = new SampleBuffer(path, 'integer')
    for (let i = 0; i < 200; i++) buffer.push(1000 + i / 100, i - 100)
    expect(buffer.length).toBe(200)
    const records = buffer.drain()
    expect(records).toHaveLength(200)
    expect(records[0]).toEqual({ path, value: -100, type: 'integer', time: 1000 })
    expect(records[199]).toEqual({ path, value: 99, type: 'integer', time: 1000 + 199 / 100 })
    expect(buffer.length).toBe(0)
    expect(buffer.drain()).toEqual([])
  })

  it('switches to a list for values that are not plain numbers, keeping the numbers before them', () => {
    const buffer = new SampleBuffer(path, undefined)
    buffer.pushArrays(Float64Array.of(1, 2), Int16Array.of(7, 8))
    buffer.push(3, Uint8Array.of(1, 2))
    expect(buffer.drain().map((r) => r.value)).toEqual([7, 8, Uint8Array.of(1, 2)])
    buffer.push(4, 9)
    expect(buffer.drain()).toEqual([{ path, value: 9, time: 4 }])
  })
})

describe('RateBudget', () => {
  it('allows a burst of a tenth of the rate, then one notification per 1/rate', () => {
    const budget = new RateBudget(100, 0)
    expect(budget.nextAt(0)).toBe(0)
    budget.take(10, 0)
    expect(budget.nextAt(0)).toBe(10)
    expect(budget.nextAt(10)).toBe(10)
    budget.take(3, 10)
    expect(budget.nextAt(10)).toBe(40)
    // Refilled, but never beyond the burst size.
    expect(budget.nextAt(10_000)).toBe(10_000)
    budget.take(10, 10_000)
    expect(budget.nextAt(10_000)).toBe(10_010)
  })
})
