import { afterEach, describe, it, expect } from 'vitest'
import { BleAdapter } from './ble-adapter.ts'
import { BleError } from './ble-error.ts'
import { backoffDelay } from './backoff.ts'
import { disconnectReasonText } from './hci-reasons.ts'
import { explainHciState, hciNoble, loadWithBindings } from './noble-factory.ts'
import type { NobleFactory } from './noble-factory.ts'
import { attErrorName } from '../../../shared/ble/att-errors.ts'

const adapters: BleAdapter[] = []
function adapter(noble: NobleFactory, options: Partial<ConstructorParameters<typeof BleAdapter>[0]> = {}): BleAdapter {
  const a = new BleAdapter({ noble, stateTimeoutMs: 3000, ...options })
  adapters.push(a)
  return a
}

afterEach(async () => {
  for (const a of adapters.splice(0)) await a.close()
})

async function rejection(p: Promise<unknown>): Promise<BleError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(BleError)
    return e as BleError
  }
  throw new Error('expected a rejection')
}

describe('BleAdapter without a usable adapter', () => {
  it('reports a noble that cannot be loaded as a state, and refuses operations with that state', async () => {
    const a = adapter(() => {
      throw new Error('Cannot find module bluetooth_hci_socket.node')
    })
    const states: string[] = []
    a.on('state', (s) => states.push(s))
    expect(await a.init()).toBe('unavailable: noble could not be loaded (Cannot find module bluetooth_hci_socket.node)')
    expect(states).toEqual([a.state])
    const e = await rejection(a.startScan())
    expect(e.code).toBe('unavailable')
    expect(e.message).toContain('unavailable: noble could not be loaded')
    expect((await rejection(a.connect('c0:07:01:00:00:01'))).code).toBe('unavailable')
  })

  it('rejects a factory that returns something else than noble', async () => {
    const a = adapter(() => ({ hello: 'world' }))
    expect(await a.init()).toBe('unavailable: noble could not be loaded (the noble factory did not return a noble instance)')
  })

  it("runs noble's real HCI bindings on a machine without Bluetooth: a clear state, no crash", async () => {
    // Loads the native HCI socket; there is no Bluetooth in the test environment (no /sys/class/bluetooth).
    const a = adapter(hciNoble())
    const state = await a.init()
    expect(state).toMatch(/^(unavailable: no adapter|unsupported: hci0|unauthorized: needs cap_net_raw|poweredOff: hci0 is down)/)
    await expect(a.waitForPoweredOn(200)).rejects.toThrow(`adapter not powered on within 200 ms: ${a.state}`)
    const e = await rejection(a.startScan())
    expect(e.code).toBe('unavailable')
  })

  it('finds the noble version this code was written against', () => {
    expect(typeof loadWithBindings()).toBe('function')
  })

  it('explains noble states for Linux HCI', () => {
    expect(explainHciState('unauthorized')).toMatch(/^unauthorized: needs cap_net_raw/)
    expect(explainHciState('unsupported')).toMatch(/^unavailable: no adapter|^unsupported/)
    expect(explainHciState('poweredOn')).toBeUndefined()
  })

  it('is closed for good after close()', async () => {
    const a = adapter(() => {
      throw new Error('nope')
    })
    await a.init()
    await a.close()
    expect(a.state).toBe('closed')
    expect((await rejection(a.startScan())).code).toBe('closed')
    expect((await rejection(a.read('c00701000001', '180f', '2a19'))).code).toBe('closed')
  })

  it('refuses GATT operations on a device that is not connected, and bad ids', async () => {
    const a = adapter(() => {
      throw new Error('nope')
    })
    expect((await rejection(a.read('c00701000001', '180f', '2a19'))).code).toBe('not-connected')
    expect((await rejection(a.subscribe('c00701000001', '180f', '2a19', () => undefined))).message).toBe('c00701000001 is not connected')
    expect((await rejection(a.readRssi('zz:top'))).code).toBe('invalid')
  })
})

describe('reconnect backoff', () => {
  it('grows exponentially up to the cap', () => {
    const p = { initialDelayMs: 100, factor: 2, maxDelayMs: 1000, jitter: 0 }
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(p, n))).toEqual([100, 200, 400, 800, 1000, 1000])
  })

  it('spreads delays by the jitter, never beyond the cap or below zero', () => {
    const p = { initialDelayMs: 1000, factor: 2, maxDelayMs: 3000, jitter: 0.5 }
    expect(backoffDelay(p, 1, () => 0)).toBe(500)
    expect(backoffDelay(p, 1, () => 0.999999)).toBe(1500)
    expect(backoffDelay(p, 5, () => 0.999999)).toBe(3000)
    expect(backoffDelay({ initialDelayMs: 10, jitter: 1 }, 1, () => 0)).toBe(0)
  })
})

describe('reasons', () => {
  it('names disconnect reasons and ATT errors', () => {
    expect(disconnectReasonText(0x08)).toBe('Connection Timeout (supervision timeout: the peripheral went silent or out of range) (0x08)')
    expect(disconnectReasonText(0x13)).toBe('Remote User Terminated Connection (0x13)')
    expect(disconnectReasonText(0x99)).toBe('HCI status (0x99)')
    expect(disconnectReasonText('cleanup')).toBe('the adapter left the poweredOn state')
    expect(attErrorName(0x13)).toBe('Value Not Allowed (0x13)')
    expect(attErrorName(0x80)).toBe('Application Error 0x80 (0x80)')
    expect(attErrorName(0x0a)).toBe('Attribute Not Found (0x0a)')
    expect(BleError.att('write 2a39', 0x80, 0x1e).message).toBe('write 2a39: ATT error Application Error 0x80 (0x80) on handle 0x001e')
  })
})
