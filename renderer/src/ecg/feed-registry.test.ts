import { describe, it, expect } from 'vitest'
import type { RecordJson } from '../../../shared/api/schemas.ts'
import type { ConsoleEvent } from '../../../shared/api/events.ts'
import { EcgFeedRegistry, routeRecords } from './feed-registry.ts'
import type { ControlEvent } from './feed-registry.ts'
import { EcgFeed } from './sample-feed.ts'

const SOURCE = { endpoint: 'gw-1', path: '/1031/0/1', ratePath: '/1031/0/2', linkPaths: { dropRatio: '/1032/0/1', rssi: '/1032/0/2' } }
const T0 = 1_760_000_000

function samples(n: number, t0: number, rate: number, path = '/1031/0/1'): RecordJson[] {
  return Array.from({ length: n }, (_, i) => ({ path, value: 100 + i, time: t0 + i / rate, type: 'integer' as const }))
}

function notification(endpoint: string, records: RecordJson[], timeMs: number): ConsoleEvent {
  return { kind: 'notification', endpoint, observationId: 'o1', paths: ['/1031/0'], code: '2.05', records, time: timeMs }
}

describe('EcgFeedRegistry', () => {
  it('gives every monitor of one source the same feed and forgets it with the last release', () => {
    const reg = new EcgFeedRegistry()
    const a = reg.acquire(SOURCE)
    const b = reg.acquire({ endpoint: 'gw-1', path: '/1031/0/1' })
    expect(b).toBe(a)
    expect(reg.get('gw-1', '/1031/0/1')).toBe(a)
    expect(reg.acquire({ endpoint: 'gw-2', path: '/1031/0/1' })).not.toBe(a)
    reg.release(SOURCE)
    expect(reg.get('gw-1', '/1031/0/1')).toBe(a)
    reg.release(SOURCE)
    expect(reg.get('gw-1', '/1031/0/1')).toBeUndefined()
    reg.release(SOURCE) // extra release is harmless
    expect(reg.size).toBe(1)
  })

  it('routes a notification: ECG samples with their times, the rate and link values at the arrival time', () => {
    const reg = new EcgFeedRegistry()
    const feed = reg.acquire(SOURCE)
    const records: RecordJson[] = [
      { path: '/1031/0/0', value: 'ECG' },
      ...samples(15, T0, 150),
      { path: '/1031/0/2', value: 150 },
      { path: '/1032/0/1', value: 0.03 },
      { path: '/1032/0/2', value: -67 },
    ]
    expect(reg.dispatch(notification('gw-1', records, (T0 + 1) * 1000))).toBe(1)
    expect(feed.ecg.length).toBe(15)
    expect(feed.ecg.firstTime).toBe(T0)
    expect(feed.ecg.lastValue).toBe(Math.fround(1.14))
    expect(feed.rate.lastTime).toBe(T0 + 1)
    expect(feed.currentRate).toBe(150)
    expect(feed.dropRatio.lastValue).toBe(Math.fround(0.03))
    expect(feed.rssi.lastValue).toBe(-67)
  })

  it('ignores other endpoints, other paths, other event kinds and non-numeric values', () => {
    const reg = new EcgFeedRegistry()
    const feed = reg.acquire(SOURCE)
    expect(reg.dispatch(notification('gw-2', samples(5, T0, 150), 0))).toBe(0)
    expect(reg.dispatch(notification('gw-1', samples(5, T0, 150, '/1031/1/1'), 0))).toBe(0)
    expect(reg.dispatch({ kind: 'log', level: 'info', message: 'x', time: 0 } satisfies ConsoleEvent)).toBe(0)
    expect(reg.dispatch(notification('gw-1', [{ path: '/1031/0/1', value: 'oops', time: T0 }], 0))).toBe(0)
    expect(feed.ecg.length).toBe(0)
  })

  it('routes Send events like notifications', () => {
    const reg = new EcgFeedRegistry()
    const feed = reg.acquire(SOURCE)
    reg.dispatch({ kind: 'send', endpoint: 'gw-1', records: samples(3, T0, 150), time: T0 * 1000 } satisfies ConsoleEvent)
    expect(feed.ecg.length).toBe(3)
  })

  it('routes control decisions (ms → s) to the feed of their ECG path', () => {
    const reg = new EcgFeedRegistry()
    const feed = reg.acquire(SOURCE)
    const e: ControlEvent = { kind: 'control', endpoint: 'gw-1', path: '/1031/0/1', time: (T0 + 5) * 1000, dropRatio: 0.05, oldRate: 150, newRate: 145 }
    expect(reg.dispatch(e)).toBe(1)
    expect(feed.controls.last()).toEqual({ time: T0 + 5, oldRate: 150, newRate: 145, dropRatio: Math.fround(0.05) })
    expect(reg.dispatch({ ...e, path: '/1031/1/1' })).toBe(0)
  })

  it('routes control decisions named by the sampling-rate resource to the feed with that rate path', () => {
    const reg = new EcgFeedRegistry()
    const feed = reg.acquire({ endpoint: 'gw-1', path: '/1031/0/1', ratePath: '/1031/0/2' })
    const other = reg.acquire({ endpoint: 'gw-1', path: '/1032/0/1', ratePath: '/1032/0/2' })
    const e: ControlEvent = { kind: 'control', endpoint: 'gw-1', path: '/1031/0/2', time: (T0 + 5) * 1000, dropRatio: 0, oldRate: 150, newRate: 155 }
    expect(reg.dispatch(e)).toBe(1)
    expect(feed.controls.last()).toMatchObject({ oldRate: 150, newRate: 155 })
    expect(feed.currentRate).toBe(155)
    expect(other.controls.length).toBe(0)
    expect(reg.dispatch({ ...e, endpoint: 'gw-2' })).toBe(0)
  })

  it('update() changes the rate and link paths of a held source', () => {
    const reg = new EcgFeedRegistry()
    const feed = reg.acquire({ endpoint: 'gw-1', path: '/1031/0/1' })
    reg.dispatchRecords('gw-1', [{ path: '/9/0/2', value: 140 }], T0)
    expect(feed.rate.length).toBe(0)
    reg.update({ endpoint: 'gw-1', path: '/1031/0/1', ratePath: '/9/0/2' })
    reg.dispatchRecords('gw-1', [{ path: '/9/0/2', value: 140 }], T0)
    expect(feed.currentRate).toBe(140)
  })
})

