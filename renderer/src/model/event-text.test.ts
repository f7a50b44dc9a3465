import { describe, expect, it } from 'vitest'
import { describeEvent, eventEndpoint } from './event-text.ts'

describe('event text', () => {
  it('describes notifications with their first values and count', () => {
    const e = {
      kind: 'notification' as const,
      time: 1,
      endpoint: 'ep',
      observationId: 'o1',
      paths: ['/1031/0/1'],
      code: '2.05',
      records: [1, 2, 3, 4].map((v) => ({ path: '/1031/0/1', value: v })),
    }
    expect(describeEvent(e)).toBe('notification 2.05 for /1031/0/1: /1031/0/1=1, /1031/0/1=2, /1031/0/1=3 … (4 values)')
    expect(eventEndpoint(e)).toBe('ep')
  })

  it('describes state changes and logs', () => {
    expect(describeEvent({ kind: 'awake', time: 1, endpoint: 'q', queuedRequests: 2 })).toBe('woke up; sending 2 queued requests')
    expect(describeEvent({ kind: 'log', time: 1, level: 'warn', message: 'hello' })).toBe('hello')
    expect(eventEndpoint({ kind: 'log', time: 1, level: 'info', message: 'm' })).toBeUndefined()
  })

  it('describes the desktop app\'s update, about no endpoint', () => {
    const e = { kind: 'update' as const, time: 1, status: { state: 'available' as const, currentVersion: '0.1.0', availableVersion: '0.2.0', checkOnStart: false } }
    expect(describeEvent(e)).toBe('app update: Update available: version 0.2.0 (this is 0.1.0).')
    expect(eventEndpoint(e)).toBeUndefined()
  })

  it('describes adaptive sampling decisions by their direction', () => {
    const e = { kind: 'control' as const, time: 1, endpoint: 'gw', path: '/1031/0/2', dropRatio: 0.0312, oldRate: 150, newRate: 145 }
    expect(describeEvent(e)).toBe('sampling rate /1031/0/2 lowered 150 → 145 Hz (drop ratio 3.1 %)')
    expect(describeEvent({ ...e, dropRatio: 0, newRate: 155 })).toBe('sampling rate /1031/0/2 raised 150 → 155 Hz (drop ratio 0.0 %)')
    expect(describeEvent({ ...e, oldRate: 50, newRate: 50 })).toBe('sampling rate /1031/0/2 stays at 50 Hz (drop ratio 3.1 %)')
    expect(eventEndpoint(e)).toBe('gw')
  })
})
