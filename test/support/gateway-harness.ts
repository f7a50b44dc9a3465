/**
 * The gateway end to end on one machine: the embedded LwM2M server on loopback UDP, a virtual radio with simulated
 * sensors, and BleLwm2mGateway (noble's real HCI stack on a virtual controller, the real LwM2M client) between them.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { GattServerApi, PeripheralDefinition } from '../../electron/ble/virtual/gatt-table.ts'
import { normalizeUuid } from '../../electron/ble/virtual/gatt-table.ts'
import type { LinkSettings } from '../../electron/ble/virtual/link-model.ts'
import { createSensor } from '../../electron/ble/virtual/sensors/index.ts'
import type { EcgSensorOptions, HeartRateSensorOptions, SensorKind, SimulatedSensorHandle } from '../../electron/ble/virtual/sensors/index.ts'
import type { VirtualPeripheral } from '../../electron/ble/virtual/virtual-peripheral.ts'
import { VirtualRadio } from '../../electron/ble/virtual/virtual-radio.ts'
import { BleLwm2mGateway } from '../../electron/gateway/gateway.ts'
import type { GatewayEvent, GatewayOptions } from '../../electron/gateway/gateway.ts'
import type { ClientInfo } from '../../shared/api/schemas.ts'
import { decodeEcgPayload } from '../../shared/ble/ecg-payload.ts'
import { ECG_VALUE_UUID } from '../../shared/ble/uuids.ts'
import { startServer, waitFor } from './server-harness.ts'
import type { ServerHarness } from './server-harness.ts'

export const ENDPOINT = 'gw-test'

/** One ECG packet the sensor handed to its link (notify accepted). */
export interface SentSample {
  readonly seq: number
  readonly timestampMs: number | undefined
  readonly sample: number
}

export interface RigSensor {
  readonly handle: SimulatedSensorHandle
  readonly peripheral: VirtualPeripheral
  /** With `recordEcg`: every ECG packet the sensor sent (notify returned true), in order. */
  readonly sent: SentSample[]
}

export interface GatewayRig {
  readonly server: ServerHarness
  readonly radio: VirtualRadio
  readonly sensors: RigSensor[]
  readonly dataDir: string
  gateway: BleLwm2mGateway
  events: GatewayEvent[]
  /** A new gateway on the same radio, server and data directory (after `gateway.stop()`). */
  restart(options?: Partial<GatewayOptions>): Promise<BleLwm2mGateway>
  close(): Promise<void>
}

export interface RigOptions {
  kinds?: SensorKind[]
  /** Options of every ECG sensor (rate, timestamping) and every heart-rate sensor. */
  ecg?: EcgSensorOptions
  hr?: HeartRateSensorOptions
  link?: Partial<LinkSettings>
  gateway?: Partial<GatewayOptions>
  /** Start the gateway (default true). */
  start?: boolean
  /** Further peripherals on the radio (the test peripheral of the BLE fixtures, …). */
  peripherals?: PeripheralDefinition[]
  /** Record every ECG packet each ECG sensor sends. */
  recordEcg?: boolean
}

/** Wrap a sensor's hooks so that every ECG notification its link accepts is recorded. */
function recordEcgPackets(definition: PeripheralDefinition, sent: SentSample[]): void {
  const hooks = definition.hooks
  const onConnect = hooks?.onConnect
  if (!hooks || !onConnect) return
  hooks.onConnect = (api) => {
    const tapped: GattServerApi = Object.create(api) as GattServerApi
    tapped.notify = (uuid, value) => {
      const accepted = api.notify(uuid, value)
      if (accepted && normalizeUuid(uuid) === ECG_VALUE_UUID) {
        const p = decodeEcgPayload(value)
        sent.push({ seq: p.seq, timestampMs: p.timestampMs, sample: p.sample })
      }
      return accepted
    }
    onConnect.call(hooks, tapped)
  }
}

