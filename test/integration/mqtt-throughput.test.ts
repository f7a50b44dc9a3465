/**
 * The MQTT bridge on the ECG path (issue 7): four devices stream 500 Hz ECG in notifications of 25 samples, and
 * every notification reaches `mosquitto_sub` as exactly one message carrying all its samples — never one message
 * per sample. The figures (messages/s, samples/s, CPU with and without the bridge) are printed, not asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { parsePath } from '../../shared/lwm2m/path.ts'
import type { Lwm2mRecord } from '../../shared/lwm2m/values.ts'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import type { RecordJson } from '../../shared/api/schemas.ts'
import { fail } from '../../shared/api/result.ts'
import type { BridgeConsole } from '../../electron/mqtt/commands.ts'
import { MqttBridge } from '../../electron/mqtt/mqtt-bridge.ts'
import { defaultMqttSettings } from '../../electron/mqtt/mqtt-settings.ts'
import { startBroker, subscribe, type Broker } from '../support/mosquitto.ts'
import { useTestClients, waitFor } from '../support/server-harness.ts'
import type { TestClient } from '../support/test-client.ts'
import { hostLacks } from '../support/host-tools.ts'

const DEVICES = 4
const RATE_HZ = 500
const BATCH = 25
const SECONDS = Number(process.env.OBJECTTWIN_MQTT_SECONDS ?? 4)
const ECG = '/1031/0/1'
const PREFIX = 'perf'

let broker: Broker
let service: ConsoleService
const clients = useTestClients(() => ({ port: service.coapPort }))

function batch(first: number, t0: number): Lwm2mRecord[] {
  const path = parsePath(ECG)
  return Array.from({ length: BATCH }, (_, j) => ({ path, value: ((first + j) % 200) - 100, type: 'integer' as const, time: t0 + (first + j) / RATE_HZ }))
}

/** The records as a notification event carries them. */
function recordsJson(records: readonly Lwm2mRecord[]): RecordJson[] {
  return records.map((r) => ({ path: ECG, type: 'integer', value: r.value as number, ...(r.time !== undefined ? { time: r.time } : {}) }))
}

async function devices(): Promise<TestClient[]> {
  const list: TestClient[] = []
  for (let d = 1; d <= DEVICES; d++) {
    const device = await clients.registered({ endpoint: `perf-ecg-${d}` })
    const observed = await service.observe(device.options.endpoint, [ECG], { format: 'senml-cbor' })
    expect(observed.ok && observed.value.code).toBe('2.05')
    list.push(device)
  }
  return list
}

/** Each device sends one batch every BATCH/RATE_HZ seconds for `seconds`; the CPU time of this process meanwhile (ms). */
async function stream(list: readonly TestClient[], seconds: number): Promise<{ notifications: number; cpuMs: number; wallMs: number }> {
  const t0 = Date.now() / 1000
  const cpu = process.cpuUsage()
  const started = performance.now()
  let notifications = 0
  const batches = (seconds * RATE_HZ) / BATCH
  for (let b = 0; b < batches; b++) {
    for (const device of list) notifications += device.notify(ECG, batch(b * BATCH, t0))
    const due = started + ((b + 1) * BATCH * 1000) / RATE_HZ
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())))
  }
  const used = process.cpuUsage(cpu)
  return { notifications, cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - started }
}

beforeAll(async () => {
  broker = await startBroker()
  service = await ConsoleService.create({ coapPort: 0, requestTimeoutMs: 3000, onWarning: () => undefined, mqtt: { enabled: true, url: broker.url, topicPrefix: PREFIX, qos: 1 } })
  await waitFor(() => service.mqttStatus().state === 'connected', 'the bridge connected', 15_000)
})

afterAll(async () => {
  await service?.close()
  await broker?.close()
})

