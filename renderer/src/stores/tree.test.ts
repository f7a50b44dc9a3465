import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import type { ConsoleApi } from '../../../shared/api/console-api.ts'
import { objectModelToJson } from '../../../shared/api/model-json.ts'
import { fail, ok, type Result } from '../../../shared/api/result.ts'
import type { ClientInfo, ObjectModelJson } from '../../../shared/api/schemas.ts'
import { defineObject } from '../../../shared/lwm2m/models/compact.ts'
import { provideApi } from '../api/api-context.ts'
import { useClientsStore } from './clients.ts'
import { useTreeStore } from './tree.ts'

function info(extra: Partial<ClientInfo> = {}): ClientInfo {
  return {
    endpoint: 'gw', registrationId: 'r1', address: '127.0.0.1', port: 1, secure: false, lwm2mVersion: '1.1', binding: 'U', lifetime: 60, queueMode: false,
    registeredAt: 1, lastUpdateAt: 1, online: true, state: 'awake', rootPath: '/', contentFormats: [], objectLinks: '</1031/0>', extraAttributes: {}, queuedRequests: 0,
    objects: [{ objectId: 1031, instances: [0] }],
    ...extra,
  }
}

const twinModel = (id: number, name: string): ObjectModelJson => objectModelToJson(defineObject({ id, name }, [[2, 'Sampling rate (Hz)', 'RW', 'integer']]))

/** A console API that answers clientModels from `served` (a failure when it is undefined) and counts the calls. */
function fakeApi(): { api: ConsoleApi; served: { models: ObjectModelJson[] | undefined }; calls: string[] } {
  const served: { models: ObjectModelJson[] | undefined } = { models: [] }
  const calls: string[] = []
  const api = {
    clientModels: ({ endpoint }: { endpoint: string }): Promise<Result<ObjectModelJson[]>> => {
      calls.push(endpoint)
      return Promise.resolve(served.models ? ok(served.models) : fail('not_found', 'no such call'))
    },
    listObservations: () => Promise.resolve(ok([])),
  } as unknown as ConsoleApi
  return { api, served, calls }
}

const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 0))

describe('tree store: the server models of the client', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('fetches them when a client is opened and when its object list changes, and names the twins with them', async () => {
    const f = fakeApi()
    provideApi(f.api)
    f.served.models = [twinModel(1031, 'ECG (Patch 1)')]
    const clients = useClientsStore()
    clients.apply({ kind: 'registered', time: 1, client: info(), replaced: false })
    const tree = useTreeStore()
    tree.open('gw')
    await flush()
    expect(tree.tree[0]).toMatchObject({ name: 'ECG (Patch 1)', known: true, twin: true })
    expect(tree.tree[0]?.instances[0]?.resources.map((r) => r.name)).toEqual(['Sampling rate (Hz)'])

    // An Update without object changes fetches nothing; a new twin does.
    clients.apply({ kind: 'updated', time: 2, client: info({ lifetime: 90 }), objectsChanged: false })
    await flush()
    expect(f.calls).toEqual(['gw'])
    f.served.models = [twinModel(1031, 'ECG (Patch 1)'), twinModel(1032, 'Battery (Patch 1)')]
    clients.apply({ kind: 'updated', time: 3, client: info({ objectLinks: '</1031/0>,</1032/0>', objects: [{ objectId: 1031, instances: [0] }, { objectId: 1032, instances: [0] }] }), objectsChanged: true })
    await flush()
    expect(f.calls).toEqual(['gw', 'gw'])
    expect(tree.tree.map((o) => o.name)).toEqual(['ECG (Patch 1)', 'Battery (Patch 1)'])
  })

  it('falls back to generic names when the server has no models for the client', async () => {
    const f = fakeApi()
    provideApi(f.api)
    f.served.models = undefined
    useClientsStore().apply({ kind: 'registered', time: 1, client: info({ objects: [{ objectId: 1040, instances: [0] }], objectLinks: '</1040/0>' }), replaced: false })
    const tree = useTreeStore()
    tree.open('gw')
    await flush()
    expect(tree.tree[0]).toMatchObject({ name: 'Object 1040', known: false, twin: true })
  })
})
