/**
 * A remote server learns the ObjectTwins' definitions from the gateway (issue 5): the gateway publishes each twin's
 * generated model as DDF XML in /33000/0/11/<object id>, and the console (ConsoleService's embedded server) reads
 * them when the gateway registers or its object list changes. Reads and notifications of twins then carry the
 * generated names and types, and GET /api/clients/:ep/models lists the twin models. A gateway serving broken or
 * foreign definitions only causes warnings.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BleLwm2mGateway } from '../../electron/gateway/gateway.ts'
import type { GatewayOptions } from '../../electron/gateway/gateway.ts'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { startHttpApi } from '../../electron/console/http-api.ts'
import { objectModelToJson } from '../../shared/api/model-json.ts'
import type { ObjectModelJson } from '../../shared/api/schemas.ts'
import { BODY_SENSOR_LOCATION_UUID, ECG_SAMPLING_RATE_UUID, ECG_SERVICE_UUID, ECG_VALUE_UUID, HEART_RATE_SERVICE_UUID } from '../../shared/ble/uuids.ts'
import { ContentFormat } from '../../shared/lwm2m/content-format.ts'
import { ddfXml } from '../../shared/lwm2m/ddf-writer.ts'
import { defineObject } from '../../shared/lwm2m/models/compact.ts'
import { BLE_GATEWAY_MODEL, BLE_GATEWAY_OBJECT_ID, GatewayResource } from '../../shared/lwm2m/models/objecttwin.ts'
import { ECG_TWIN, startClient, type StartedClient } from '../support/client-harness.ts'
import { EventLog, waitFor } from '../support/server-harness.ts'
import { eventually } from '../support/gateway-harness.ts'

const ECG_ADDRESS = 'c0:07:01:00:00:01'
const HR_ADDRESS = 'c0:07:02:00:00:01'

let service: ConsoleService
let events: EventLog
let http: Awaited<ReturnType<typeof startHttpApi>>
let gateway: BleLwm2mGateway | undefined
let fake: StartedClient | undefined

beforeEach(async () => {
  service = await ConsoleService.create({ coapPort: 0, requestTimeoutMs: 8000 })
  events = new EventLog(service)
  http = await startHttpApi(service, { host: '127.0.0.1', port: 0, rendererDir: null })
})

afterEach(async () => {
  await gateway?.stop()
  await fake?.stop()
  gateway = undefined
  fake = undefined
  events.unsubscribe()
  await http.app.close()
  await service.close()
})

async function startGateway(endpoint: string, options: Partial<GatewayOptions>): Promise<BleLwm2mGateway> {
  gateway = new BleLwm2mGateway({
    serverUri: `coap://127.0.0.1:${service.coapPort}`,
    endpoint,
    adapter: 'virtual',
    virtualSensors: ['ecg', 'hr'],
    gattTimeoutMs: 2000,
    rssiIntervalMs: 0,
    ...options,
    client: { lifetime: 60, retryInitialMs: 200 },
  })
  await gateway.start()
  return gateway
}

async function modelsOverHttp(endpoint: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${http.port}/api/clients/${encodeURIComponent(endpoint)}/models`)
  return { status: res.status, body: await res.json() }
}

/** GET …/models until it lists object `id`. */
async function modelOf(endpoint: string, id: number): Promise<ObjectModelJson> {
  return eventually(async () => {
    const { status, body } = await modelsOverHttp(endpoint)
    return status === 200 ? (body as ObjectModelJson[]).find((m) => m.id === id) : undefined
  }, `the model of object ${id} at GET /api/clients/${endpoint}/models`, 15_000)
}

function twinOf(gw: BleLwm2mGateway, address: string, service: string): Promise<{ objectId: number; resourceOf(uuid: string): number }> {
  return waitFor(() => {
    const twin = gw.twins.twinsOf(address).find((t) => t.serviceUuid === service)
    return twin && {
      objectId: twin.objectId,
      resourceOf: (uuid: string) => twin.resources.find((r) => r.uuid === uuid)?.resourceId ?? -1,
    }
  }, `the twin of ${service} on ${address}`, 15_000)
}

const warnings = (): string[] => events.of('log').filter((e) => e.level === 'warn').map((e) => e.message)

