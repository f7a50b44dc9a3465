import { describe, expect, it } from 'vitest'
import { ConfigureControlInput, DEFAULT_CONTROL_SETTINGS, type ControlStatus } from '../../../shared/api/control-schemas.ts'
import { configureControlInput, controlFormFrom, formatDropRatio, loopStateText, withDecision } from './control-form.ts'

describe('adaptive sampling form', () => {
  it('shows the threshold as a percentage and gives back every setting, the ratio exact', () => {
    const form = controlFormFrom({ ...DEFAULT_CONTROL_SETTINGS, threshold: 0.07 })
    // 0.07 × 100 is 7.000000000000001 in floating point: the field shows 7.
    expect(form).toEqual({ enabled: true, thresholdPct: 7, windowS: 5, step: 5, minRate: 50, maxRate: 500 })
    expect(configureControlInput('gw', form)).toEqual({ ok: true, value: { endpoint: 'gw', enabled: true, threshold: 0.07, windowS: 5, step: 5, minRate: 50, maxRate: 500 } })
    for (const pct of [1.1, 2.5, 0.3, 33.3333]) {
      const r = configureControlInput('gw', { ...form, thresholdPct: pct })
      expect(r.ok && r.value.threshold).toBe(Number((pct / 100).toPrecision(12)))
      expect(r.ok && controlFormFrom({ ...DEFAULT_CONTROL_SETTINGS, threshold: r.value.threshold }).thresholdPct).toBe(pct)
    }
    const off = configureControlInput('gw', { ...form, enabled: false, windowS: '10' })
    expect(off.ok && ConfigureControlInput.safeParse(off.value).success).toBe(true)
    expect(off.ok && off.value).toMatchObject({ enabled: false, windowS: 10 })
  })

  it('names a field that holds no number, and leaves ranges and bounds to the console', () => {
    const form = controlFormFrom(DEFAULT_CONTROL_SETTINGS)
    expect(configureControlInput('gw', { ...form, thresholdPct: '' })).toEqual({ ok: false, error: { code: 'invalid_input', message: 'threshold (%): enter a number' } })
    expect(configureControlInput('gw', { ...form, maxRate: 'fast' })).toMatchObject({ ok: false, error: { message: 'highest rate (Hz): enter a number' } })
    // min > max is the console's to refuse, with its own message.
    const reversed = configureControlInput('gw', { ...form, minRate: 600, maxRate: 500 })
    expect(reversed.ok).toBe(true)
    const checked = ConfigureControlInput.safeParse(reversed.ok ? reversed.value : undefined)
    expect(checked.success ? '' : checked.error.issues[0]?.message).toBe('minRate must not exceed maxRate')
  })

  it('applies a decision to the twin it names only', () => {
    const status: ControlStatus = {
      endpoint: 'gw',
      settings: DEFAULT_CONTROL_SETTINGS,
      configured: false,
      loops: [
        { path: '/1031/0/2', state: 'running', rate: 150, dropRatio: 0 },
        { path: '/1032/0/2', state: 'running', rate: 150 },
      ],
    }
    const next = withDecision(status, { path: '/1032/0/2', newRate: 145, dropRatio: 0.05, time: 7 })
    expect(next?.loops).toEqual([status.loops[0], { path: '/1032/0/2', state: 'running', rate: 145, dropRatio: 0.05, lastDecisionAt: 7 }])
    expect(status.loops[1]).toEqual({ path: '/1032/0/2', state: 'running', rate: 150 })
    expect(withDecision(status, { path: '/9/0/2', newRate: 1, dropRatio: 0, time: 1 })).toBeUndefined()
  })

  it('reads drop ratios and states in words', () => {
    expect(formatDropRatio(0.0234)).toBe('2.3 %')
    expect(formatDropRatio(undefined)).toBe('–')
    expect([loopStateText({ path: '/1', state: 'running' }), loopStateText({ path: '/1', state: 'off' }), loopStateText({ path: '/1', state: 'no-link' })]).toEqual(['adjusting', 'off', 'no link to measure'])
  })
})
