/**
 * Fault injection on the virtual radio, observed through noble's real stack: each fault ends in a clear error or
 * disconnect event within its timeout. Also the link model seen by noble: losses under interference, transmit queue
 * overflow at the sensor, supervision timeout of a jammed link.
 */
import type { Characteristic, Noble, Peripheral } from '@stoprocent/noble'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { AttError } from '../../electron/ble/virtual/gatt-table.ts'
import type { VirtualPeripheral } from '../../electron/ble/virtual/virtual-peripheral.ts'
import type { VirtualRadio } from '../../electron/ble/virtual/virtual-radio.ts'
import { CHAR_NOTIFY, CHAR_READ, CHAR_WRITE, TEST_SERVICE, type TestPeripheral } from '../support/ble-virtual-fixture.ts'
import { disconnected, discover, scanFor, startVirtualNobleRig, stopVirtualNobleRig, until, within } from '../support/ble-virtual-helpers.ts'

let radio: VirtualRadio
let noble: Noble
let tp: TestPeripheral
let vp: VirtualPeripheral
let p: Peripheral
let chars: Map<string, Characteristic>

beforeAll(async () => {
  ;({ radio, noble, tp, vp } = await startVirtualNobleRig({ peripheral: 7, noble: 8 }))
})

afterAll(() => stopVirtualNobleRig({ radio, noble }))

beforeEach(async () => {
  vp.clearFaults()
  vp.setLink({ interference: 0, connectionIntervalMs: 7.5, packetsPerEvent: 4, txQueuePackets: 32, distanceM: 1 })
  p = await scanFor(noble, tp.definition.address)
  await within(p.connectAsync(), 10_000, 'connect')
  const { characteristics } = await within(p.discoverSomeServicesAndCharacteristicsAsync([TEST_SERVICE], []), 10_000, 'discovery')
  chars = new Map(characteristics.map((c) => [c.uuid, c]))
})

afterEach(async () => {
  vp.clearFaults()
  if (p.state === 'connected') {
    const gone = disconnected(p)
    await within(p.disconnectAsync(), 5000, 'disconnect')
    await gone
  }
})

const ch = (uuid: string): Characteristic => chars.get(uuid) as Characteristic

describe('fault injection', () => {
  it('disconnect(reason): noble gets the disconnect event with that reason', async () => {
    const gone = disconnected(p)
    expect(vp.disconnect(0x13)).toBe(true)
    expect(await gone).toBe(0x13)
    expect(p.state).toBe('disconnected')
    expect(tp.disconnects.at(-1)).toBe(0x13)
  })

  it('stopResponding(): GATT requests get no answer, the caller times out; the link stays up', async () => {
    vp.stopResponding()
    await expect(within(ch(CHAR_READ).readAsync(), 1000, 'read from a silent sensor')).rejects.toThrow(/timeout after 1000 ms: read from a silent sensor/)
    expect(p.state).toBe('connected')
    expect(await within(p.updateRssiAsync(), 5000, 'RSSI (HCI, not ATT)')).toBeLessThan(0)
  })

  it('failNext(read): noble turns the ATT error into an empty read', async () => {
    vp.failNext(0x0a, AttError.readNotPermitted)
    const v = await within(ch(CHAR_READ).readAsync(), 5000, 'failed read')
    expect(v.length).toBe(0)
    // Only the next one failed.
    expect((await within(ch(CHAR_READ).readAsync(), 5000, 'read')).length).toBe(2)
  })

  it('failNext(write): noble never calls back; the caller times out', async () => {
    tp.writes.length = 0
    vp.failNext(0x12, AttError.writeNotPermitted)
    await expect(within(ch(CHAR_WRITE).writeAsync(Buffer.from([1]), false), 1000, 'rejected write')).rejects.toThrow(/timeout/)
    expect(tp.writes).toEqual([])
  })

  it("failNext('any') on a CCCD write: subscribe never completes, no subscription", async () => {
    vp.failNext('any', AttError.insufficientResources)
    // noble reads the CCCD (Read By Type) first: that request takes the error and the subscribe stalls.
    await expect(within(ch(CHAR_NOTIFY).subscribeAsync(), 1000, 'subscribe')).rejects.toThrow(/timeout/)
    expect(tp.api?.isSubscribed(CHAR_NOTIFY)).toBe(false)
  })

  it('outOfRange(): supervision timeout (0x08), no advertising until back in range', async () => {
    const gone = disconnected(p, 5000)
    vp.outOfRange()
    expect(await gone).toBe(0x08)
    expect(tp.disconnects.at(-1)).toBe(0x08)
    // Not discoverable while out of range.
    const seen = discover(noble, tp.definition.address, 600)
    await noble.startScanningAsync([], true)
    await expect(seen).rejects.toThrow(/timeout/)
    const again = discover(noble, tp.definition.address, 5000)
    vp.backInRange()
    await again
    await noble.stopScanningAsync()
  })
})

