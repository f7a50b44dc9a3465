/**
 * noble 2.8.0's real HCI / GAP / L2CAP / ATT stack against the virtual radio, in-process (createVirtualNoble):
 * power on, scan, connect, full discovery, reads (with Read Blob), writes (request, command, prepare/execute),
 * notify and indicate subscriptions, RSSI, disconnect; two links at once.
 */
import type { Characteristic, Noble, Peripheral } from '@stoprocent/noble'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VirtualPeripheral } from '../../electron/ble/virtual/virtual-peripheral.ts'
import { createVirtualNoble, type VirtualRadio } from '../../electron/ble/virtual/virtual-radio.ts'
import {
  CHAR_INDICATE,
  CHAR_LONG,
  CHAR_NOTIFY,
  CHAR_READ,
  CHAR_WRITE,
  LONG_VALUE,
  TEST_SERVICE,
  testPeripheral,
  type TestPeripheral,
} from '../support/ble-virtual-fixture.ts'
import { collect, disconnected, scanFor, startVirtualNobleRig, stopNoble, stopVirtualNobleRig, until, within } from '../support/ble-virtual-helpers.ts'

let radio: VirtualRadio
let noble: Noble
let tp: TestPeripheral
let vp: VirtualPeripheral

beforeAll(async () => {
  ;({ radio, noble, tp, vp } = await startVirtualNobleRig({ peripheral: 1, noble: 2 }))
})

afterAll(() => stopVirtualNobleRig({ radio, noble }))

