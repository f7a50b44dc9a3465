import type { ConsoleEvent } from '../../shared/api/events.ts'
import type { ClientInfo, RecordJson } from '../../shared/api/schemas.ts'
import { clientStateTopic, dataTopic } from './topics.ts'

/**
 * What the bridge publishes for a console event (docs/mqtt.md): retained client states, and values per
 * resource — one message per notification and resource, with the batch's samples as arrays, never one message
 * per ECG sample.
 */

export interface OutgoingMessage {
  readonly topic: string
  readonly payload: string
  readonly retain: boolean
  /** Values (dropped while the broker is away) rather than state (republished on every connect). */
  readonly telemetry: boolean
}

export type ClientStateEvent = 'registered' | 'updated' | 'sleeping' | 'awake' | 'deregistered' | 'expired' | 'present'

/** The retained state of a registered client. */
export function registeredState(prefix: string, client: ClientInfo, event: ClientStateEvent, time: number): OutgoingMessage {
  return {
    topic: clientStateTopic(prefix, client.endpoint),
    payload: JSON.stringify({ endpoint: client.endpoint, registered: true, event, time, client }),
    retain: true,
    telemetry: false,
  }
}

/** The retained state of a client that is gone. */
export function goneState(prefix: string, endpoint: string, event: 'deregistered' | 'expired', time: number, registrationId?: string): OutgoingMessage {
  return {
    topic: clientStateTopic(prefix, endpoint),
    payload: JSON.stringify({ endpoint, registered: false, event, time, ...(registrationId !== undefined ? { registrationId } : {}) }),
    retain: true,
    telemetry: false,
  }
}

interface Series {
  readonly first: RecordJson
  readonly times: number[]
  readonly values: Array<string | number | boolean>
}

/**
 * Values grouped by resource path, in the order they came. A record's own time (SenML, seconds) becomes ms;
 * a record without one gets the time the console received it.
 */
export function valueMessages(prefix: string, endpoint: string, records: readonly RecordJson[], receivedAt: number, source: { kind: 'notification'; observationId: string } | { kind: 'send' }): OutgoingMessage[] {
  const byPath = new Map<string, Series>()
  for (const record of records) {
    let series = byPath.get(record.path)
    if (!series) byPath.set(record.path, (series = { first: record, times: [], values: [] }))
    series.times.push(record.time === undefined ? receivedAt : Math.round(record.time * 1_000_000) / 1000)
    series.values.push(record.value)
  }
  const messages: OutgoingMessage[] = []
  for (const [path, { first, times, values }] of byPath) {
    const body = {
      endpoint,
      path,
      ...(first.name !== undefined ? { name: first.name } : {}),
      ...(first.type !== undefined ? { type: first.type } : {}),
      source: source.kind,
      ...(source.kind === 'notification' ? { observationId: source.observationId } : {}),
      receivedAt,
      times,
      values,
    }
    messages.push({ topic: dataTopic(prefix, endpoint, path), payload: JSON.stringify(body), retain: false, telemetry: true })
  }
  return messages
}

/**
 * The messages for one console event; `client` looks up a registered client (for sleeping/awake, whose events
 * carry only the name). Events the bridge does not publish (log, gateway) give none.
 */
export function messagesFor(prefix: string, event: ConsoleEvent, client: (endpoint: string) => ClientInfo | undefined): OutgoingMessage[] {
  switch (event.kind) {
    case 'registered':
      return [registeredState(prefix, event.client, 'registered', event.time)]
    case 'updated':
      return [registeredState(prefix, event.client, 'updated', event.time)]
    case 'sleeping':
    case 'awake': {
      const info = client(event.endpoint)
      return info ? [registeredState(prefix, info, event.kind, event.time)] : []
    }
    case 'deregistered':
    case 'expired':
      return [goneState(prefix, event.endpoint, event.kind, event.time, event.registrationId)]
    case 'notification':
      // A notification that could not be decoded has no values to forward (the console's log says why).
      return valueMessages(prefix, event.endpoint, event.records, event.time, { kind: 'notification', observationId: event.observationId })
    case 'send':
      return valueMessages(prefix, event.endpoint, event.records, event.time, { kind: 'send' })
    default:
      return []
  }
}
