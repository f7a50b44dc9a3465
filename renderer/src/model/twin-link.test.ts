import { describe, expect, it } from 'vitest'
import { linkPathsFor } from './twin-link.ts'

const links = [
  { path: '/33001/0/0', value: 'c0:07:01:00:00:01' },
  { path: '/33001/0/3', value: -61 },
  { path: '/33001/1/0', value: 'C0:07:02:00:00:01' },
  { path: '/33001/1/4', value: 0.02 },
]

describe('linkPathsFor', () => {
  it("finds the sensor's BLE Link instance by its address, in any case", () => {
    expect(linkPathsFor('c0:07:02:00:00:01', links)).toEqual({ instancePath: '/33001/1', dropRatio: '/33001/1/4', rssi: '/33001/1/3' })
    expect(linkPathsFor('C0:07:01:00:00:01', links)?.instancePath).toBe('/33001/0')
  })

  it('answers undefined for an address no link has, and ignores other resources and objects', () => {
    expect(linkPathsFor('c0:07:03:00:00:01', links)).toBeUndefined()
    expect(linkPathsFor('-61', links)).toBeUndefined()
    expect(linkPathsFor('c0:07:01:00:00:01', [{ path: '/1031/0/0', value: 'c0:07:01:00:00:01' }])).toBeUndefined()
  })
})
