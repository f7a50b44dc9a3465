import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API_METHODS, type ApiMethodName } from '../../shared/api/console-api.ts'
import type { ApiInput } from '../../shared/api/bridge.ts'
import type { Result } from '../../shared/api/result.ts'
import { API_DISPATCH, dispatchApi } from '../../electron/console/api-dispatch.ts'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { registerApiHandlers } from '../../electron/main/ipc-bridge.ts'
import { isTrustedSender } from '../../electron/main/window-policy.ts'
import { APP_FRAME_URL, ipcPair } from '../support/ipc-pair.ts'

/**
 * The main-process IPC handlers over a real ConsoleService (in memory, CoAP on a free port): every
 * method of the contract is handled on its channel, checks its sender and its input, and answers a
 * Result that fits the method's result schema.
 */

const METHODS = Object.keys(API_METHODS) as ApiMethodName[]

/** A valid input for every method (typed: a method added to the contract needs one here). */
const VALID: { [M in ApiMethodName]: ApiInput<M> } = {
  listClients: {},
  getClient: { endpoint: 'nobody' },
  clientModels: { endpoint: 'nobody' },
  read: { endpoint: 'nobody', path: '/3/0/0', format: 'tlv', timeoutMs: 100 },
  write: { endpoint: 'nobody', path: '/1/0/1', records: [{ path: '/1/0/1', value: 60 }] },
  execute: { endpoint: 'nobody', path: '/3/0/4', args: "0='x'" },
  discover: { endpoint: 'nobody', path: '/3' },
  writeAttributes: { endpoint: 'nobody', path: '/3/0/9', attributes: { pmin: 1, pmax: 10 } },
  create: { endpoint: 'nobody', objectId: 1, records: [] },
  delete: { endpoint: 'nobody', path: '/1/1' },
  observe: { endpoint: 'nobody', paths: ['/3/0/9'] },
  cancelObservation: { endpoint: 'nobody', path: '/', passive: true },
  listObservations: {},
  health: {},
  gatewayStatus: {},
  gatewayScan: { seconds: 0 },
  gatewayConnect: { address: 'c0:07:01:00:00:01' },
  gatewayDisconnect: { address: 'c0:07:01:00:00:01' },
  setVirtualLink: { sensor: 'ecg', interference: 0.5 },
  getSettings: {},
  updateSettings: { localGateway: { endpoint: 'objecttwin-local' } },
  history: { endpoint: 'nobody', path: '/3/0/9' },
  historySeries: {},
  exportHistoryCsv: { endpoint: 'nobody', path: '/3/0/9', from: 0, to: 1000 },
  mqttStatus: {},
  configureMqtt: { topicPrefix: 'objecttwin' },
  getControl: { endpoint: 'nobody' },
  configureControl: { endpoint: 'nobody', windowS: 2 },
  updateStatus: {},
  checkForUpdates: {},
  downloadUpdate: {},
  installUpdate: {},
  configureUpdates: { checkOnStart: true },
  listSecurity: {},
  setSecurity: { endpoint: 'nobody', identity: 'nobody-id', key: '000102030405060708090a0b0c0d0e0f' },
  deleteSecurity: { endpoint: 'nobody' },
  getSecurityPolicy: {},
  setSecurityPolicy: { refuseNoSec: false },
}

let service: ConsoleService
/** Names of the service methods the handlers called, through a recording proxy. */
const calls: string[] = []
let engine: ConsoleService

