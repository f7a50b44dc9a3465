import { z } from 'zod'

/**
 * The adaptive sampling control (issue 7, REFERENCE.md §1 "Backend application"): per device (gateway endpoint),
 * every window the packet drop ratio of each ECG sensor is compared with a threshold; above it the sampling rate is
 * lowered by a step, below it raised by a step, within bounds. On by default for every ECG twin.
 */

/** The rate every ECG twin starts at when its control starts (the paper's 150 Hz), kept within the bounds. */
export const START_RATE_HZ = 150

const Rate = z.number().int().min(1).max(65535)

const ControlSettingsShape = z.object({
  enabled: z.boolean(),
  /** Drop ratio (0..1) above which the rate is lowered, below which it is raised. */
  threshold: z.number().min(0).max(1),
  /** Hz per decision. */
  step: z.number().int().min(1).max(1000),
  /** Seconds per measurement window (one decision per window). */
  windowS: z.number().int().min(1).max(3600),
  minRate: Rate,
  maxRate: Rate,
})

const boundsInOrder = (s: { minRate?: number | undefined; maxRate?: number | undefined }): boolean =>
  s.minRate === undefined || s.maxRate === undefined || s.minRate <= s.maxRate
const BOUNDS_MESSAGE = { message: 'minRate must not exceed maxRate', path: ['minRate'] }

export const ControlSettings = ControlSettingsShape.refine(boundsInOrder, BOUNDS_MESSAGE)
export type ControlSettings = z.infer<typeof ControlSettings>

/** The paper's rule: 5 s windows, threshold 0.02, steps of 5 Hz; bounds within what the ECG sensor accepts (25..1000 Hz). */
export const DEFAULT_CONTROL_SETTINGS: ControlSettings = { enabled: true, threshold: 0.02, step: 5, windowS: 5, minRate: 50, maxRate: 500 }

const Endpoint = z.string().min(1, 'endpoint is empty').max(256)

export const ControlInput = z.object({ endpoint: Endpoint })
export type ControlInput = z.infer<typeof ControlInput>

/** Only the fields given change; the result must still have minRate ≤ maxRate. */
export const ConfigureControlInput = ControlSettingsShape.partial().extend({ endpoint: Endpoint }).strict().refine(boundsInOrder, BOUNDS_MESSAGE)
export type ConfigureControlInput = z.infer<typeof ConfigureControlInput>

/** One ECG twin under control. */
export const ControlLoopStatus = z.object({
  /** The twin's sampling-rate resource, e.g. /1031/0/2 (the `path` of its control events). */
  path: z.string(),
  /** The sensor's Bluetooth address, when the twin names it. */
  sensor: z.string().optional(),
  /** The BLE Link instance whose drop ratio is observed, e.g. /33001/0. */
  linkPath: z.string().optional(),
  /** running: deciding every window; off: disabled; no-link: no link object names the sensor, nothing to measure. */
  state: z.enum(['running', 'off', 'no-link']),
  /** The last rate written or read, Hz. */
  rate: z.number().optional(),
  /** The drop ratio of the last window with data. */
  dropRatio: z.number().optional(),
  /** ms since the epoch of the last decision. */
  lastDecisionAt: z.number().optional(),
  /** The last failure (a write refused, a read timed out); cleared by the next success. */
  error: z.string().optional(),
})
export type ControlLoopStatus = z.infer<typeof ControlLoopStatus>

export const ControlStatus = z.object({
  endpoint: z.string(),
  settings: ControlSettings,
  /** Whether the settings were configured for this device (else the defaults apply). */
  configured: z.boolean(),
  loops: z.array(ControlLoopStatus),
})
export type ControlStatus = z.infer<typeof ControlStatus>