describe('twin definitions published by the gateway', () => {
  it('name the twins in reads and notifications, and GET /api/clients/:ep/models lists them', async () => {
    const gw = await startGateway('gw-models', { autoConnect: [ECG_ADDRESS] })
    const ecg = await twinOf(gw, ECG_ADDRESS, ECG_SERVICE_UUID)
    const generated = gw.twinModels().find((m) => m.id === ecg.objectId)
    if (!generated) throw new Error('no generated model of the ECG twin')

    // The console holds the same model the gateway generated.
    expect(await modelOf('gw-models', ecg.objectId)).toEqual(objectModelToJson(generated))
    const listed = (await modelsOverHttp('gw-models')).body as ObjectModelJson[]
    expect(listed.find((m) => m.id === BLE_GATEWAY_OBJECT_ID)?.name).toBe('BLE Gateway')
    expect(listed.find((m) => m.id === 3)?.name).toBe('Device')
    for (const twin of gw.twinModels()) expect(listed.find((m) => m.id === twin.id)?.name).toBe(twin.name)

    const rate = `/${ecg.objectId}/0/${ecg.resourceOf(ECG_SAMPLING_RATE_UUID)}`
    const read = await service.read('gw-models', rate)
    expect(read.ok && read.value.records).toEqual([{ path: rate, name: 'Sampling rate (Hz)', type: 'integer', value: 150 }])
    // TLV carries no types: with the learned model it decodes as the integer it is, not as bytes.
    const tlv = await service.read('gw-models', rate, { format: 'tlv' })
    expect(tlv.ok && tlv.value.records?.[0]).toMatchObject({ name: 'Sampling rate (Hz)', value: 150 })
    const instance = await service.read('gw-models', `/${ecg.objectId}/0`)
    expect(instance.ok && instance.value.records?.map((r) => r.name)).toEqual([0, 1, 2, 3].map((rid) => generated.resources.get(rid)?.name))

    const value = `/${ecg.objectId}/0/${ecg.resourceOf(ECG_VALUE_UUID)}`
    const observed = await service.observe('gw-models', [value], { format: 'senml-cbor' })
    expect(observed.ok && observed.value.code).toBe('2.05')
    const notification = await events.wait('notification', (n) => n.endpoint === 'gw-models' && n.records.length > 0, 10_000)
    expect(notification.records[0]).toMatchObject({ path: value, name: generated.resources.get(ecg.resourceOf(ECG_VALUE_UUID))?.name })
    expect(warnings().filter((w) => w.includes('definition'))).toEqual([])
  })

  it('names a twin created after the gateway registered, when its sensor connects later', async () => {
    const gw = await startGateway('gw-later', { autoConnect: false })
    await events.wait('registered', (e) => e.client.endpoint === 'gw-later', 10_000)
    const before = (await modelsOverHttp('gw-later')).body as ObjectModelJson[]
    expect(before.every((m) => m.id < 1024 || m.id >= BLE_GATEWAY_OBJECT_ID)).toBe(true)

    await gw.connectSensor(HR_ADDRESS)
    const hr = await twinOf(gw, HR_ADDRESS, HEART_RATE_SERVICE_UUID)
    expect((await modelOf('gw-later', hr.objectId)).name).toBe('Heart Rate (ObjectTwin HR 1)')
    const location = `/${hr.objectId}/0/${hr.resourceOf(BODY_SENSOR_LOCATION_UUID)}`
    const read = await service.read('gw-later', location)
    // Named from the sensor's 0x2901 descriptor, as the gateway generated it.
    expect(read.ok && read.value.records?.[0]).toMatchObject({ path: location, name: 'Body sensor location', value: 1 })
  })

  it('only warns about a malformed, mismatched or built-in definition, and keeps the generic names', async () => {
    const builtInDevice = defineObject({ id: 3, name: 'Not the Device' }, [[0, 'Nonsense', 'R', 'string']])
    const foreign = defineObject({ id: 1, name: 'Wrong Object' }, [[0, 'X', 'R', 'string']])
    const definitions = new Map<number, string>([
      [1031, '<LWM2M><Object ObjectType="MODefinition"><Name>Broken'],
      [1032, ddfXml(foreign)],
      [3, ddfXml(builtInDevice)],
    ])
    fake = await startClient({ serverPort: service.coapPort, endpoint: 'bad-gw', lifetime: 60 })
    fake.client.addObject(BLE_GATEWAY_MODEL, [{ [GatewayResource.adapterState]: 'poweredOn', [GatewayResource.scanning]: false, [GatewayResource.twinDefinitions]: definitions }])
    fake.client.addObject(ECG_TWIN, [{ 0: 'a twin', 2: 250 }])
    fake.client.addObject(defineObject({ id: 1032, name: 'Other Twin' }, [[0, 'Service', 'R', 'string']]), [{ 0: 'another twin' }])
    await waitFor(() => warnings().filter((w) => w.includes('from bad-gw')).length >= 3, 'three warnings about the definitions', 10_000)
    expect(warnings().filter((w) => w.includes('from bad-gw')).sort()).toEqual([
      expect.stringMatching(/^ignored the definition of object 1031 from bad-gw: DDF: not well-formed XML: /),
      'ignored the definition of object 1032 from bad-gw: the file defines object 1, not object 1032 alone',
      'ignored the definition of object 3 from bad-gw: the console has its own model of it',
    ])
    expect(events.of('log').filter((e) => e.level === 'error')).toEqual([])

    const listed = (await modelsOverHttp('bad-gw')).body as ObjectModelJson[]
    expect(listed.map((m) => m.id)).toEqual([1, 3, BLE_GATEWAY_OBJECT_ID])
    expect(listed.find((m) => m.id === 3)?.name).toBe('Device')
    const read = await service.read('bad-gw', '/1031/0/2', { format: String(ContentFormat.SENML_JSON) })
    expect(read.ok && read.value.records?.[0]).toMatchObject({ path: '/1031/0/2', name: 'Resource 2', value: 250 })
    expect((await service.read('bad-gw', '/3/0/0')).ok).toBe(true)
  })

  it('answers 404 for the models of a client that is not registered', async () => {
    expect(await modelsOverHttp('nobody')).toEqual({ status: 404, body: { error: { code: 'not_found', message: 'no client named nobody is registered' } } })
  })
})
