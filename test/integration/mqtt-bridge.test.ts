/**
 * The MQTT bridge against a real Mosquitto (issue 7): the console runs its local gateway on the virtual radio with
 * one simulated ECG sensor; Mosquitto's own clients are the far side. What the bridge publishes is read with
 * `mosquitto_sub`, commands are sent with `mosquitto_pub` (and `mosquitto_rr` for MQTT 5 request/response) and
 * carried out on the simulated sensor through LwM2M and BLE. The broker is stopped and started again on the same
 * port, and the bridge must carry on with the same settings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { sensorAddress } from '../../electron/ble/virtual/sensors/index.ts'
import type { MqttStatus } from '../../shared/api/mqtt-schemas.ts'
import { ECG_SAMPLING_RATE_UUID, ECG_SERVICE_UUID, ECG_VALUE_UUID } from '../../shared/ble/uuids.ts'
import { waitFor } from '../support/server-harness.ts'
import { publish, request, startBroker, subscribe, type Broker, type ReceivedMessage } from '../support/mosquitto.ts'
import { hostLacks } from '../support/host-tools.ts'

const PREFIX = 'ot-test'
const GATEWAY = 'objecttwin-local'
const CLIENT_TOPIC = `${PREFIX}/clients/${GATEWAY}`

let broker: Broker
let service: ConsoleService
let valuePath: string
let ratePath: string

function json(message: ReceivedMessage | undefined): Record<string, unknown> {
  if (!message) throw new Error('no message')
  return JSON.parse(message.payload) as Record<string, unknown>
}

function bridgeState(wanted: MqttStatus['state'], timeoutMs = 15_000): Promise<MqttStatus> {
  return waitFor(() => {
    const status = service.mqttStatus()
    return status.state === wanted ? status : undefined
  }, `the bridge ${wanted} (now ${service.mqttStatus().state}, last error ${service.mqttStatus().lastError ?? 'none'})`, timeoutMs)
}

/** Publishes a command with mosquitto_pub once a mosquitto_sub listens on its result topic; the result's body. */
async function command(op: string, body: Record<string, unknown> & { id: string }): Promise<Record<string, unknown>> {
  const results = subscribe(broker, `${CLIENT_TOPIC}/result/${body.id}`, 1)
  await results.ready
  await publish(broker, `${CLIENT_TOPIC}/cmd/${op}`, JSON.stringify(body))
  const [message] = await results.messages.catch((e: Error) => {
    throw new Error(`${e.message}\nbridge: ${JSON.stringify(service.mqttStatus())}`)
  })
  return json(message)
}

beforeAll(async () => {
  broker = await startBroker()
  service = await ConsoleService.create({
    coapPort: 0,
    requestTimeoutMs: 8000,
    demo: true,
    localGateway: { virtualSensors: ['ecg'] },
    // The rate the commands write stays: no adaptive sampling stepping it every window.
    adaptiveSampling: { enabled: false },
    mqtt: { enabled: true, url: broker.url, topicPrefix: PREFIX, clientId: 'bridge-under-test', reconnectPeriodMs: 200 },
    onWarning: () => undefined,
  })
  // The ECG twin's resources, as the gateway mapped them.
  const twin = await waitFor(() => service.localGateway.current?.twins.twinsOf(sensorAddress(0x01, 1)).find((t) => t.serviceUuid === ECG_SERVICE_UUID), 'the ECG twin', 20_000)
  const resource = (uuid: string): number => twin.resources.find((r) => r.uuid === uuid)?.resourceId ?? -1
  valuePath = `/${twin.objectId}/0/${resource(ECG_VALUE_UUID)}`
  ratePath = `/${twin.objectId}/0/${resource(ECG_SAMPLING_RATE_UUID)}`
  const twinRegistered = (): boolean => {
    const client = service.getClient(GATEWAY)
    return client.ok && client.value.objects.some((o) => o.objectId === twin.objectId)
  }
  await waitFor(twinRegistered, 'the gateway registered with its ECG twin', 20_000)
  await bridgeState('connected')
}, 60_000)

afterAll(async () => {
  await service?.close()
  await broker?.close()
})

