import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import type { ConsoleApi } from '../../../shared/api/console-api.ts'
import type { ConsoleSettings, GatewayStatus, SettingsPatch } from '../../../shared/api/gateway-schemas.ts'
import { fail, ok, type Result } from '../../../shared/api/result.ts'
import { provideApi } from '../api/api-context.ts'
import { fakeConsoleEvents } from './fake-console-events.test-helper.ts'
import { useGatewayStore } from './gateway.ts'

function status(extra: Partial<GatewayStatus> = {}): GatewayStatus {
  return { running: true, endpoint: 'console-gw', adapter: 'virtual', adapterState: 'poweredOn', registered: true, scanning: false, discovered: [], sensors: [], ...extra }
}

/**
 * A console API whose gateway side the test controls: each call is recorded and answered from
 * `answers` (else the current status), the event stream and connection state are driven by hand.
 */
function fakeApi() {
  const calls: string[] = []
  const events = fakeConsoleEvents('connecting')
  const state = { status: status(), settings: { localGateway: { enabled: true, adapter: 'virtual', endpoint: 'console-gw' } } as ConsoleSettings }
  const answers = new Map<string, Result<GatewayStatus>>()
  const answer = (name: string): Promise<Result<GatewayStatus>> => Promise.resolve(answers.get(name) ?? ok(state.status))
  const api = {
    gatewayStatus: () => (calls.push('status'), answer('status')),
    gatewayScan: (i: { seconds?: number }) => (calls.push(`scan ${i.seconds}`), answer('scan')),
    gatewayConnect: (i: { address: string }) => (calls.push(`connect ${i.address}`), answer('connect')),
    gatewayDisconnect: (i: { address: string }) => (calls.push(`disconnect ${i.address}`), answer('disconnect')),
    setVirtualLink: (i: object) => (calls.push(`link ${JSON.stringify(i)}`), answer('link')),
    getSettings: () => (calls.push('settings'), Promise.resolve(ok(state.settings))),
    updateSettings: (p: SettingsPatch) => {
      calls.push(`update ${JSON.stringify(p)}`)
      state.settings = { localGateway: { ...state.settings.localGateway, ...p.localGateway } }
      return Promise.resolve(ok(state.settings))
    },
    subscribe: events.subscribe,
    onConnection: events.onConnection,
  } as unknown as ConsoleApi
  return { api, calls, state, answers, emit: events.emit, connect: events.connect }
}

const flush = () => new Promise((r) => setTimeout(r, 0))
const sensorA = { address: 'c0:07:01:00:00:01', name: 'ECG 1', connected: true, rssi: -60, dropRatio: 0, notificationsPerSecond: 150, lastSeen: 1, twins: [{ objectId: 1031, service: 'f001', name: 'ECG (ECG 1)' }] }

describe('gateway store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('fetches at start and again on each (re)connection, then follows gateway events without polling', async () => {
    const f = fakeApi()
    provideApi(f.api)
    const store = useGatewayStore()
    store.start()
    await flush()
    expect(f.calls).toEqual(['status', 'settings'])
    expect(store.settings?.localGateway.adapter).toBe('virtual')

    f.emit({ kind: 'gateway', time: 10, status: status({ sensors: [sensorA] }) })
    expect(store.sensors.map((s) => s.address)).toEqual(['c0:07:01:00:00:01'])
    // An older status arriving late does not undo a newer one.
    f.emit({ kind: 'gateway', time: 5, status: status() })
    expect(store.sensors).toHaveLength(1)
    expect(f.calls).toEqual(['status', 'settings'])

    f.connect('open')
    await flush()
    expect(f.calls).toEqual(['status', 'settings', 'status', 'settings'])
  })

  it('keeps the status each operation answers', async () => {
    const f = fakeApi()
    provideApi(f.api)
    const store = useGatewayStore()
    f.answers.set('scan', ok(status({ scanning: true })))
    expect(await store.scan(5)).toBe(true)
    expect(store.status?.scanning).toBe(true)
    f.answers.set('connect', ok(status({ sensors: [sensorA] })))
    expect(await store.connect('c0:07:01:00:00:01')).toBe(true)
    expect(store.sensors).toHaveLength(1)
    f.answers.set('disconnect', ok(status()))
    expect(await store.disconnect('c0:07:01:00:00:01')).toBe(true)
    expect(store.sensors).toHaveLength(0)
    expect(await store.setVirtualLink({ sensor: 'ecg', interference: 0.4 })).toBe(true)
    expect(f.calls).toEqual(['scan 5', 'connect c0:07:01:00:00:01', 'disconnect c0:07:01:00:00:01', 'link {"sensor":"ecg","interference":0.4}'])
    expect(store.error).toBeUndefined()
    expect(store.busy.size).toBe(0)
  })

  it('names a failed operation and its cause, and clears it on the next success', async () => {
    const f = fakeApi()
    provideApi(f.api)
    const store = useGatewayStore()
    f.answers.set('connect', fail('timeout', 'no answer from c0:07:01:00:00:09 within 10 s'))
    expect(await store.connect('c0:07:01:00:00:09')).toBe(false)
    expect(store.error).toBe('Connect c0:07:01:00:00:09 failed: no answer from c0:07:01:00:00:09 within 10 s')
    expect(store.isBusy('connect:c0:07:01:00:00:09')).toBe(false)
    expect(await store.scan(0)).toBe(true)
    expect(store.error).toBeUndefined()
  })

  it('marks an operation busy while it runs', async () => {
    const f = fakeApi()
    provideApi(f.api)
    const store = useGatewayStore()
    const running = store.disconnect('c0:07:01:00:00:01')
    expect(store.isBusy('disconnect:c0:07:01:00:00:01')).toBe(true)
    await running
    expect(store.isBusy('disconnect:c0:07:01:00:00:01')).toBe(false)
  })

  it('saves settings and fetches the restarted gateway', async () => {
    const f = fakeApi()
    provideApi(f.api)
    const store = useGatewayStore()
    expect(await store.saveSettings({ adapter: 'hci:1' })).toBe(true)
    expect(store.settings?.localGateway).toEqual({ enabled: true, adapter: 'hci:1', endpoint: 'console-gw' })
    expect(f.calls).toEqual(['update {"localGateway":{"adapter":"hci:1"}}', 'status', 'settings'])
  })

  it('reports a status it cannot fetch', async () => {
    const f = fakeApi()
    provideApi(f.api)
    f.answers.set('status', fail('unsupported', 'this console has no local gateway'))
    const store = useGatewayStore()
    await store.refresh()
    expect(store.loadError).toBe('gateway status: this console has no local gateway')
    expect(store.settings).toBeDefined()
  })
})