describe.skipIf(hostLacks('mosquitto'))('MQTT bridge throughput on the ECG path', () => {
  it(`${DEVICES} × ${RATE_HZ} Hz ECG for ${SECONDS} s: one message per notification, every sample in it`, async () => {
    const list = await devices()
    const expected = DEVICES * ((SECONDS * RATE_HZ) / BATCH)
    const data = subscribe(broker, `${PREFIX}/clients/+/data/#`, expected, { seconds: SECONDS + 30 })
    await data.ready
    const before = service.mqttStatus()
    const run = await stream(list, SECONDS)
    expect(run.notifications).toBe(expected)
    const messages = await data.messages
    const after = service.mqttStatus()

    const bodies = messages.map((m) => JSON.parse(m.payload) as { endpoint: string; path: string; values: number[]; times: number[] })
    for (const body of bodies) {
      expect(body.path).toBe(ECG)
      expect(body.values).toHaveLength(BATCH)
      expect(body.times).toHaveLength(BATCH)
    }
    for (let d = 1; d <= DEVICES; d++) expect(bodies.filter((b) => b.endpoint === `perf-ecg-${d}`).length).toBe(expected / DEVICES)
    expect(after.dropped).toBe(before.dropped)

    // The same stream with the bridge off: the difference is what the bridge costs.
    await service.configureMqtt({ enabled: false })
    const without = await stream(list, SECONDS)
    await service.configureMqtt({ enabled: true })
    await waitFor(() => service.mqttStatus().state === 'connected', 'the bridge connected again', 15_000)

    const seconds = run.wallMs / 1000
    const samples = bodies.reduce((n, b) => n + b.values.length, 0)
    console.log(
      `mqtt bridge, ${DEVICES} × ${RATE_HZ} Hz in batches of ${BATCH}, QoS 1, ${seconds.toFixed(1)} s: ` +
        `${(messages.length / seconds).toFixed(0)} messages/s carrying ${(samples / seconds).toFixed(0)} samples/s; ` +
        `CPU of the console process ${((run.cpuMs / run.wallMs) * 100).toFixed(1)} % with the bridge, ${((without.cpuMs / without.wallMs) * 100).toFixed(1)} % without`,
    )
  }, SECONDS * 2000 + 60_000)

  it('the bridge alone, fed as fast as it takes them: every notification published, and the rate printed', async () => {
    // The CoAP side tops out (and drops datagrams) well before the bridge: feed the real bridge the console's
    // events directly, so the figure is the bridge's and the broker's.
    const listeners = new Set<(event: ConsoleEvent) => void>()
    const feed: BridgeConsole = {
      onEvent: (listener) => (listeners.add(listener), () => listeners.delete(listener)),
      listClients: () => [],
      getClient: (endpoint) => fail('not_found', `no ${endpoint}`),
      read: async () => fail('unavailable', 'not in this run'),
      discover: async () => fail('unavailable', 'not in this run'),
      write: async () => fail('unavailable', 'not in this run'),
      execute: async () => fail('unavailable', 'not in this run'),
      observe: async () => fail('unavailable', 'not in this run'),
      cancelObservation: async () => fail('unavailable', 'not in this run'),
    }
    const bridge = new MqttBridge({ ...defaultMqttSettings(), enabled: true, url: broker.url, topicPrefix: 'burst', qos: 1 }, { console: feed })
    try {
      await bridge.apply(bridge.settings)
      await waitFor(() => bridge.status().state === 'connected', 'the second bridge connected', 15_000)
      const count = 20_000
      const data = subscribe(broker, 'burst/clients/+/data/#', count, { seconds: 60 })
      await data.ready
      const t0 = Date.now() / 1000
      const cpu = process.cpuUsage()
      const started = performance.now()
      for (let n = 0; n < count; n++) {
        const event: ConsoleEvent = { kind: 'notification', time: Date.now(), endpoint: `burst-ecg-${(n % DEVICES) + 1}`, observationId: 'o', paths: [ECG], code: '2.05', records: recordsJson(batch(Math.floor(n / DEVICES) * BATCH, t0)) }
        for (const listener of listeners) listener(event)
        // Yield now and then, as events from sockets would.
        if (n % 100 === 99) await new Promise((resolve) => setImmediate(resolve))
      }
      const messages = await data.messages
      const wallMs = performance.now() - started
      const used = process.cpuUsage(cpu)
      expect(messages).toHaveLength(count)
      expect(bridge.status().dropped).toBe(0)
      console.log(
        `mqtt bridge alone, QoS 1: ${count} notifications of ${BATCH} samples at mosquitto_sub in ${wallMs.toFixed(0)} ms: ` +
          `${((count * 1000) / wallMs).toFixed(0)} messages/s, ${((count * BATCH * 1000) / wallMs).toFixed(0)} samples/s; CPU of this process ${(((used.user + used.system) / 1000 / wallMs) * 100).toFixed(0)} %`,
      )
    } finally {
      await bridge.close()
    }
  }, 90_000)
})
