import type { ConfigureControlInput, ControlLoopStatus, ControlSettings } from '../../../shared/api/control-schemas.ts'
import { fail, ok, type Result } from '../../../shared/api/result.ts'

/**
 * The adaptive sampling form: the threshold as a percentage (people think of a 2 % drop ratio, the
 * API takes 0.02), the rest as the API has them. Number fields hold what the input gives (a number,
 * or '' when emptied).
 */
export interface ControlForm {
  enabled: boolean
  thresholdPct: number | string
  windowS: number | string
  step: number | string
  minRate: number | string
  maxRate: number | string
}

/** Four decimals of a percentage: 0.07 × 100 is 7.000000000000001 in floating point. */
const roundPct = (n: number): number => Math.round(n * 10_000) / 10_000

export function controlFormFrom(s: ControlSettings): ControlForm {
  return { enabled: s.enabled, thresholdPct: roundPct(s.threshold * 100), windowS: s.windowS, step: s.step, minRate: s.minRate, maxRate: s.maxRate }
}

const FIELD_NAMES: Record<Exclude<keyof ControlForm, 'enabled'>, string> = {
  thresholdPct: 'threshold (%)',
  windowS: 'window (s)',
  step: 'step (Hz)',
  minRate: 'lowest rate (Hz)',
  maxRate: 'highest rate (Hz)',
}

/**
 * What the form asks the console to store: every setting, so the device gets what the form shows.
 * Only a field that holds no number is refused here; ranges and bounds are the console's to check
 * (its message is shown as it is).
 */
export function configureControlInput(endpoint: string, form: ControlForm): Result<ConfigureControlInput> {
  const numbers: Partial<Record<keyof typeof FIELD_NAMES, number>> = {}
  for (const key of Object.keys(FIELD_NAMES) as (keyof typeof FIELD_NAMES)[]) {
    const raw = form[key]
    const n = typeof raw === 'number' ? raw : raw.trim() === '' ? Number.NaN : Number(raw)
    if (!Number.isFinite(n)) return fail('invalid_input', `${FIELD_NAMES[key]}: enter a number`)
    numbers[key] = n
  }
  const { thresholdPct, windowS, step, minRate, maxRate } = numbers as Record<keyof typeof FIELD_NAMES, number>
  // Whole ten-thousandths of a percent over an exact power of ten: 1.1 % is 0.011, not 0.011000000000000001.
  return ok({ endpoint, enabled: form.enabled, threshold: Math.round(thresholdPct * 10_000) / 1_000_000, windowS, step, minRate, maxRate })
}

/** A drop ratio as people read it: "1.2 %". */
export function formatDropRatio(ratio: number | undefined): string {
  return ratio === undefined ? '–' : `${(ratio * 100).toFixed(1)} %`
}

/** What a twin's control is doing, in words. */
export function loopStateText(loop: ControlLoopStatus): string {
  if (loop.state === 'running') return 'adjusting'
  if (loop.state === 'off') return 'off'
  return 'no link to measure'
}

/** The control status with one decision applied: that twin's rate, drop ratio and time; undefined when no shown twin has `path`. */
export function withDecision<T extends { loops: readonly ControlLoopStatus[] }>(status: T, decision: { path: string; newRate: number; dropRatio: number; time: number }): T | undefined {
  if (!status.loops.some((l) => l.path === decision.path)) return undefined
  return {
    ...status,
    loops: status.loops.map((l) => (l.path === decision.path ? { ...l, rate: decision.newRate, dropRatio: decision.dropRatio, lastDecisionAt: decision.time } : l)),
  }
}
