import { describe, expect, it } from 'vitest'
import type { ClientInfo } from '../../../shared/api/schemas.ts'
import { ObjectRegistry } from '../../../shared/lwm2m/object-registry.ts'
import { addressOf, clientRows, statusOf, type ClientEntry } from './client-list.ts'

const registry = ObjectRegistry.withBuiltins()

function info(endpoint: string, extra: Partial<ClientInfo> = {}): ClientInfo {
  return {
    endpoint,
    registrationId: 'r-' + endpoint,
    address: '127.0.0.1',
    port: 5000,
    secure: false,
    lwm2mVersion: '1.1',
    binding: 'U',
    lifetime: 300,
    queueMode: false,
    registeredAt: 1,
    lastUpdateAt: 1,
    online: true,
    state: 'awake',
    rootPath: '/',
    contentFormats: [],
    objectLinks: '',
    objects: [],
    extraAttributes: {},
    queuedRequests: 0,
    ...extra,
  }
}

const entry = (i: ClientInfo, status = statusOf(i)): ClientEntry => ({ info: i, status, changedAt: 0 })

describe('clientRows', () => {
  const entries = [
    entry(info('gw-10', { objects: [{ objectId: 3, instances: [0] }, { objectId: 1031, instances: [0] }, { objectId: 1032, instances: [0] }], lastUpdateAt: 50 })),
    entry(info('gw-9', { address: '::1', lifetime: 60, lastUpdateAt: 70, objects: [{ objectId: 3303, instances: [0] }] })),
    entry(info('sleepy', { queueMode: true, state: 'sleeping', binding: 'UQ' })),
    entry(info('gone', { online: false })),
  ]

  it('counts twins and formats addresses', () => {
    expect(addressOf(info('v6', { address: 'fe80::1', port: 1 }))).toBe('[fe80::1]:1')
    const rows = clientRows(entries, registry, '', 'endpoint', false)
    expect(rows.map((r) => [r.endpoint, r.twins, r.address, r.status])).toEqual([
      ['gone', 0, '127.0.0.1:5000', 'offline'],
      ['gw-9', 0, '[::1]:5000', 'online'],
      ['gw-10', 2, '127.0.0.1:5000', 'online'],
      ['sleepy', 0, '127.0.0.1:5000', 'sleeping'],
    ])
  })

  it('sorts by a column either way, endpoint breaking ties', () => {
    expect(clientRows(entries, registry, '', 'twins', true).map((r) => r.endpoint)).toEqual(['gw-10', 'gone', 'gw-9', 'sleepy'])
    expect(clientRows(entries, registry, '', 'status', false).map((r) => r.endpoint)).toEqual(['gw-9', 'gw-10', 'sleepy', 'gone'])
    expect(clientRows(entries, registry, '', 'lastUpdateAt', true).map((r) => r.endpoint)[0]).toBe('gw-9')
    expect(clientRows(entries, registry, '', 'lifetime', false).map((r) => r.endpoint)[0]).toBe('gw-9')
  })

  it('filters on every word', () => {
    expect(clientRows(entries, registry, 'GW', 'endpoint', false).map((r) => r.endpoint)).toEqual(['gw-9', 'gw-10'])
    expect(clientRows(entries, registry, 'gw ::1', 'endpoint', false).map((r) => r.endpoint)).toEqual(['gw-9'])
    expect(clientRows(entries, registry, 'sleeping', 'endpoint', false).map((r) => r.endpoint)).toEqual(['sleepy'])
    expect(clientRows(entries, registry, 'nothing', 'endpoint', false)).toEqual([])
  })
})