describe('link model through noble', () => {
  /** ECG-like payload: seq u16 + sample i16. */
  async function stream(count: number, perTick: number): Promise<{ accepted: number; received: number[] }> {
    await within(ch(CHAR_NOTIFY).subscribeAsync(), 5000, 'subscribe')
    const received: number[] = []
    ch(CHAR_NOTIFY).on('data', (d: Buffer) => received.push(d.readUInt16LE(0)))
    let accepted = 0
    let seq = 0
    const payload = Buffer.alloc(4)
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        for (let i = 0; i < perTick && seq < count; i++) {
          payload.writeUInt16LE(seq++, 0)
          if (tp.api?.notify(CHAR_NOTIFY, payload)) accepted++
        }
        if (seq >= count) {
          clearInterval(t)
          resolve()
        }
      }, 2)
    })
    await until(() => vp.connection?.stats.notificationsQueued === count && (tp.api?.queued ?? 0) === 0, 10_000, 'queue drained')
    await new Promise((r) => setTimeout(r, 50))
    ch(CHAR_NOTIFY).removeAllListeners('data')
    return { accepted, received }
  }

  it('interference 0.2: about 20 % of the notifications are lost, in bursts (sequence gaps)', async () => {
    vp.setLink({ interference: 0.2, packetsPerEvent: 8 })
    const { accepted, received } = await stream(2000, 2)
    expect(accepted).toBe(2000)
    const loss = 1 - received.length / 2000
    expect(loss).toBeGreaterThan(0.12)
    expect(loss).toBeLessThan(0.28)
    let gaps = 0
    for (let i = 1; i < received.length; i++) if ((received[i] as number) !== (received[i - 1] as number) + 1) gaps++
    expect(gaps).toBeGreaterThan(10)
    expect(gaps).toBeLessThan(2000 * loss) // bursts: fewer gaps than lost packets
  })

  it('a sensor that outruns the link drops at its transmit queue (notify → false); nothing lost on the air', async () => {
    vp.setLink({ connectionIntervalMs: 50, packetsPerEvent: 1, txQueuePackets: 8 })
    const { accepted, received } = await stream(200, 20)
    expect(accepted).toBeLessThan(150)
    expect(received.length).toBe(accepted)
    expect(vp.connection?.stats.droppedQueueFull).toBe(200 - accepted)
    expect(vp.connection?.stats.lostOnAir).toBe(0)
  })

  it('a connection interval set at run time reaches noble as LE Connection Update Complete; data keeps flowing', async () => {
    // noble does not surface connection updates in its API: listen on its HCI layer.
    const hci = (noble as unknown as { _bindings: { _hci: NodeJS.EventEmitter } })._bindings._hci
    const update = within(
      new Promise<number>((resolve) => hci.once('leConnUpdateComplete', (_status: number, _handle: number, interval: number) => resolve(interval))),
      5000,
      'LE Connection Update Complete',
    )
    vp.setLink({ connectionIntervalMs: 30 })
    expect(await update).toBe(30)
    const { accepted, received } = await stream(20, 20) // one burst that fits the transmit queue
    expect(accepted).toBe(20)
    expect(received).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  it('interference 1 jams the link: supervision timeout disconnect (0x08)', async () => {
    const gone = disconnected(p, 5000)
    vp.setLink({ interference: 1 })
    expect(await gone).toBe(0x08)
  })
})
