import { describe, expect, it } from 'vitest'
import { buildTree, flattenTree, latestByPath } from './node.ts'
import { parsePath } from './path.ts'
import type { Lwm2mRecord } from './values.ts'

const rec = (path: string, value: Lwm2mRecord['value'], time?: number): Lwm2mRecord => ({ path: parsePath(path), value, ...(time !== undefined ? { time } : {}) })

describe('node tree', () => {
  it('groups records into objects, instances, resources and resource instances', () => {
    const tree = buildTree([rec('/3/0/0', 'ACME'), rec('/3/0/6/0', 1), rec('/3/0/6/1', 5), rec('/3303/1/5700', 21.5)])
    const device = tree.get(3)?.instances.get(0)
    expect(device?.resources.get(0)?.values).toEqual([{ value: 'ACME' }])
    expect([...(device?.resources.get(6)?.instances?.keys() ?? [])]).toEqual([0, 1])
    expect(device?.resources.get(6)?.instances?.get(1)?.values).toEqual([{ value: 5 }])
    expect(tree.get(3303)?.instances.get(1)?.resources.get(5700)?.values[0]?.value).toBe(21.5)
  })

  it('keeps every timestamped value of one resource, oldest first', () => {
    const tree = buildTree([rec('/1031/0/1', 30, 100.02), rec('/1031/0/1', 10, 100.0), rec('/1031/0/1', 20, 100.01)])
    expect(tree.get(1031)?.instances.get(0)?.resources.get(1)?.values.map((v) => v.value)).toEqual([10, 20, 30])
  })

  it('flattens back to the same records', () => {
    const records = [rec('/3/0/0', 'ACME'), rec('/3/0/6/0', 1), rec('/1031/0/1', 10, 5), rec('/1031/0/1', 11, 6)]
    expect(flattenTree(buildTree(records).values())).toEqual(records)
  })

  it('picks the newest value per path', () => {
    const latest = latestByPath([rec('/1031/0/1', 2, 6), rec('/1031/0/1', 1, 5), rec('/3/0/0', 'x')])
    expect(latest.get('1031/0/1')?.value).toBe(2)
    expect(latest.get('3/0/0')?.value).toBe('x')
  })
})
