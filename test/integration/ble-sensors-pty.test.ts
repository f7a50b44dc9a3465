/**
 * The same checks as ble-sensors.test.ts, over the other way into the virtual radio: the controller served as an
 * HCI UART (H4) on a pseudo-terminal (socat), opened by the adapter's uartNoble() factory — noble's UART driver,
 * serial port and HCI stack, as with a USB dongle.
 */
import { afterAll, beforeAll, describe, it, expect } from 'vitest'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BleAdapter, uartNoble } from '../../electron/ble/adapter/index.ts'
import { VirtualRadio } from '../../electron/ble/virtual/virtual-radio.ts'
import type { PtyServer } from '../../electron/ble/virtual/pty-server.ts'
import { createSensor } from '../../electron/ble/virtual/sensors/index.ts'
import type { SimulatedSensorHandle } from '../../electron/ble/virtual/sensors/index.ts'
import { ALL_KINDS, exerciseSensor, sensor, until } from './ble-sensor-checks.ts'
import type { Rig } from './ble-sensor-checks.ts'
import { ECG_SERVICE_UUID, ECG_VALUE_UUID } from '../../shared/ble/uuids.ts'
import { hostLacks } from '../support/host-tools.ts'

const PATH = join(tmpdir(), `objecttwin-test-sensors-${process.pid}`)

let radio: VirtualRadio
let server: PtyServer
let adapter: BleAdapter
const handles: SimulatedSensorHandle[] = []
let r: Rig

beforeAll(async () => {
  radio = new VirtualRadio()
  const sensors: Rig['sensors'] = new Map()
  ALL_KINDS.forEach((kind, i) => {
    const handle = createSensor(kind, { seed: 300 + i }) as SimulatedSensorHandle
    handles.push(handle)
    sensors.set(kind, { handle, peripheral: radio.addPeripheral(handle.definition, { seed: 400 + i }) })
  })
  server = await radio.serveOnPty(PATH)
  adapter = new BleAdapter({ noble: uartNoble(PATH), gattTimeoutMs: 3000, connectTimeoutMs: 5000, stateTimeoutMs: 10_000 })
  r = { radio, adapter, sensors }
})

afterAll(async () => {
  await adapter?.close()
  await server?.stop()
  await radio?.close()
  for (const h of handles) h.dispose()
})

describe.skipIf(hostLacks('socat'))('every simulated sensor through the adapter over a pty (HCI UART)', () => {
  it('powers on through the UART driver', async () => {
    expect(await adapter.init()).toBe('poweredOn')
  })

  for (const kind of ALL_KINDS) {
    it(`${kind}: scan, connect, discover, read, write, subscribe, RSSI, disconnect`, async () => {
      await adapter.waitForPoweredOn()
      await exerciseSensor(r, kind)
    })
  }

  it('streams the ECG at its sampling rate over the serial link', async () => {
    const { id } = sensor(r, 'ecg')
    await adapter.connect(id)
    let n = 0
    await adapter.subscribe(id, ECG_SERVICE_UUID, ECG_VALUE_UUID, () => n++)
    await until('a second of ECG (150 samples)', () => n >= 150, 5000)
    await adapter.disconnect(id)
  })
})