describe.skipIf(hostLacks('mosquitto'))('MQTT bridge on a real Mosquitto', () => {
  it('publishes its retained online status and the retained state of the registered gateway', async () => {
    const status = subscribe(broker, `${PREFIX}/bridge/status`, 1)
    const state = subscribe(broker, `${CLIENT_TOPIC}/state`, 1)
    expect(json((await status.messages)[0])).toMatchObject({ online: true, clientId: 'bridge-under-test' })
    const body = json((await state.messages)[0])
    expect(body).toMatchObject({ endpoint: GATEWAY, registered: true, client: { endpoint: GATEWAY } })
    const objects = (body['client'] as { objects: Array<{ objectId: number }> }).objects.map((o) => o.objectId)
    expect(objects).toContain(Number(valuePath.split('/')[1]))
  })

  it('observes the ECG on a command and publishes its samples batched: one message per notification, arrays of times and values', async () => {
    const data = subscribe(broker, `${CLIENT_TOPIC}/data${valuePath}`, 5)
    await data.ready
    const observed = await command('observe', { id: 'obs-1', path: valuePath, format: 'senml-cbor' })
    expect(observed).toMatchObject({ id: 'obs-1', op: 'observe', endpoint: GATEWAY, ok: true, value: { code: '2.05', success: true } })
    const messages = (await data.messages).map(json)
    // The first notification may carry a partial batch (the observation started mid-way); the rest carry full ones.
    const batches = messages.slice(1)
    for (const m of messages) {
      expect(m).toMatchObject({ endpoint: GATEWAY, path: valuePath, source: 'notification' })
      const { times, values } = m as { times: number[]; values: number[] }
      expect(times.length).toBe(values.length)
      for (let k = 1; k < times.length; k++) expect(times[k]).toBeGreaterThan(times[k - 1] as number)
      for (const v of values) expect(typeof v).toBe('number')
    }
    const samples = batches.reduce((n, m) => n + (m['values'] as number[]).length, 0)
    expect(samples / batches.length, 'samples per published message').toBeGreaterThan(2)
  })

  it('writes the ECG sampling rate and reads it back by commands from mosquitto_pub, on the simulated sensor', async () => {
    const written = await command('write', { id: 'w-1', path: ratePath, value: 200 })
    expect(written).toMatchObject({ id: 'w-1', op: 'write', ok: true, value: { code: '2.04', success: true } })
    // A read is a GATT read of the sensor's characteristic: the value comes from the sensor itself.
    const read = await command('read', { id: 'r-1', path: ratePath })
    expect(read).toMatchObject({ ok: true, value: { code: '2.05', records: [{ path: ratePath, value: 200 }] } })
    const discover = await command('discover', { id: 'd-1', path: ratePath.split('/').slice(0, 2).join('/') })
    expect(discover).toMatchObject({ ok: true, value: { code: '2.05' } })
  })

  it('answers on the MQTT 5 response topic a request names (mosquitto_rr)', async () => {
    const answer = JSON.parse(await request(broker, `${CLIENT_TOPIC}/cmd/read`, 'replies/rr-1', JSON.stringify({ path: ratePath }))) as Record<string, unknown>
    expect(answer).toMatchObject({ op: 'read', ok: true, value: { records: [{ path: ratePath, value: 200 }] } })
  })

  it('answers bad commands with an error result and carries on', async () => {
    // Not JSON: no id can be read, so the answer goes to the result topic without one.
    const anonymous = subscribe(broker, `${CLIENT_TOPIC}/result`, 1)
    await anonymous.ready
    await publish(broker, `${CLIENT_TOPIC}/cmd/read`, '{"id": "b-1", "path": ')
    expect(json((await anonymous.messages)[0])).toMatchObject({ op: 'read', ok: false, error: { code: 'invalid_input', message: expect.stringContaining('not JSON') } })

    expect(await command('read', { id: 'b-2', path: 'no/slash' })).toMatchObject({ id: 'b-2', ok: false, error: { code: 'invalid_input', message: expect.stringContaining('path') } })
    expect(await command('write', { id: 'b-3', path: ratePath })).toMatchObject({ ok: false, error: { message: 'write: give either value or records' } })
    expect(await command('reboot', { id: 'b-4', path: '/3/0/4' })).toMatchObject({ ok: false, error: { message: expect.stringContaining('unknown command "reboot"') } })
    expect(await command('read', { id: 'b-5', path: ratePath, colour: 'blue' } as { id: string })).toMatchObject({ ok: false, error: { message: expect.stringContaining('colour') } })
    // A device answer that is not success is data, not a failure of the command.
    expect(await command('read', { id: 'b-6', path: '/3/7/0' })).toMatchObject({ ok: true, value: { success: false } })

    expect(service.mqttStatus()).toMatchObject({ state: 'connected' })
    expect(service.mqttStatus().received).toBeGreaterThanOrEqual(6)
  })

  it('survives a broker restart: same settings, states republished, values and commands flow again', async () => {
    const before = service.mqttStatus()
    await broker.stop()
    await waitFor(() => service.mqttStatus().state !== 'connected', 'the bridge to notice the broker is gone', 15_000)
    await broker.start()
    const after = await bridgeState('connected')
    expect(after.settings).toEqual(before.settings)
    expect(after.published).toBeGreaterThan(before.published)

    // The restarted broker kept nothing (no persistence): retained status and state are there because the bridge republished them.
    expect(json((await subscribe(broker, `${PREFIX}/bridge/status`, 1).messages)[0])).toMatchObject({ online: true })
    expect(json((await subscribe(broker, `${CLIENT_TOPIC}/state`, 1).messages)[0])).toMatchObject({ registered: true, event: 'present' })
    // The observation lives on the LwM2M side: its notifications are published again.
    const data = subscribe(broker, `${CLIENT_TOPIC}/data${valuePath}`, 2)
    expect((await data.messages).map(json)[1]).toMatchObject({ path: valuePath, source: 'notification' })
    // And the command subscription is back.
    expect(await command('read', { id: 'after-restart', path: ratePath })).toMatchObject({ ok: true, value: { records: [{ value: 200 }] } })
  }, 60_000)
})
