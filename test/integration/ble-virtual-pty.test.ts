/**
 * The virtual radio as an HCI UART (H4) device on a pseudo-terminal (socat), driven by noble's own UART driver
 * (serialport) exactly as a USB dongle in HCI mode would be.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, realpathSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Characteristic, Noble, Peripheral } from '@stoprocent/noble'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PtyServer } from '../../electron/ble/virtual/pty-server.ts'
import { createUartNoble, VirtualRadio } from '../../electron/ble/virtual/virtual-radio.ts'
import { CHAR_INDICATE, CHAR_LONG, CHAR_NOTIFY, CHAR_WRITE, LONG_VALUE, TEST_SERVICE, testPeripheral, type TestPeripheral } from '../support/ble-virtual-fixture.ts'
import { alive, collect, disconnected, scanFor, stopNoble, until, within } from '../support/ble-virtual-helpers.ts'
import { hostLacks } from '../support/host-tools.ts'

const PATH = join(tmpdir(), `objecttwin-test-hci-${process.pid}`)

let radio: VirtualRadio
let server: PtyServer
let noble: Noble | undefined
let tp: TestPeripheral
const socatPids: number[] = []

beforeAll(async () => {
  expect(spawnSync('socat', ['-V']).status, 'socat must be installed').toBe(0)
  radio = new VirtualRadio()
  tp = testPeripheral('c0:ff:ee:00:00:21', 'OT-Pty')
  radio.addPeripheral(tp.definition, { seed: 21 })
  server = await radio.serveOnPty(PATH)
  if (server.pid) socatPids.push(server.pid)
  server.on('hostGone', () => {
    // socat is restarted for the next host; remember every pid to check none is left.
    setImmediate(() => server.pid && socatPids.push(server.pid))
  })
})

afterAll(async () => {
  await stopNoble(noble)
  await radio.close()
  await until(() => socatPids.every((pid) => !alive(pid)), 5000, 'socat processes gone')
  expect(existsSync(PATH)).toBe(false)
})

describe.skipIf(hostLacks('socat'))('noble UART driver over the virtual radio pty', () => {
  it('PATH links to a pseudo-terminal', () => {
    expect(realpathSync(PATH)).toMatch(/^\/dev\/pts\/\d+$/)
    expect(server.device).toBe(realpathSync(PATH))
  })

  describe('basic flow', () => {
    let p: Peripheral
    let chars: Map<string, Characteristic>

    it('powers on through the UART driver', async () => {
      noble = createUartNoble(PATH)
      await noble.waitForPoweredOnAsync(15_000)
      expect(noble.state).toBe('poweredOn')
      expect(noble.address).toBe(server.controller.address)
    })

    it('scans and discovers the peripheral', async () => {
      p = await scanFor(noble as Noble, tp.definition.address)
      expect(p.advertisement.localName).toBe('OT-Pty')
      expect(p.advertisement.serviceUuids).toContain(TEST_SERVICE)
      expect(p.rssi).toBeLessThan(-40)
    })

    it('connects and discovers the GATT tree', async () => {
      await within(p.connectAsync(), 10_000, 'connect')
      const { services, characteristics } = await within(p.discoverAllServicesAndCharacteristicsAsync(), 10_000, 'discovery')
      expect(services.map((s) => s.uuid)).toEqual(['1800', '1801', TEST_SERVICE, '180f'])
      chars = new Map(characteristics.map((c) => [c.uuid, c]))
      const d = await within((chars.get(CHAR_NOTIFY) as Characteristic).discoverDescriptorsAsync(), 5000, 'descriptors')
      expect(d.map((x) => x.uuid)).toEqual(['2902', '2901'])
    })

    it('reads a long value and writes with and without response', async () => {
      await until(() => p.mtu === 247, 5000, 'MTU')
      expect((await within((chars.get(CHAR_LONG) as Characteristic).readAsync(), 5000, 'long read')).equals(LONG_VALUE)).toBe(true)
      tp.writes.length = 0
      await within((chars.get(CHAR_WRITE) as Characteristic).writeAsync(Buffer.from('req'), false), 5000, 'write request')
      await within((chars.get(CHAR_WRITE) as Characteristic).writeAsync(Buffer.from('cmd'), true), 5000, 'write command')
      await until(() => tp.writes.length === 2, 5000, 'writes')
      expect(tp.writes.map((w) => [w.value.toString(), w.withResponse])).toEqual([
        ['req', true],
        ['cmd', false],
      ])
    })

    it('receives notifications and indications', async () => {
      const n = chars.get(CHAR_NOTIFY) as Characteristic
      const i = chars.get(CHAR_INDICATE) as Characteristic
      await within(n.subscribeAsync(), 5000, 'subscribe notify')
      await within(i.subscribeAsync(), 5000, 'subscribe indicate')
      const notes = collect(n, 30)
      for (let k = 0; k < 30; k++) expect(tp.api?.notify(CHAR_NOTIFY, Buffer.from([k]))).toBe(true)
      expect((await notes).map((b) => b[0])).toEqual(Array.from({ length: 30 }, (_, k) => k))
      const inds = collect(i, 1)
      const confirmed = new Promise<boolean>((resolve) => tp.api?.indicate(CHAR_INDICATE, Buffer.from([9]), resolve))
      expect(await within(confirmed, 5000, 'confirmation')).toBe(true)
      expect((await inds)[0]?.[0]).toBe(9)
    })

    it('reads RSSI and disconnects', async () => {
      expect(await within(p.updateRssiAsync(), 5000, 'RSSI')).toBeLessThan(-40)
      const gone = disconnected(p)
      await within(p.disconnectAsync(), 5000, 'disconnect')
      expect(await gone).toBe(0x16)
      expect(tp.disconnects).toEqual([0x13])
    })
  })

  it('keeps serving after the host closes the port: a second noble powers on', async () => {
    const pid = server.pid
    const gone = new Promise<void>((resolve) => server.once('hostGone', () => resolve()))
    await stopNoble(noble)
    noble = undefined
    await within(gone, 10_000, 'host gone')
    await until(() => server.pid !== undefined && server.pid !== pid && existsSync(PATH), 10_000, 'socat restarted')
    noble = createUartNoble(PATH)
    await noble.waitForPoweredOnAsync(15_000)
    const p = await scanFor(noble, tp.definition.address)
    expect(p.advertisement.localName).toBe('OT-Pty')
  })
})
