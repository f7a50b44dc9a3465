import { describe, expect, it } from 'vitest'
import { parsePath } from '../../shared/lwm2m/path.ts'
import { AttributeStore, valueQualifies } from './attributes.ts'
import type { OperationError } from './operation-error.ts'

const p = parsePath

describe('AttributeStore', () => {
  it('takes pmin/pmax from the deepest level that sets them, gt/lt/st from the resource only, then the defaults', () => {
    const store = new AttributeStore()
    store.write(p('/3303'), { pmin: 10, pmax: 600 }, undefined)
    store.write(p('/3303/0'), { pmax: 60 }, undefined)
    store.write(p('/3303/0/5700'), { gt: 37.5, st: 0.1 }, 'float')
    expect(store.effective(p('/3303/0/5700'), { pmin: 1, pmax: 300 })).toEqual({ pmin: 10, pmax: 60, gt: 37.5, st: 0.1 })
    expect(store.effective(p('/3303/0'), {})).toEqual({ pmin: 10, pmax: 60 })
    expect(store.effective(p('/3303/1/5700'), { pmin: 1 })).toEqual({ pmin: 10, pmax: 600 })
    expect(store.effective(p('/3/0/13'), { pmin: 1, pmax: 0 })).toEqual({ pmin: 1 })
    expect(store.linkParams(p('/3303/0/5700'))).toEqual({ gt: '37.5', st: '0.1' })
  })

  it('unsets with null and forgets what lies under a deleted instance', () => {
    const store = new AttributeStore()
    store.write(p('/3303/0/5700'), { pmin: 5, lt: 30 }, 'float')
    store.write(p('/3303/0/5700'), { pmin: null }, 'float')
    expect(store.get(p('/3303/0/5700'))).toEqual({ lt: 30 })
    store.removeUnder(p('/3303/0'))
    expect(store.get(p('/3303/0/5700'))).toEqual({})
  })

  it('refuses gt/lt/st above resource level, on non-numeric resources, and thresholds without room (4.00)', () => {
    const store = new AttributeStore()
    const refused = (path: string, attrs: Parameters<AttributeStore['write']>[1], type?: Parameters<AttributeStore['write']>[2]): string => {
      try {
        store.write(p(path), attrs, type)
        return 'accepted'
      } catch (e) {
        return (e as OperationError).code
      }
    }
    expect(refused('/3303/0', { gt: 1 })).toBe('4.00')
    expect(refused('/3/0/0', { st: 1 }, 'string')).toBe('4.00')
    expect(refused('/3303/0/5700', { gt: 1, lt: 1 }, 'float')).toBe('4.00')
    expect(refused('/3303/0/5700', { gt: 10, lt: 0, st: 5 }, 'float')).toBe('4.00')
    expect(refused('/', { pmin: 1 })).toBe('4.05')
    expect(refused('/3303/0/5700', { gt: 10, lt: 0, st: 4.9 }, 'float')).toBe('accepted')
  })
})

describe('valueQualifies', () => {
  it('counts every change without gt/lt/st', () => {
    expect(valueQualifies({ pmin: 1 }, 5, 5.0001)).toBe(true)
  })

  it('notifies crossings of gt and lt in both directions, and steps of at least st', () => {
    const attrs = { gt: 100, lt: -100 }
    expect(valueQualifies(attrs, 50, 99)).toBe(false)
    expect(valueQualifies(attrs, 50, 101)).toBe(true)
    expect(valueQualifies(attrs, 101, 150)).toBe(false)
    expect(valueQualifies(attrs, 150, 100)).toBe(true)
    expect(valueQualifies(attrs, -50, -101)).toBe(true)
    expect(valueQualifies(attrs, -101, -99)).toBe(true)
    expect(valueQualifies({ st: 2 }, 10, 11.9)).toBe(false)
    expect(valueQualifies({ st: 2 }, 10, 8)).toBe(true)
    // Nothing to compare with: notify.
    expect(valueQualifies({ st: 2 }, undefined, 8)).toBe(true)
  })
})
