import { describe, expect, it } from 'vitest'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import type { ClientInfo } from '../../shared/api/schemas.ts'
import { messagesFor } from './telemetry.ts'

const client = {
  endpoint: 'gw', registrationId: 'r1', address: '127.0.0.1', port: 5683, secure: false, lwm2mVersion: '1.1', binding: 'U', lifetime: 60, queueMode: false,
  registeredAt: 1, lastUpdateAt: 1, online: true, state: 'awake', rootPath: '/', contentFormats: [], objectLinks: '', objects: [], extraAttributes: {}, queuedRequests: 0,
} as unknown as ClientInfo

const payloads = (event: ConsoleEvent, known?: ClientInfo) => messagesFor('p', event, () => known).map((m) => ({ ...m, body: JSON.parse(m.payload) as Record<string, unknown> }))

describe('what the bridge publishes for console events', () => {
  it('one message per notification and resource: a batch of ECG samples is one message with arrays', () => {
    const records = Array.from({ length: 25 }, (_, i) => ({ path: '/1031/0/1', name: 'ECG Value', type: 'integer' as const, value: i * 10, time: 1_767_225_700 + i / 250 }))
    const [message, ...rest] = payloads({ kind: 'notification', time: 1_767_225_701_000, endpoint: 'gw', observationId: 'o1', paths: ['/1031/0/1'], code: '2.05', records })
    expect(rest).toEqual([])
    expect(message).toMatchObject({ topic: 'p/clients/gw/data/1031/0/1', retain: false, telemetry: true })
    expect(message?.body).toMatchObject({ endpoint: 'gw', path: '/1031/0/1', name: 'ECG Value', type: 'integer', source: 'notification', observationId: 'o1', receivedAt: 1_767_225_701_000 })
    expect(message?.body['values']).toEqual(records.map((r) => r.value))
    // Device times in ms (to the µs), in order.
    expect(message?.body['times']).toEqual(records.map((_, i) => 1_767_225_700_000 + i * 4))
  })

  it('splits an instance notification by resource; values without a time get the time the console received them', () => {
    const messages = payloads({ kind: 'send', time: 5000, endpoint: 'gw', records: [{ path: '/3/0/9', value: 80 }, { path: '/3/0/7/0', value: 3300 }, { path: '/3/0/9', value: 79, time: 6 }] })
    expect(messages.map((m) => m.topic)).toEqual(['p/clients/gw/data/3/0/9', 'p/clients/gw/data/3/0/7/0'])
    expect(messages[0]?.body).toMatchObject({ source: 'send', times: [5000, 6000], values: [80, 79] })
    expect(messages[0]?.body).not.toHaveProperty('observationId')
  })

  it('retained states for registrations, updates, sleep and wake, de-registrations and expiries', () => {
    expect(payloads({ kind: 'registered', time: 1, client, replaced: false })[0]).toMatchObject({ topic: 'p/clients/gw/state', retain: true, telemetry: false, body: { registered: true, event: 'registered', client: { endpoint: 'gw' } } })
    expect(payloads({ kind: 'updated', time: 2, client, objectsChanged: true })[0]?.body).toMatchObject({ event: 'updated' })
    expect(payloads({ kind: 'sleeping', time: 3, endpoint: 'gw' }, client)[0]?.body).toMatchObject({ registered: true, event: 'sleeping' })
    expect(payloads({ kind: 'awake', time: 3, endpoint: 'gone', queuedRequests: 0 })).toEqual([])
    expect(payloads({ kind: 'deregistered', time: 4, endpoint: 'gw', registrationId: 'r1' })[0]).toMatchObject({ retain: true, body: { endpoint: 'gw', registered: false, event: 'deregistered', registrationId: 'r1' } })
    expect(payloads({ kind: 'expired', time: 5, endpoint: 'gw', registrationId: 'r1' })[0]?.body).toMatchObject({ registered: false, event: 'expired' })
    expect(payloads({ kind: 'log', time: 6, level: 'info', message: 'm' })).toEqual([])
  })
})