describe('noble over the in-process virtual radio', () => {
  it('reaches poweredOn with the controller address', () => {
    expect(noble.state).toBe('poweredOn')
    expect(noble.address).toBe(radio.controllerOf(noble)?.address)
  })

  it('scans and discovers the peripheral with name, service UUIDs, TX power and RSSI', async () => {
    const p = await scanFor(noble, tp.definition.address)
    expect(p.id).toBe('c0ffee000001')
    expect(p.addressType).toBe('random')
    expect(p.connectable).toBe(true)
    expect(p.advertisement.localName).toBe('OT-Test')
    expect(p.advertisement.serviceUuids.sort()).toEqual(['180f', TEST_SERVICE].sort())
    expect(p.advertisement.txPowerLevel).toBe(-4)
    expect(p.rssi).toBeGreaterThan(-80)
    expect(p.rssi).toBeLessThan(-40)
  })

  describe('connected', () => {
    let p: Peripheral
    const chars = new Map<string, Characteristic>()
    const ch = (uuid: string): Characteristic => {
      const c = chars.get(uuid)
      if (!c) throw new Error(`characteristic ${uuid} not discovered`)
      return c
    }

    beforeAll(async () => {
      p = await scanFor(noble, tp.definition.address)
      await within(p.connectAsync(), 10_000, 'connect')
      await until(() => p.mtu === 247, 5000, 'MTU exchange')
    })

    it('is connected and exchanged the MTU (noble asks 256, the server answers 247)', () => {
      expect(p.state).toBe('connected')
      expect(vp.connected).toBe(true)
      expect(tp.mtus).toEqual([247])
      expect(tp.api?.mtu).toBe(247)
    })

    it('discovers all services, characteristics and descriptors', async () => {
      const { services, characteristics } = await within(p.discoverAllServicesAndCharacteristicsAsync(), 10_000, 'discovery')
      expect(services.map((s) => s.uuid)).toEqual(['1800', '1801', TEST_SERVICE, '180f'])
      for (const c of characteristics) chars.set(c.uuid, c)
      expect(ch(CHAR_READ).properties).toEqual(['read'])
      expect(ch(CHAR_WRITE).properties.sort()).toEqual(['read', 'write', 'writeWithoutResponse'])
      expect(ch(CHAR_NOTIFY).properties).toEqual(['notify'])
      expect(ch(CHAR_INDICATE).properties).toEqual(['indicate'])
      expect(ch('2a19').properties.sort()).toEqual(['notify', 'read'])
      const descriptors = async (uuid: string): Promise<string[]> =>
        (await within(ch(uuid).discoverDescriptorsAsync(), 5000, `descriptors of ${uuid}`)).map((d) => d.uuid)
      expect(await descriptors(CHAR_READ)).toEqual(['2901', '2904'])
      expect(await descriptors(CHAR_WRITE)).toEqual(['2901'])
      expect(await descriptors(CHAR_NOTIFY)).toEqual(['2902', '2901'])
      expect(await descriptors(CHAR_INDICATE)).toEqual(['2902', '2901'])
      expect(await descriptors(CHAR_LONG)).toEqual([])
    })

    it('reads the GAP device name and the descriptors 0x2901 / 0x2904', async () => {
      expect((await within(ch('2a00').readAsync(), 5000, 'read 2a00')).toString()).toBe('OT-Test')
      const [user, format] = await within(ch(CHAR_READ).discoverDescriptorsAsync(), 5000, 'descriptors')
      expect((await within(user!.readValueAsync(), 5000, 'read 2901')).toString()).toBe('Counter')
      expect([...(await within(format!.readValueAsync(), 5000, 'read 2904'))]).toEqual([0x06, 0x00, 0x00, 0x27, 0x01, 0x00, 0x00])
    })

    it('reads a dynamic value and a long value (Read Blob)', async () => {
      const a = (await within(ch(CHAR_READ).readAsync(), 5000, 'read')).readUInt16LE(0)
      const b = (await within(ch(CHAR_READ).readAsync(), 5000, 'read')).readUInt16LE(0)
      expect(b).toBe(a + 1)
      const long = await within(ch(CHAR_LONG).readAsync(), 5000, 'long read')
      expect(long.length).toBe(600)
      expect(long.equals(LONG_VALUE)).toBe(true)
    })

    it('writes with response, without response, and a long value through Prepare/Execute Write', async () => {
      tp.writes.length = 0
      await within(ch(CHAR_WRITE).writeAsync(Buffer.from('with'), false), 5000, 'write request')
      await within(ch(CHAR_WRITE).writeAsync(Buffer.from('without'), true), 5000, 'write command')
      await until(() => tp.writes.length === 2, 5000, 'write command delivered')
      const long = Buffer.from(Array.from({ length: 400 }, (_, i) => i & 0xff))
      await within(ch(CHAR_WRITE).writeAsync(long, false), 5000, 'long write')
      expect(tp.writes.map((w) => [w.value.toString('latin1'), w.withResponse])).toEqual([
        ['with', true],
        ['without', false],
        [long.toString('latin1'), true],
      ])
      // The stored value reads back (Read + Read Blob).
      expect((await within(ch(CHAR_WRITE).readAsync(), 5000, 'read back')).equals(long)).toBe(true)
    })

    it('subscribes to notifications and receives them in order', async () => {
      await within(ch(CHAR_NOTIFY).subscribeAsync(), 5000, 'subscribe notify')
      expect(tp.subscriptions).toContainEqual({ uuid: CHAR_NOTIFY, kinds: ['notify'] })
      expect(tp.api?.isSubscribed(CHAR_NOTIFY)).toBe(true)
      const arriving = collect(ch(CHAR_NOTIFY), 20)
      for (let i = 0; i < 20; i++) expect(tp.api?.notify(CHAR_NOTIFY, Buffer.from([i, 0xaa]))).toBe(true)
      const got = await arriving
      expect(got.map((b) => b[0])).toEqual(Array.from({ length: 20 }, (_, i) => i))
      await within(ch(CHAR_NOTIFY).unsubscribeAsync(), 5000, 'unsubscribe')
      expect(tp.subscriptions.at(-1)).toEqual({ uuid: CHAR_NOTIFY, kinds: [] })
      expect(tp.api?.notify(CHAR_NOTIFY, Buffer.from([1]))).toBe(false)
    })

    it('subscribes to indications; each is confirmed by noble', async () => {
      await within(ch(CHAR_INDICATE).subscribeAsync(), 5000, 'subscribe indicate')
      expect(tp.api?.subscriptions(CHAR_INDICATE)).toEqual(['indicate'])
      const arriving = collect(ch(CHAR_INDICATE), 3)
      const confirmed = [1, 2, 3].map(
        (i) => new Promise<boolean>((resolve) => expect(tp.api?.indicate(CHAR_INDICATE, Buffer.from([i]), resolve)).toBe(true)),
      )
      expect(await within(Promise.all(confirmed), 5000, 'confirmations')).toEqual([true, true, true])
      expect((await arriving).map((b) => b[0])).toEqual([1, 2, 3])
    })

    it('reads the RSSI of the link', async () => {
      const rssi = await within(p.updateRssiAsync(), 5000, 'RSSI')
      expect(rssi).toBeGreaterThan(-80)
      expect(rssi).toBeLessThan(-40)
    })

    it('disconnects: noble reports local termination (0x16), the sensor sees 0x13', async () => {
      const gone = disconnected(p)
      await within(p.disconnectAsync(), 5000, 'disconnect')
      expect(await gone).toBe(0x16)
      expect(tp.disconnects).toEqual([0x13])
      expect(vp.connected).toBe(false)
      expect(p.state).toBe('disconnected')
    })
  })

  it('holds two links at once, each with its own notifications', async () => {
    const a = testPeripheral('c0:ff:ee:00:00:0a', 'OT-A')
    const b = testPeripheral('c0:ff:ee:00:00:0b', 'OT-B')
    radio.addPeripheral(a.definition, { seed: 10 })
    radio.addPeripheral(b.definition, { seed: 11 })
    const pa = await scanFor(noble, a.definition.address)
    const pb = await scanFor(noble, b.definition.address)
    await within(pa.connectAsync(), 10_000, 'connect A')
    await within(pb.connectAsync(), 10_000, 'connect B')
    const ca = (await within(pa.discoverSomeServicesAndCharacteristicsAsync([TEST_SERVICE], [CHAR_NOTIFY]), 5000, 'A')).characteristics[0]!
    const cb = (await within(pb.discoverSomeServicesAndCharacteristicsAsync([TEST_SERVICE], [CHAR_NOTIFY]), 5000, 'B')).characteristics[0]!
    await within(ca.subscribeAsync(), 5000, 'subscribe A')
    await within(cb.subscribeAsync(), 5000, 'subscribe B')
    const ra = collect(ca, 10)
    const rb = collect(cb, 10)
    for (let i = 0; i < 10; i++) {
      a.api?.notify(CHAR_NOTIFY, Buffer.from([0xa0 + i]))
      b.api?.notify(CHAR_NOTIFY, Buffer.from([0xb0 + i]))
    }
    expect((await ra).map((x) => x[0])).toEqual(Array.from({ length: 10 }, (_, i) => 0xa0 + i))
    expect((await rb).map((x) => x[0])).toEqual(Array.from({ length: 10 }, (_, i) => 0xb0 + i))
    expect(radio.controllerOf(noble)?.connections.size).toBe(2)
    await within(pa.disconnectAsync(), 5000, 'disconnect A')
    await within(pb.disconnectAsync(), 5000, 'disconnect B')
    radio.removePeripheral(a.definition.address)
    radio.removePeripheral(b.definition.address)
  })

  it('extended scanning / connecting and data length extension when the controller offers them', async () => {
    const ext = createVirtualNoble(radio, { extended: true, dataLengthExtension: true, aclBufferLength: 251, aclBufferCount: 4, seed: 3 })
    try {
      await ext.waitForPoweredOnAsync(10_000)
      const controller = radio.controllerOf(ext)!
      const q = await scanFor(ext, tp.definition.address)
      expect(controller.extendedScanning).toBe(true)
      expect(q.advertisement.localName).toBe('OT-Test')
      expect(q.advertisement.serviceUuids).toContain(TEST_SERVICE)
      await within(q.connectAsync(), 10_000, 'extended connect')
      const conn = [...controller.connections.values()][0]!
      await until(() => conn.link.pduOctets === 251, 5000, 'data length change')
      const { characteristics } = await within(q.discoverSomeServicesAndCharacteristicsAsync([TEST_SERVICE], [CHAR_LONG, CHAR_NOTIFY]), 5000, 'discover')
      const long = characteristics.find((c) => c.uuid === CHAR_LONG)!
      expect((await within(long.readAsync(), 5000, 'long read')).equals(LONG_VALUE)).toBe(true)
      const n = characteristics.find((c) => c.uuid === CHAR_NOTIFY)!
      await within(n.subscribeAsync(), 5000, 'subscribe')
      const got = collect(n, 5)
      const big = Buffer.alloc(200, 0x5a)
      for (let i = 0; i < 5; i++) tp.api?.notify(CHAR_NOTIFY, big)
      expect((await got).every((b) => b.equals(big))).toBe(true)
      const gone = disconnected(q)
      await within(q.disconnectAsync(), 5000, 'disconnect')
      await gone
    } finally {
      await stopNoble(ext)
    }
  })
})
