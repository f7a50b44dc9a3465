import { describe, expect, it } from 'vitest'
import { LinkMonitor } from './link-monitor.ts'
import type { LinkSnapshot } from './link-monitor.ts'

function monitor(rssi: () => Promise<number> = async () => -60) {
  let now = 10_000
  const snaps: LinkSnapshot[] = []
  const warnings: string[] = []
  const m = new LinkMonitor({ windowMs: 5000, rssiIntervalMs: 1000, readRssi: () => rssi(), onSnapshot: (s) => snaps.push(s), onWarning: (w) => warnings.push(w), now: () => now })
  return { m, snaps, warnings, advance: (ms: number) => (now += ms), now: () => now }
}

describe('LinkMonitor', () => {
  it('measures the drop ratio from sequence gaps and the notification rate over 5 s windows', async () => {
    const { m, snaps, advance } = monitor()
    m.connected('c00701000001', 'c0:07:01:00:00:01', 'ECG 1')
    await Promise.resolve()
    // 100 packets with 2 missing (seq 10 and 50), spread over the window.
    for (let seq = 0; seq < 102; seq++) {
      if (seq === 10 || seq === 50) continue
      m.notification('c00701000001')
      m.sequence('c00701000001', seq)
    }
    advance(4999)
    m.closeWindows()
    expect(m.snapshot('c00701000001')?.dropRatio).toBe(0)
    advance(1)
    m.closeWindows()
    const s = m.snapshot('c00701000001')
    expect(s?.dropRatio).toBeCloseTo(2 / 102, 12)
    expect(s?.notificationsPerSecond).toBe(20)
    expect(s?.received).toBe(100)
    expect(s?.lost).toBe(2)
    expect(snaps.at(-1)).toEqual(s)
    // The next window starts clean, continuing the sequence without a false gap.
    m.sequence('c00701000001', 102)
    advance(5000)
    m.closeWindows()
    expect(m.snapshot('c00701000001')).toMatchObject({ dropRatio: 0, notificationsPerSecond: 0, received: 101, lost: 2 })
  })

  it('polls RSSI on connect, reports connected/disconnected and last seen', async () => {
    const { m, snaps, advance, now } = monitor(async () => -71)
    m.connected('c00701000001', 'c0:07:01:00:00:01', 'ECG 1')
    await new Promise((r) => setImmediate(r))
    expect(m.snapshot('c00701000001')).toMatchObject({ connected: true, rssi: -71, name: 'ECG 1', address: 'c0:07:01:00:00:01' })
    advance(1234)
    m.notification('c00701000001')
    expect(m.snapshot('c00701000001')?.lastSeen).toBe(now())
    m.disconnected('c00701000001')
    expect(snaps.at(-1)).toMatchObject({ connected: false, notificationsPerSecond: 0 })
    // Windows of a disconnected sensor do not close.
    const count = snaps.length
    advance(10_000)
    m.closeWindows()
    expect(snaps.length).toBe(count)
  })

  it('reports a failing RSSI read as a warning, not an error', async () => {
    const { m, warnings } = monitor(async () => {
      throw new Error('read RSSI of c00701000001: no answer within 5000 ms')
    })
    m.connected('c00701000001', 'c0:07:01:00:00:01', 'ECG 1')
    await new Promise((r) => setImmediate(r))
    expect(warnings).toEqual(['RSSI of c0:07:01:00:00:01: read RSSI of c00701000001: no answer within 5000 ms'])
    expect(m.snapshot('c00701000001')?.rssi).toBeUndefined()
  })
})
