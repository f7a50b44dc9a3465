import type { ConsoleEvent } from '../../../shared/api/events.ts'
import { describeGatewayStatus } from './gateway.ts'
import { updateView } from './update.ts'

/** The endpoint an event is about, if any. */
export function eventEndpoint(e: ConsoleEvent): string | undefined {
  switch (e.kind) {
    case 'registered':
    case 'updated':
      return e.client.endpoint
    case 'log':
      return e.wire?.endpoint
    case 'gateway':
      return e.status.endpoint
    case 'update':
      return undefined
    default:
      return e.endpoint
  }
}

function values(records: readonly { path: string; value: string | number | boolean }[]): string {
  if (records.length === 0) return 'no values'
  const first = records.slice(0, 3).map((r) => `${r.path}=${String(r.value).slice(0, 24)}`)
  return records.length > 3 ? `${first.join(', ')} … (${records.length} values)` : first.join(', ')
}

/** One line saying what happened. */
export function describeEvent(e: ConsoleEvent): string {
  switch (e.kind) {
    case 'registered':
      return `registered${e.replaced ? ' again (replaces the old registration)' : ''}: LwM2M ${e.client.lwm2mVersion}, ${e.client.objects.length} objects, lifetime ${e.client.lifetime} s`
    case 'updated':
      return `updated${e.objectsChanged ? ': its objects changed' : ''}`
    case 'deregistered':
      return 'de-registered'
    case 'expired':
      return 'registration expired (no update within its lifetime)'
    case 'sleeping':
      return 'went to sleep (queue mode)'
    case 'awake':
      return `woke up${e.queuedRequests > 0 ? `; sending ${e.queuedRequests} queued requests` : ''}`
    case 'notification':
      return `notification ${e.code} for ${e.paths.join(', ')}: ${e.decodeError ? `cannot decode: ${e.decodeError}` : values(e.records)}`
    case 'send':
      return `sent ${values(e.records)}`
    case 'log':
      return e.message
    case 'gateway':
      return describeGatewayStatus(e.status)
    case 'control':
      return describeControl(e)
    case 'update':
      return `app update: ${updateView(e.status).headline}`
  }
}

/** An adaptive sampling decision: "sampling rate /1031/0/2 lowered 150 → 145 Hz (drop ratio 3.1 %)" and the like. */
export function describeControl(e: Extract<ConsoleEvent, { kind: 'control' }>): string {
  const drop = `drop ratio ${(e.dropRatio * 100).toFixed(1)} %`
  if (e.newRate < e.oldRate) return `sampling rate ${e.path} lowered ${e.oldRate} → ${e.newRate} Hz (${drop})`
  if (e.newRate > e.oldRate) return `sampling rate ${e.path} raised ${e.oldRate} → ${e.newRate} Hz (${drop})`
  // at a bound, or exactly at the threshold
  return `sampling rate ${e.path} stays at ${e.newRate} Hz (${drop})`
}
