import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import type { ConnectionState, ConsoleApi } from '../../../shared/api/console-api.ts'
import type { ConsoleEvent } from '../../../shared/api/events.ts'
import { ok } from '../../../shared/api/result.ts'
import type { ClientInfo } from '../../../shared/api/schemas.ts'
import { provideApi } from '../api/api-context.ts'
import { useClientsStore } from './clients.ts'
import { fakeConsoleEvents } from './fake-console-events.test-helper.ts'

function info(endpoint: string, extra: Partial<ClientInfo> = {}): ClientInfo {
  return {
    endpoint, registrationId: 'r', address: '127.0.0.1', port: 1, secure: false, lwm2mVersion: '1.1', binding: 'U', lifetime: 60, queueMode: false,
    registeredAt: 1, lastUpdateAt: 1, online: true, state: 'awake', rootPath: '/', contentFormats: [], objectLinks: '', objects: [], extraAttributes: {}, queuedRequests: 0,
    ...extra,
  }
}

/** A console API whose server-side client list and event stream the test controls. */
function fakeApi(): { api: ConsoleApi; server: ClientInfo[]; emit(e: ConsoleEvent): void; connect(s: ConnectionState): void } {
  const server: ClientInfo[] = []
  const events = fakeConsoleEvents()
  const api = { listClients: () => Promise.resolve(ok([...server])), subscribe: events.subscribe, onConnection: events.onConnection } as unknown as ConsoleApi
  return { api, server, emit: events.emit, connect: events.connect }
}

const flush = () => new Promise((r) => setTimeout(r, 0))

describe('clients store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('follows registration events live', async () => {
    const f = fakeApi()
    provideApi(f.api)
    const store = useClientsStore()
    store.start()
    await flush()
    f.emit({ kind: 'registered', time: 10, client: info('a'), replaced: false })
    expect(store.get('a')).toMatchObject({ status: 'online', changedAt: 10 })
    f.emit({ kind: 'sleeping', time: 11, endpoint: 'a' })
    expect(store.get('a')?.status).toBe('sleeping')
    f.emit({ kind: 'awake', time: 12, endpoint: 'a', queuedRequests: 3 })
    expect(store.get('a')).toMatchObject({ status: 'online', info: { queuedRequests: 3, state: 'awake' } })
    f.emit({ kind: 'updated', time: 13, client: info('a', { lifetime: 99 }), objectsChanged: false })
    expect(store.get('a')?.info.lifetime).toBe(99)
    f.emit({ kind: 'expired', time: 14, endpoint: 'a', registrationId: 'r' })
    expect(store.get('a')).toMatchObject({ status: 'offline', info: { online: false } })
    f.emit({ kind: 'deregistered', time: 15, endpoint: 'unknown', registrationId: 'r' })
    expect(store.list.map((e) => e.info.endpoint)).toEqual(['a'])
    store.dismiss('a')
    expect(store.list).toEqual([])
  })

  it('resynchronises on reconnect: new clients appear, vanished ones go offline', async () => {
    const f = fakeApi()
    provideApi(f.api)
    f.server.push(info('a'), info('b'))
    const store = useClientsStore()
    store.start()
    await flush()
    expect(store.list.map((e) => e.status)).toEqual(['online', 'online'])
    f.server.splice(0, 2, info('b'), info('c', { queueMode: true, state: 'sleeping' }))
    f.connect('open')
    await flush()
    expect(Object.fromEntries(store.list.map((e) => [e.info.endpoint, e.status]))).toEqual({ a: 'offline', b: 'online', c: 'sleeping' })
  })
})
