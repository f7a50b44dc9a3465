import { AdapterSetting, type ConnectedSensor, type DiscoveredSensor, type GatewayStatus } from '../../../shared/api/gateway-schemas.ts'
import { fail, ok, type Result } from '../../../shared/api/result.ts'
import { formatRoute } from './route.ts'

/**
 * What the local gateway panel shows, computed from a GatewayStatus: scan results in signal order,
 * link figures as short text, the adapter setting split into what the form edits. Pure: the gateway
 * store feeds it, the view draws it.
 */

/** The adapter kinds the settings form offers; `hci` and `uart` take a detail (device number, serial port). */
export type AdapterKind = 'virtual' | 'default' | 'hci' | 'uart'

export interface AdapterChoice {
  readonly kind: AdapterKind
  /** `hci`: the device number ('' = the first); `uart`: the serial port path. */
  readonly detail: string
}

/** Splits a setting (`hci:1`, `uart:/dev/ttyACM0`) into the form's kind and detail. */
export function adapterChoice(setting: string): AdapterChoice {
  if (setting === 'virtual' || setting === 'default' || setting === 'hci') return { kind: setting, detail: '' }
  if (setting.startsWith('hci:')) return { kind: 'hci', detail: setting.slice(4) }
  if (setting.startsWith('uart:')) return { kind: 'uart', detail: setting.slice(5) }
  return { kind: 'default', detail: '' }
}

/** Joins the form's kind and detail into a setting, checked against the contract's schema; the error says what is wrong. */
export function adapterSetting(choice: AdapterChoice): Result<AdapterSetting> {
  const detail = choice.detail.trim()
  let text: string = choice.kind
  if (choice.kind === 'hci' && detail !== '') text = `hci:${detail}`
  if (choice.kind === 'uart') {
    if (detail === '') return fail('invalid_input', 'adapter uart needs the serial port, e.g. /dev/ttyACM0')
    text = `uart:${detail}`
  }
  const parsed = AdapterSetting.safeParse(text)
  if (!parsed.success) {
    const reason = choice.kind === 'hci' ? 'the HCI device is a number from 0 to 999' : (parsed.error.issues[0]?.message ?? 'not a known adapter')
    return fail('invalid_input', `adapter "${text}": ${reason}`)
  }
  return ok(parsed.data)
}

/** Discovered devices, strongest signal first (then by address, so equal rows do not swap places). */
export function sortByRssi(list: readonly DiscoveredSensor[]): DiscoveredSensor[] {
  return [...list].sort((a, b) => b.rssi - a.rssi || a.address.localeCompare(b.address))
}

/** Addresses compared without case or separators (`C0:07:…` and `c00701…` are one device). */
export function sameAddress(a: string, b: string): boolean {
  const norm = (s: string): string => s.toLowerCase().replace(/[^0-9a-f]/g, '')
  return norm(a) === norm(b)
}

/** A discovered device the panel may offer to connect: connectable and not connected already. */
export function canConnect(device: DiscoveredSensor, sensors: readonly ConnectedSensor[]): boolean {
  return device.connectable && !sensors.some((s) => s.connected && sameAddress(s.address, device.address))
}

export type SignalQuality = 'good' | 'fair' | 'poor' | 'unknown'

/** Rough RSSI bands for the colour of the figure (BLE: above −70 dBm is comfortable, below −85 dBm drops packets). */
export function signalQuality(rssi: number | undefined): SignalQuality {
  if (rssi === undefined || !Number.isFinite(rssi)) return 'unknown'
  if (rssi >= -70) return 'good'
  if (rssi >= -85) return 'fair'
  return 'poor'
}

export function formatRssi(rssi: number | undefined): string {
  return rssi === undefined || !Number.isFinite(rssi) ? '—' : `${Math.round(rssi)} dBm`
}

/** 0.0123 → "1.2 %". */
export function formatDropRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(1)} %` : '—'
}

/** Notifications per second with one decimal. */
export function formatPerSecond(rate: number): string {
  return Number.isFinite(rate) ? `${rate.toFixed(1)} /s` : '—'
}

/** The drop ratio the adaptive rule reacts to (REFERENCE.md §1): above it the figure is flagged. */
export const DROP_RATIO_THRESHOLD = 0.02

/** The route to a twin in the gateway client's tree. */
export function twinHash(endpoint: string, objectId: number): string {
  return formatRoute({ view: 'client', endpoint, path: `/${objectId}` })
}

/** One line for the event log. */
export function describeGatewayStatus(status: GatewayStatus): string {
  if (!status.running) return `local gateway ${status.endpoint} stopped${status.error ? `: ${status.error}` : ''}`
  const parts = [
    `local gateway ${status.endpoint} on ${status.adapter} (${status.adapterState})`,
    status.registered ? 'registered' : 'not registered',
    `${status.sensors.filter((s) => s.connected).length} sensors connected`,
  ]
  if (status.scanning) parts.push(`scanning, ${status.discovered.length} found`)
  if (status.error) parts.push(`last error: ${status.error}`)
  return parts.join(', ')
}

/** The slider and input limits for a virtual sensor's link (the contract allows 0–1000 m; a demo room needs less). */
export const DISTANCE_SLIDER_MAX_M = 50
export const DISTANCE_MAX_M = 1000

/**
 * Parses a number typed into a link field, clamped to [min, max]; undefined when it is not a number.
 * Takes a number too: Vue's v-model hands a number field's value over as one.
 */
export function parseLinkNumber(input: string | number, min: number, max: number): number | undefined {
  const text = String(input).trim()
  if (text === '') return undefined
  const n = Number(text)
  if (!Number.isFinite(n)) return undefined
  return Math.min(max, Math.max(min, n))
}