export async function startGatewayRig(options: RigOptions = {}): Promise<GatewayRig> {
  const server = await startServer({ requestTimeoutMs: 8000 })
  const radio = new VirtualRadio()
  const counts = new Map<SensorKind, number>()
  const sensors: RigSensor[] = (options.kinds ?? ['ecg', 'hr', 'thermometer']).map((kind, i) => {
    const index = (counts.get(kind) ?? 0) + 1
    counts.set(kind, index)
    const handle = createSensor(kind, { index, seed: 100 + i, ...(kind === 'ecg' ? options.ecg : kind === 'hr' ? options.hr : {}) }) as SimulatedSensorHandle
    const sent: SentSample[] = []
    if (options.recordEcg && kind === 'ecg') recordEcgPackets(handle.definition, sent)
    return { handle, sent, peripheral: radio.addPeripheral(handle.definition, { seed: 200 + i, ...(options.link ? { link: options.link } : {}) }) }
  })
  for (const [i, definition] of (options.peripherals ?? []).entries()) radio.addPeripheral(definition, { seed: 300 + i })
  const dataDir = mkdtempSync(join(tmpdir(), 'objecttwin-gw-'))
  const make = (extra: Partial<GatewayOptions> = {}): BleLwm2mGateway =>
    new BleLwm2mGateway({
      serverUri: `coap://127.0.0.1:${server.port}`,
      endpoint: ENDPOINT,
      adapter: { radio },
      dataDir,
      gattTimeoutMs: 2000,
      connectTimeoutMs: 5000,
      rssiIntervalMs: 500,
      ...options.gateway,
      ...extra,
      client: { lifetime: 60, retryInitialMs: 200, ...options.gateway?.client, ...extra.client },
    })
  const rig: GatewayRig = {
    server, radio, sensors, dataDir,
    gateway: make(),
    events: [],
    async restart(extra) {
      rig.gateway = make({ ...extra })
      rig.events = []
      rig.gateway.onEvent((e) => rig.events.push(e))
      await rig.gateway.start()
      return rig.gateway
    },
    async close() {
      await rig.gateway.stop()
      for (const s of sensors) s.handle.dispose()
      await radio.close()
      await server.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
  rig.gateway.onEvent((e) => rig.events.push(e))
  if (options.start !== false) await rig.gateway.start()
  return rig
}

/** The gateway's registration as the server sees it. */
export function clientInfo(rig: GatewayRig): ClientInfo | undefined {
  return rig.server.server.getClient(ENDPOINT)
}

/** Object ids the server's view of the registration lists. */
export function registeredObjects(rig: GatewayRig): number[] {
  return (clientInfo(rig)?.objects ?? []).map((o) => o.objectId)
}

/** Wait until the server's view lists these twin objects (and, with `exactTwins`, no other pool ids). */
export async function waitForObjects(rig: GatewayRig, predicate: (ids: number[]) => boolean, what: string, timeoutMs = 10_000): Promise<number[]> {
  return waitFor(() => {
    const ids = registeredObjects(rig)
    return predicate(ids) ? ids : undefined
  }, what, timeoutMs)
}

/** The twin object ids of a sensor, by address, once it has `count` of them. */
export async function twinsOf(rig: GatewayRig, address: string, count: number, timeoutMs = 10_000): Promise<number[]> {
  return waitFor(() => {
    const twins = rig.gateway.twins.twinsOf(address).map((t) => t.objectId)
    return twins.length >= count ? twins : undefined
  }, `${count} twins of ${address}`, timeoutMs)
}

/** The twin of a service UUID on a sensor. */
export async function twinOf(rig: GatewayRig, address: string, service: string, timeoutMs = 10_000): Promise<number> {
  return waitFor(() => rig.gateway.twins.twinsOf(address).find((t) => t.serviceUuid === service)?.objectId, `the twin of ${service} on ${address}`, timeoutMs)
}

export function sensor(rig: GatewayRig, kind: SensorKind, index = 1): RigSensor {
  const s = rig.sensors.filter((x) => x.handle.kind === kind)[index - 1]
  if (!s) throw new Error(`no ${kind} sensor ${index} in the rig`)
  return s
}

export { waitFor }

/** Like waitFor, with an async probe (a read from the server). */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
