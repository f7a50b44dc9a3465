/**
 * Our gateway against an independent LwM2M server: lwm2m-node-lib's (the server of the paper's prototype), which
 * reads in text/plain. The gateway registers with its twins and answers the reads of twin resources with what the
 * simulated sensor holds.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { NodeLibServer } from '../../bench/nodelib-server.ts'
import { BleLwm2mGateway } from '../../electron/gateway/gateway.ts'
import type { GatewayEvent } from '../../electron/gateway/gateway.ts'
import { createSensor } from '../../electron/ble/virtual/sensors/index.ts'
import type { EcgSensor } from '../../electron/ble/virtual/sensors/index.ts'
import { VirtualRadio } from '../../electron/ble/virtual/virtual-radio.ts'
import { ECG_SAMPLING_RATE_UUID, ECG_SERVICE_UUID } from '../../shared/ble/uuids.ts'
import { BLE_GATEWAY_OBJECT_ID, GatewayResource } from '../../electron/gateway/gateway-objects.ts'
import { waitFor } from '../support/server-harness.ts'

const cleanups: Array<() => Promise<void> | void> = []

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

describe("our gateway against lwm2m-node-lib's server", () => {
  it('registers with its twins and answers reads in text/plain', async () => {
    const server = await NodeLibServer.start()
    cleanups.push(() => server.stop())
    const radio = new VirtualRadio()
    cleanups.push(() => radio.close())
    const ecg = createSensor('ecg', { seed: 7 })
    cleanups.push(() => ecg.dispose())
    radio.addPeripheral(ecg.definition)
    const gateway = new BleLwm2mGateway({
      serverUri: `coap://127.0.0.1:${server.port}`,
      endpoint: 'gw-nodelib',
      adapter: { radio },
      gattTimeoutMs: 2000,
      client: { lifetime: 60 },
    })
    cleanups.push(() => gateway.stop())
    const events: GatewayEvent[] = []
    gateway.onEvent((e) => events.push(e))
    await gateway.start()
    const twin = await waitFor(() => gateway.twins.twinsOf(ecg.address).find((t) => t.serviceUuid === ECG_SERVICE_UUID), 'the ECG twin', 10_000)
    // The server has the twin once an Update after the twin's creation was acknowledged.
    await waitFor(() => {
      const created = events.findIndex((e) => e.kind === 'twinCreated' && e.objectId === twin.objectId)
      return events.slice(created).some((e) => e.kind === 'client' && e.event.kind === 'updated' && e.event.objectsChanged)
    }, 'the Update listing the twin', 10_000)

    const deviceId = await server.deviceId('gw-nodelib')
    const rid = twin.resources.find((x) => x.uuid === ECG_SAMPLING_RATE_UUID)?.resourceId as number
    expect(await server.read(deviceId, twin.objectId, 0, rid)).toBe('150')
    ;(ecg.control as EcgSensor).samplingRateHz = 250
    // Every read is a fresh BLE read: the sensor's new rate shows at once.
    expect(await server.read(deviceId, twin.objectId, 0, rid)).toBe('250')
    expect(await server.read(deviceId, twin.objectId, 0, 0)).toContain('ECG service f0010000-0000-1000-8000-00805f9b34fb')
    expect(await server.read(deviceId, BLE_GATEWAY_OBJECT_ID, 0, GatewayResource.adapterState)).toBe('poweredOn')
    expect(await server.read(deviceId, 3, 0, 0)).toBe('ObjectTwin')
  })
})
