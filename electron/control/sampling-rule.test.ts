import { describe, expect, it } from 'vitest'
import { DEFAULT_CONTROL_SETTINGS } from '../../shared/api/control-schemas.ts'
import { clampRate, decideRate, windowDropRatio } from './sampling-rule.ts'

const PAPER = { threshold: 0.02, step: 5, minRate: 50, maxRate: 500 }

describe('the adaptive sampling rule (paper Fig. 10b)', () => {
  it('lowers the rate by one step above the threshold and raises it by one step below', () => {
    expect(decideRate(0.05, 150, PAPER)).toEqual({ newRate: 145, direction: 'down' })
    expect(decideRate(0.0201, 145, PAPER)).toEqual({ newRate: 140, direction: 'down' })
    expect(decideRate(0.0199, 140, PAPER)).toEqual({ newRate: 145, direction: 'up' })
    expect(decideRate(0, 150, PAPER)).toEqual({ newRate: 155, direction: 'up' })
  })

  it('keeps the rate exactly at the threshold', () => {
    expect(decideRate(0.02, 150, PAPER)).toEqual({ newRate: 150, direction: 'hold' })
  })

  it('stays within the bounds, holding at a bound the rule would cross', () => {
    expect(decideRate(0.5, 50, PAPER)).toEqual({ newRate: 50, direction: 'hold' })
    expect(decideRate(0.5, 53, PAPER)).toEqual({ newRate: 50, direction: 'down' })
    expect(decideRate(0, 500, PAPER)).toEqual({ newRate: 500, direction: 'hold' })
    expect(decideRate(0, 498, PAPER)).toEqual({ newRate: 500, direction: 'up' })
    // A rate outside the bounds (changed by hand, or the bounds changed) is brought inside whatever the ratio says.
    expect(decideRate(0.5, 40, PAPER)).toEqual({ newRate: 50, direction: 'up' })
    expect(decideRate(0, 700, PAPER)).toEqual({ newRate: 500, direction: 'down' })
    expect(clampRate(150, { minRate: 160, maxRate: 200 })).toBe(160)
  })

  it('uses the configured step and threshold', () => {
    expect(decideRate(0.08, 200, { ...PAPER, threshold: 0.1, step: 20 })).toEqual({ newRate: 220, direction: 'up' })
    expect(decideRate(0.12, 200, { ...PAPER, threshold: 0.1, step: 20 })).toEqual({ newRate: 180, direction: 'down' })
  })

  it('defaults to the paper: 5 s windows, 0.02, 5 Hz, on, bounds the ECG sensor accepts', () => {
    expect(DEFAULT_CONTROL_SETTINGS).toMatchObject({ enabled: true, windowS: 5, threshold: 0.02, step: 5 })
    expect(DEFAULT_CONTROL_SETTINGS.minRate).toBeGreaterThanOrEqual(25)
    expect(DEFAULT_CONTROL_SETTINGS.maxRate).toBeLessThanOrEqual(1000)
  })
})

describe('the drop ratio of one window from a link’s packet counters', () => {
  it('counts only the packets since the last reading', () => {
    expect(windowDropRatio({ received: 1000, lost: 10 }, { received: 1097, lost: 13 })).toBeCloseTo(3 / 100)
    expect(windowDropRatio({ received: 1000, lost: 10 }, { received: 1100, lost: 10 })).toBe(0)
  })

  it('has no ratio for a window without packets (no decision)', () => {
    expect(windowDropRatio({ received: 1000, lost: 10 }, { received: 1000, lost: 10 })).toBeUndefined()
  })

  it('counts from zero when the counters went back (the link came up again)', () => {
    expect(windowDropRatio({ received: 1000, lost: 10 }, { received: 45, lost: 5 })).toBeCloseTo(0.1)
    expect(windowDropRatio({ received: 1000, lost: 10 }, { received: 0, lost: 0 })).toBeUndefined()
  })
})
