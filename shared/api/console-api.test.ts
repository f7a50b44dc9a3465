import { describe, expect, it } from 'vitest'
import { API_METHODS, parseConsoleEvent } from './console-api.ts'
import { EVENT_KINDS } from './events.ts'

describe('console API contract', () => {
  it('has a distinct domain:verb channel per method', () => {
    const channels = Object.values(API_METHODS).map((m) => m.channel)
    expect(new Set(channels).size).toBe(channels.length)
    for (const c of channels) expect(c).toMatch(/^[a-z]+:[a-z-]+$/)
  })

  it('validates paths, endpoints and options', () => {
    const read = API_METHODS.read.input
    expect(read.safeParse({ endpoint: 'e', path: '/3/0/1' }).success).toBe(true)
    expect(read.safeParse({ endpoint: 'e', path: '/dev0/3/0' }).success).toBe(true)
    expect(read.safeParse({ endpoint: 'e', path: '/' }).success).toBe(true)
    expect(read.safeParse({ endpoint: 'e', path: '3/0' }).success).toBe(false)
    expect(read.safeParse({ endpoint: 'e', path: '/3/0/1/2/3' }).success).toBe(false)
    expect(read.safeParse({ endpoint: '', path: '/3' }).success).toBe(false)
    expect(read.safeParse({ endpoint: 'e', path: '/3', format: 'senml-cbor', timeoutMs: 100 }).success).toBe(true)
    expect(read.safeParse({ endpoint: 'e', path: '/3', format: 'xml' }).success).toBe(false)
    expect(API_METHODS.create.input.safeParse({ endpoint: 'e', objectId: 70000, records: [] }).success).toBe(false)
    expect(API_METHODS.observe.input.safeParse({ endpoint: 'e', paths: [] }).success).toBe(false)
    expect(API_METHODS.listClients.input.safeParse({}).success).toBe(true)
  })

  it('parses every event kind and rejects the rest', () => {
    const client = {
      endpoint: 'e', registrationId: 'r', address: '::1', port: 1, secure: false, lwm2mVersion: '1.1', binding: 'U', lifetime: 1, queueMode: false,
      registeredAt: 1, lastUpdateAt: 1, online: true, state: 'awake', rootPath: '/', contentFormats: [], objectLinks: '', objects: [], extraAttributes: {}, queuedRequests: 0,
    }
    const samples = {
      registered: { client, replaced: false },
      updated: { client, objectsChanged: true },
      deregistered: { endpoint: 'e', registrationId: 'r' },
      expired: { endpoint: 'e', registrationId: 'r' },
      sleeping: { endpoint: 'e' },
      awake: { endpoint: 'e', queuedRequests: 0 },
      notification: { endpoint: 'e', observationId: 'o', paths: ['/3/0/9'], code: '2.05', records: [{ path: '/3/0/9', value: 5, time: 1.5 }] },
      send: { endpoint: 'e', records: [] },
      log: { level: 'info', message: 'm', wire: { direction: 'out', peer: 'p', method: 'GET', path: '/3' } },
      gateway: { status: { running: false, endpoint: 'gw', adapter: 'virtual', adapterState: 'off', registered: false, scanning: false, discovered: [], sensors: [] } },
      control: { endpoint: 'e', path: '/1031/0/2', dropRatio: 0.05, oldRate: 150, newRate: 145 },
      update: { status: { state: 'downloading', currentVersion: '0.1.0', availableVersion: '0.2.0', progress: { percent: 40, transferredBytes: 4, totalBytes: 10, bytesPerSecond: 2 }, checkOnStart: false } },
    }
    for (const kind of EVENT_KINDS) expect(parseConsoleEvent({ kind, time: 1, ...samples[kind] })?.kind).toBe(kind)
    expect(parseConsoleEvent({ kind: 'bogus', time: 1 })).toBeUndefined()
    expect(parseConsoleEvent({ kind: 'sleeping' })).toBeUndefined()
    expect(parseConsoleEvent(null)).toBeUndefined()
  })
})