beforeAll(async () => {
  service = await ConsoleService.create({ coapPort: 0, onWarning: () => {} })
  engine = new Proxy(service, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls.push(String(name))
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
})

afterAll(async () => {
  await service?.close()
})

function handlersFor(frameUrl: string | null = APP_FRAME_URL): ReturnType<typeof ipcPair> {
  const pair = ipcPair(frameUrl)
  registerApiHandlers(pair.ipcMain, engine, (url) => isTrustedSender(url, undefined))
  return pair
}

describe('IPC handlers', () => {
  it('handles every API method on its own domain:verb channel, and the dispatch table covers them all', () => {
    const { handlers } = handlersFor()
    expect([...handlers.keys()].sort()).toEqual(METHODS.map((m) => API_METHODS[m].channel).sort())
    for (const m of METHODS) expect(API_METHODS[m].channel, m).toMatch(/^[a-z]+:[a-z-]+$/)
    expect(Object.keys(API_DISPATCH).sort()).toEqual([...METHODS].sort())
  })

  it('removes its handlers on request', () => {
    const pair = ipcPair()
    const remove = registerApiHandlers(pair.ipcMain, engine, () => true)
    remove()
    expect(pair.handlers.size).toBe(0)
  })

  it('answers every method with a Result whose value fits the result schema', async () => {
    const { ipcRenderer } = handlersFor()
    for (const method of METHODS) {
      const answer = (await ipcRenderer.invoke(API_METHODS[method].channel, VALID[method])) as Result<unknown>
      expect(typeof answer.ok, method).toBe('boolean')
      if (answer.ok) expect(API_METHODS[method].result.safeParse(answer.value).success, `${method}: ${JSON.stringify(answer.value)}`).toBe(true)
      else expect(answer.error.code, `${method}: ${answer.error.message}`).not.toBe('invalid_input')
    }
    // Methods that need no client succeed here.
    for (const method of ['listClients', 'listObservations', 'health', 'gatewayStatus', 'getSettings', 'historySeries', 'exportHistoryCsv'] as const) {
      const answer = (await ipcRenderer.invoke(API_METHODS[method].channel, VALID[method])) as Result<unknown>
      expect(answer.ok, method).toBe(true)
    }
    const missing = (await ipcRenderer.invoke(API_METHODS.getClient.channel, { endpoint: 'nobody' })) as Result<unknown>
    expect(missing).toEqual({ ok: false, error: { code: 'not_found', message: 'no client named nobody is registered' } })
  })

  it('rejects invalid input with invalid_input naming the field, before the service sees it', async () => {
    const { ipcRenderer } = handlersFor()
    calls.length = 0
    for (const method of METHODS) {
      const answer = (await ipcRenderer.invoke(API_METHODS[method].channel, 'not an object')) as Result<unknown>
      expect(answer.ok, method).toBe(false)
      if (!answer.ok) {
        expect(answer.error.code, method).toBe('invalid_input')
        expect(answer.error.message, method).toMatch(new RegExp(`^${method}: `))
      }
    }
    const cases: Array<[ApiMethodName, unknown, RegExp]> = [
      ['read', { endpoint: 'ep', path: 'three' }, /^read: path: path must look like/],
      ['read', { endpoint: '', path: '/3' }, /^read: endpoint: endpoint is empty/],
      ['write', { endpoint: 'ep', path: '/3/0/1', records: [] }, /^write: records: nothing to write/],
      ['write', { endpoint: 'ep', path: '/3/0/1', records: [{ path: '/3/0/1', value: { nested: true } }] }, /^write: records\.0\.value: /],
      ['observe', { endpoint: 'ep', paths: [] }, /^observe: paths: nothing to observe/],
      ['gatewayConnect', { address: 'not-an-address' }, /^gatewayConnect: address: address must look like/],
      ['listClients', { extra: 1 }, /^listClients: .*extra/],
      ['updateSettings', { localGateway: { adapter: 'bluetooth' } }, /^updateSettings: localGateway\.adapter: /],
      ['getClient', undefined, /^getClient: endpoint: /],
    ]
    for (const [method, input, message] of cases) {
      const answer = (await ipcRenderer.invoke(API_METHODS[method].channel, input)) as Result<unknown>
      expect(answer.ok ? 'ok' : answer.error.code, method).toBe('invalid_input')
      if (!answer.ok) expect(answer.error.message).toMatch(message)
    }
    expect(calls).toEqual([])
  })

  it('refuses every request from a frame that is not the app page, before the service sees it', async () => {
    calls.length = 0
    for (const frame of ['https://evil.example/', 'file:///tmp/evil.html', null]) {
      const { ipcRenderer } = handlersFor(frame)
      for (const method of METHODS) {
        const answer = (await ipcRenderer.invoke(API_METHODS[method].channel, VALID[method])) as Result<unknown>
        expect(answer.ok ? 'ok' : answer.error.code, `${method} from ${frame}`).toBe('unauthorized')
        if (!answer.ok) expect(answer.error.message).toContain(`${API_METHODS[method].channel}: refused a request from an untrusted frame`)
      }
    }
    expect(calls).toEqual([])
  })

  it('turns an exception in the engine into an internal error instead of throwing across IPC', async () => {
    const broken = new Proxy(service, {
      get(target, name, receiver) {
        if (name === 'listClients') return () => {
          throw new Error('store is gone')
        }
        return Reflect.get(target, name, receiver)
      },
    })
    expect(await dispatchApi(broken, 'listClients', {})).toEqual({ ok: false, error: { code: 'internal', message: 'listClients: store is gone' } })
    expect(await dispatchApi(service, 'nonsense' as ApiMethodName, {})).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
  })
})
