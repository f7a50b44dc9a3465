import { describe, it, expect } from 'vitest'
import { EcgSyn } from '../../../electron/ble/virtual/sensors/ecgsyn.ts'
import { EcgFeed } from './sample-feed.ts'

describe('EcgFeed', () => {
  it('converts the twin units (µV/10) to mV, from typed arrays or plain arrays', () => {
    const feed = new EcgFeed()
    feed.push(Float64Array.from([1, 2]), Float32Array.from([120, -40]))
    feed.push([3], [5])
    const { times, values } = feed.ecg.toArrays()
    expect(Array.from(times)).toEqual([1, 2, 3])
    expect(Array.from(values)).toEqual([1.2, -0.4, 0.05].map(Math.fround))
    expect(feed.origin).toBe(1)
  })

  it('takes mV directly with pushMv, and bumps the revision once per batch', () => {
    const feed = new EcgFeed()
    const r0 = feed.revision
    feed.pushMv([1, 2, 3], [0.5, 0.6, 0.7])
    expect(feed.revision).toBe(r0 + 1)
    expect(feed.ecg.lastValue).toBe(Math.fround(0.7))
    feed.push([], [])
    expect(feed.revision).toBe(r0 + 1)
  })

  it('drops repeated and slightly out-of-order samples; a clock going back restarts the trace', () => {
    const feed = new EcgFeed()
    feed.push([10, 10.01, 10.02], [1, 2, 3])
    feed.push([10.01, 10.02], [9, 9]) // a re-sent notification
    expect(feed.ecg.length).toBe(3)
    expect(feed.rejected).toBe(2)
    feed.push([NaN, 10.03], [1, NaN])
    expect(feed.ecg.length).toBe(3)
    feed.push([1, 1.01], [4, 5]) // sensor restarted its clock
    expect(feed.ecg.length).toBe(2)
    expect(feed.origin).toBe(1)
  })

  it('keeps the last windowS × maxRateHz samples', () => {
    const feed = new EcgFeed({ windowS: 2, maxRateHz: 100 })
    const n = 1000
    feed.pushMv(
      Array.from({ length: n }, (_, i) => i / 100),
      Array.from({ length: n }, () => 0),
    )
    expect(feed.ecg.capacity).toBe(200)
    expect(feed.ecg.length).toBe(200)
    expect(feed.ecg.firstTime).toBeCloseTo(8, 9)
  })

  it('computes the heart rate from the samples as they stream in (ECGSYN, 150 Hz, twin units)', () => {
    const gen = new EcgSyn({ seed: 17, heartRateBpm: 72 })
    const feed = new EcgFeed()
    const rate = 150
    for (let k = 0; k < 200; k++) {
      const times: number[] = []
      const values: number[] = []
      for (let i = 0; i < 15; i++) {
        values.push(gen.nextUnits(rate))
        times.push(1_760_000_000 + gen.time)
      }
      feed.push(times, values)
    }
    const truth = gen.rPeakTimes()
    const last = truth.slice(-10, -1)
    const trueHr = (60 * (last.length - 1)) / ((last[last.length - 1] as number) - (last[0] as number))
    expect(Math.abs(feed.heartRate() - trueHr)).toBeLessThanOrEqual(3)
  })

  it('records rate changes only, link quality, and control decisions (which also move the rate and drop series)', () => {
    const feed = new EcgFeed()
    feed.pushRate(100, 150)
    feed.pushRate(101, 150)
    feed.pushRate(102, 145)
    expect(feed.rate.length).toBe(2)
    expect(feed.currentRate).toBe(145)
    feed.pushLink(103, { dropRatio: 0.01, rssi: -70 })
    feed.pushLink(104, { rssi: -71 })
    feed.pushLink(NaN, { rssi: -1 })
    expect(feed.dropRatio.length).toBe(1)
    expect(feed.rssi.length).toBe(2)
    feed.pushControl(105, { oldRate: 145, newRate: 140, dropRatio: 0.05 })
    expect(feed.currentRate).toBe(140)
    expect(feed.dropRatio.lastValue).toBe(Math.fround(0.05))
    expect(feed.controls.last()).toEqual({ time: 105, oldRate: 145, newRate: 140, dropRatio: Math.fround(0.05) })
    // the rate notification of the same change adds nothing
    feed.pushRate(105.2, 140)
    expect(feed.rate.length).toBe(3)
    // a trend point older than the newest is dropped (keeps the series sorted)
    feed.pushLink(50, { rssi: -80 })
    expect(feed.rssi.length).toBe(2)
  })

  it('keeps a bounded log of control decisions, oldest first', () => {
    const feed = new EcgFeed({ controlCapacity: 3 })
    for (let i = 0; i < 5; i++) feed.pushControl(i, { oldRate: 150 - 5 * i, newRate: 145 - 5 * i, dropRatio: 0.1 })
    expect(feed.controls.length).toBe(3)
    expect(feed.controls.at(0).time).toBe(2)
    expect(feed.controls.last()?.newRate).toBe(125)
  })

  it('clear empties everything', () => {
    const feed = new EcgFeed()
    feed.push([1], [1])
    feed.pushRate(1, 150)
    feed.pushControl(2, { oldRate: 150, newRate: 145, dropRatio: 0.1 })
    feed.clear()
    expect([feed.ecg.length, feed.rate.length, feed.dropRatio.length, feed.controls.length]).toEqual([0, 0, 0, 0])
    expect(Number.isNaN(feed.origin)).toBe(true)
    expect(Number.isNaN(feed.heartRate())).toBe(true)
  })
})