describe('routeRecords without time stamps (timestamping off)', () => {
  it('places untimed samples at the current rate, continuing the trace, re-anchored when it drifts', () => {
    const feed = new EcgFeed()
    feed.pushRate(T0, 100)
    const untimed = (n: number): RecordJson[] => Array.from({ length: n }, () => ({ path: '/1031/0/1', value: 1 }))
    routeRecords(feed, SOURCE, untimed(10), T0 + 1)
    // first batch ends at the arrival time
    expect(feed.ecg.lastTime).toBeCloseTo(T0 + 1, 9)
    expect(feed.ecg.firstTime).toBeCloseTo(T0 + 0.91, 9)
    // the next batch continues 1/rate after the previous sample even if it arrives a bit early or late
    routeRecords(feed, SOURCE, untimed(10), T0 + 1.05)
    expect(feed.ecg.length).toBe(20)
    expect(feed.ecg.lastTime).toBeCloseTo(T0 + 1.1, 9)
    // after a long silence it starts again from the arrival time
    routeRecords(feed, SOURCE, untimed(10), T0 + 30)
    expect(feed.ecg.lastTime).toBeCloseTo(T0 + 30, 9)
    expect(feed.rejected).toBe(0)
  })

  it('uses 150 Hz when no rate is known yet', () => {
    const feed = new EcgFeed()
    routeRecords(feed, SOURCE, [{ path: '/1031/0/1', value: 1 }, { path: '/1031/0/1', value: 2 }], T0)
    expect(feed.ecg.lastTime - feed.ecg.firstTime).toBeCloseTo(1 / 150, 6)
  })
})
