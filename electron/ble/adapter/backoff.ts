/** Reconnect with exponential backoff: delay(n) = min(max, initial · factor^(n−1)) ± jitter. */
export interface ReconnectPolicy {
  /** Delay before the first attempt, ms (default 500). */
  initialDelayMs?: number
  /** Upper bound of the delay, ms (default 30 000). */
  maxDelayMs?: number
  /** Growth per attempt (default 2). */
  factor?: number
  /** Give up after this many attempts (default: never). */
  maxAttempts?: number
  /** Relative random spread of each delay, 0..1 (default 0.2), so many sensors do not reconnect in lockstep. */
  jitter?: number
}

export const DEFAULT_RECONNECT: Required<ReconnectPolicy> = {
  initialDelayMs: 500, maxDelayMs: 30_000, factor: 2, maxAttempts: Infinity, jitter: 0.2,
}

/** Delay (ms) before attempt `attempt` (1-based). `random` in [0, 1). */
export function backoffDelay(policy: ReconnectPolicy, attempt: number, random: () => number = Math.random): number {
  const p = { ...DEFAULT_RECONNECT, ...policy }
  const base = Math.min(p.maxDelayMs, p.initialDelayMs * Math.pow(p.factor, Math.max(0, attempt - 1)))
  const spread = base * Math.min(1, Math.max(0, p.jitter)) * (2 * random() - 1)
  return Math.max(0, Math.round(Math.min(p.maxDelayMs, base + spread)))
}
