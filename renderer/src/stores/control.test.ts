import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import type { ConsoleApi } from '../../../shared/api/console-api.ts'
import { DEFAULT_CONTROL_SETTINGS, type ConfigureControlInput, type ControlStatus } from '../../../shared/api/control-schemas.ts'
import type { ConsoleEvent } from '../../../shared/api/events.ts'
import { fail, ok, type Result } from '../../../shared/api/result.ts'
import { provideApi } from '../api/api-context.ts'
import { useControlStore } from './control.ts'
import { fakeConsoleEvents } from './fake-console-events.test-helper.ts'

const RATE = '/1031/0/2'

function status(extra: Partial<ControlStatus> = {}): ControlStatus {
  return { endpoint: 'gw', settings: DEFAULT_CONTROL_SETTINGS, configured: false, loops: [{ path: RATE, sensor: 'c0:07:01:00:00:01', state: 'running', rate: 150 }], ...extra }
}

/**
 * A console API whose control side the test drives: each call is recorded and waits until the test
 * answers it (in any order); events and connection states are sent by hand.
 */
function fakeApi() {
  const calls: string[] = []
  const pending: ((r: Result<ControlStatus>) => void)[] = []
  const events = fakeConsoleEvents('connecting')
  const wait = (): Promise<Result<ControlStatus>> => new Promise((resolve) => pending.push(resolve))
  const api = {
    getControl: (i: { endpoint: string }) => (calls.push(`get ${i.endpoint}`), wait()),
    configureControl: (i: ConfigureControlInput) => (calls.push(`configure ${JSON.stringify(i)}`), wait()),
    subscribe: events.subscribe,
    onConnection: events.onConnection,
  } as unknown as ConsoleApi
  return { api, calls, answer: (index: number, r: Result<ControlStatus>) => pending[index]?.(r), emit: events.emit, connect: events.connect }
}

const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 0))
const decision = (extra: Partial<Extract<ConsoleEvent, { kind: 'control' }>> = {}): ConsoleEvent => ({ kind: 'control', time: 1000, endpoint: 'gw', path: RATE, dropRatio: 0.05, oldRate: 150, newRate: 145, ...extra })

describe('adaptive sampling store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('fetches a tracked device, again on each reconnection, and follows its decisions without polling', async () => {
    const f = fakeApi()
    provideApi(f.api)
    const store = useControlStore()
    store.track('gw')
    expect(f.calls).toEqual(['get gw'])
    f.answer(0, ok(status()))
    await flush()
    expect(store.entry('gw').status?.loops[0]?.rate).toBe(150)
    expect(store.thresholdOf('gw')).toBe(0.02)

    f.emit(decision())
    expect(store.entry('gw').status?.loops[0]).toMatchObject({ rate: 145, dropRatio: 0.05, lastDecisionAt: 1000 })
    // Another device's decisions are not this panel's.
    f.emit(decision({ endpoint: 'other', newRate: 60 }))
    expect(store.entry('other').status).toBeUndefined()
    expect(f.calls).toEqual(['get gw'])

    f.connect('open')
    expect(f.calls).toEqual(['get gw', 'get gw'])
    // Untracked: no fetch on reconnection, decisions ignored.
    store.untrack('gw')
    f.connect('open')
    f.emit(decision({ newRate: 140 }))
    expect(f.calls).toEqual(['get gw', 'get gw'])
    expect(store.entry('gw').status?.loops[0]?.rate).toBe(145)
  })

  it('fetches the whole status when a decision names a twin it does not list yet', async () => {
    const f = fakeApi()
    provideApi(f.api)
    const store = useControlStore()
    store.track('gw')
    f.answer(0, ok(status()))
    await flush()
    f.emit(decision({ path: '/1032/0/2' }))
    expect(f.calls).toEqual(['get gw', 'get gw'])
  })

  it("keeps the console's answer to a change, or its reason for refusing it until the next success", async () => {
    const f = fakeApi()
    provideApi(f.api)
    const store = useControlStore()
    store.track('gw')
    f.answer(0, ok(status()))
    await flush()

    const refused = store.configure({ endpoint: 'gw', minRate: 600, maxRate: 500 })
    expect(store.entry('gw').saving).toBe(true)
    f.answer(1, fail('invalid_input', 'configureControl: minRate: minRate must not exceed maxRate'))
    expect(await refused).toBe(false)
    expect(store.entry('gw')).toMatchObject({ saving: false, saveError: 'configureControl: minRate: minRate must not exceed maxRate' })
    expect(store.entry('gw').status?.settings.minRate).toBe(50)

    const saved = store.configure({ endpoint: 'gw', enabled: false })
    f.answer(2, ok(status({ settings: { ...DEFAULT_CONTROL_SETTINGS, enabled: false }, configured: true, loops: [{ path: RATE, state: 'off' }] })))
    expect(await saved).toBe(true)
    expect(store.entry('gw')).toMatchObject({ saving: false, saveError: undefined, status: { configured: true, settings: { enabled: false } } })
    expect(f.calls[2]).toBe('configure {"endpoint":"gw","enabled":false}')
  })

  it('drops an answer that a newer request has overtaken', async () => {
    const f = fakeApi()
    provideApi(f.api)
    const store = useControlStore()
    store.track('gw')
    const saved = store.configure({ endpoint: 'gw', threshold: 0.05 })
    f.answer(1, ok(status({ settings: { ...DEFAULT_CONTROL_SETTINGS, threshold: 0.05 }, configured: true })))
    await saved
    // The first fetch, sent before the change, answers last with the old settings.
    f.answer(0, ok(status()))
    await flush()
    expect(store.thresholdOf('gw')).toBe(0.05)
  })

  it('reports a transport that throws instead of answering', async () => {
    const f = fakeApi()
    provideApi({ ...f.api, configureControl: () => Promise.reject(new Error('bridge gone')) } as ConsoleApi)
    const store = useControlStore()
    expect(await store.configure({ endpoint: 'gw', step: 10 })).toBe(false)
    expect(store.entry('gw')).toMatchObject({ saving: false, saveError: 'bridge gone' })
    store.dismissError('gw')
    expect(store.entry('gw').saveError).toBeUndefined()
  })
})
