import type { ControlSettings } from '../../shared/api/control-schemas.ts'

/**
 * The paper's backend rule (REFERENCE.md §1, Fig. 10b), pure: one decision per measurement window. A drop ratio
 * above the threshold lowers the rate by one step, below it raises the rate by one step; exactly at the threshold
 * the rate stays. The result always lies within [minRate, maxRate].
 */

export type RateDirection = 'down' | 'up' | 'hold'

export interface RateDecision {
  readonly newRate: number
  readonly direction: RateDirection
}

export type RuleSettings = Pick<ControlSettings, 'threshold' | 'step' | 'minRate' | 'maxRate'>

export function clampRate(rate: number, settings: Pick<ControlSettings, 'minRate' | 'maxRate'>): number {
  return Math.min(settings.maxRate, Math.max(settings.minRate, rate))
}

export function decideRate(dropRatio: number, rate: number, settings: RuleSettings): RateDecision {
  const wanted = dropRatio > settings.threshold ? rate - settings.step : dropRatio < settings.threshold ? rate + settings.step : rate
  const newRate = clampRate(wanted, settings)
  return { newRate, direction: newRate < rate ? 'down' : newRate > rate ? 'up' : 'hold' }
}

/** Packet counters of a link (BLE Link object: received, lost since the link came up). */
export interface PacketCounts {
  readonly received: number
  readonly lost: number
}

/**
 * The drop ratio of the packets counted between two readings of a link's counters, or undefined when none were
 * counted (no data: no decision). Counters that went back mean the link came up again: they count from zero.
 */
export function windowDropRatio(before: PacketCounts, now: PacketCounts): number | undefined {
  const restarted = now.received < before.received || now.lost < before.lost
  const received = restarted ? now.received : now.received - before.received
  const lost = restarted ? now.lost : now.lost - before.lost
  return received + lost > 0 ? lost / (received + lost) : undefined
}
