/**
 * LwM2M operations on ObjectTwins reach the simulated sensors as BLE operations (issue 5, REFERENCE.md Fig. 6/7):
 * Read → a fresh GATT read (or the next notification), Write → a GATT write, Execute → a write to the control
 * point, Observe → subscribe, or poll what cannot notify; errors come back as LwM2M codes with a reason.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { EcgSensor, HeartRateSensor } from '../../electron/ble/virtual/sensors/index.ts'
import { ContentFormat } from '../../shared/lwm2m/content-format.ts'
import { parsePath } from '../../shared/lwm2m/path.ts'
import {
  BODY_SENSOR_LOCATION_UUID, ECG_SAMPLING_RATE_UUID, ECG_SERVICE_UUID, ECG_TIMESTAMPING_UUID, ECG_VALUE_UUID, HEALTH_THERMOMETER_SERVICE_UUID,
  HEART_RATE_CONTROL_POINT_UUID, HEART_RATE_MEASUREMENT_UUID, HEART_RATE_SERVICE_UUID, TEMPERATURE_MEASUREMENT_UUID,
} from '../../shared/ble/uuids.ts'
import type { EventOf } from '../support/server-harness.ts'
import { CHAR_NOTIFY, CHAR_READ, CHAR_WRITE, TEST_SERVICE, testPeripheral } from '../support/ble-virtual-fixture.ts'
import { ENDPOINT, sensor, startGatewayRig, twinOf, waitFor } from '../support/gateway-harness.ts'
import type { GatewayRig } from '../support/gateway-harness.ts'

let rig: GatewayRig | undefined

afterEach(async () => {
  await rig?.close()
  rig = undefined
})

const ECG_ADDRESS = 'c0:07:01:00:00:01'
const HR_ADDRESS = 'c0:07:02:00:00:01'
const THERMO_ADDRESS = 'c0:07:03:00:00:01'
const TEST_ADDRESS = 'c0:ff:ee:00:00:01'

/** The resource id of a characteristic in a twin. */
function resourceOf(r: GatewayRig, objectId: number, uuid: string): number {
  const res = r.gateway.twins.twin(objectId)?.resources.find((x) => x.uuid === uuid)
  if (!res) throw new Error(`twin ${objectId} has no resource for ${uuid}`)
  return res.resourceId
}

function notificationsOf(r: GatewayRig, observationId: string): EventOf<'notification'>[] {
  return r.server.log.of('notification').filter((n) => n.observationId === observationId)
}

async function read(r: GatewayRig, path: string, format?: number): Promise<{ code: string; value: unknown; diagnostic: string | undefined }> {
  const res = await r.server.server.read(ENDPOINT, path, format === undefined ? {} : { format })
  if (!res.ok) throw new Error(`read ${path}: ${res.error.message}`)
  return { code: res.value.code, value: res.value.records?.[0]?.value, diagnostic: res.value.diagnostic }
}

async function write(r: GatewayRig, path: string, value: number | boolean | string | Uint8Array, type: 'integer' | 'boolean' | 'string' | 'opaque'): Promise<{ code: string; diagnostic: string | undefined }> {
  const res = await r.server.server.write(ENDPOINT, path, [{ path: parsePath(path), value, type }])
  if (!res.ok) throw new Error(`write ${path}: ${res.error.message}`)
  return { code: res.value.code, diagnostic: res.value.diagnostic }
}

/** Median spacing (ms) of consecutive record times. */
function medianSpacingMs(times: number[]): number {
  const d = times.slice(1).map((t, i) => (t - (times[i] as number)) * 1000).sort((a, b) => a - b)
  return d[Math.floor(d.length / 2)] as number
}

describe('Read, Write and Execute become BLE operations', () => {
  it('reads the ECG sampling rate 150, writes 120, reads 120 back; the stream follows the new rate', async () => {
    rig = await startGatewayRig({ kinds: ['ecg'], ecg: { timestamping: true } })
    const r = rig
    const ecg = await twinOf(r, ECG_ADDRESS, ECG_SERVICE_UUID)
    const rate = `/${ecg}/0/${resourceOf(r, ecg, ECG_SAMPLING_RATE_UUID)}`
    const value = `/${ecg}/0/${resourceOf(r, ecg, ECG_VALUE_UUID)}`
    const control = sensor(r, 'ecg').handle.control as EcgSensor

    expect(await read(r, rate)).toMatchObject({ code: '2.05', value: 150 })
    expect(await read(r, `/${ecg}/0/${resourceOf(r, ecg, ECG_TIMESTAMPING_UUID)}`)).toMatchObject({ code: '2.05', value: true })
    // text/plain as lwm2m-node-lib asks, and TLV as Leshan does for 1.0.
    expect(await read(r, rate, ContentFormat.TEXT)).toMatchObject({ code: '2.05', value: '150' })
    // Without the twin's model the server keeps TLV's bytes: 0x0096 is the TLV integer 150.
    expect(await read(r, rate, ContentFormat.TLV)).toMatchObject({ code: '2.05', value: '0096' })

    const observed = await r.server.server.observe(ENDPOINT, [value], { format: ContentFormat.SENML_CBOR })
    expect(observed.ok && observed.value.code).toBe('2.05')
    const id = observed.ok ? (observed.value.observationId as string) : ''
    const samples = (): { time: number; value: number }[] =>
      notificationsOf(r, id).flatMap((n) => n.records.filter((x) => x.time !== undefined).map((x) => ({ time: x.time as number, value: x.value as number })))
    await waitFor(() => samples().length >= 300, '300 samples at 150 Hz', 10_000)
    const at150 = samples().map((s) => s.time)
    // Batched: many samples per notification, never one notification per sample.
    expect(at150.length / notificationsOf(r, id).length).toBeGreaterThan(2)
    expect(medianSpacingMs(at150)).toBeCloseTo(1000 / 150, 0)

    expect(await write(r, rate, 120, 'integer')).toMatchObject({ code: '2.04' })
    expect(control.samplingRateHz).toBe(120)
    expect(await read(r, rate)).toMatchObject({ code: '2.05', value: 120 })
    const mark = samples().length
    await waitFor(() => samples().length >= mark + 300, '300 samples at 120 Hz', 10_000)
    const at120 = samples().slice(mark + 10).map((s) => s.time)
    expect(medianSpacingMs(at120)).toBeCloseTo(1000 / 120, 0)

    // The sensor refuses a rate outside 25..1000 Hz: ATT Value Not Allowed becomes 4.00 with the reason.
    const refused = await write(r, rate, 10, 'integer')
    expect(refused.code).toBe('4.00')
    expect(refused.diagnostic).toContain('Value Not Allowed (0x13)')
    expect(control.samplingRateHz).toBe(120)

    const cancelled = await r.server.server.cancelObservation(ENDPOINT, value)
    expect(cancelled.ok && cancelled.value.cancelled).toBe(1)
    // The last observation gone, the gateway unsubscribes: the sensor stops streaming.
    await waitFor(() => !control.streaming, 'the ECG stream to stop', 5000)
  })

  it('reads a notify-only characteristic by waiting for its next notification', async () => {
    rig = await startGatewayRig({ kinds: ['hr'] })
    const r = rig
    const hr = await twinOf(r, HR_ADDRESS, HEART_RATE_SERVICE_UUID)
    const res = await read(r, `/${hr}/0/${resourceOf(r, hr, HEART_RATE_MEASUREMENT_UUID)}`)
    expect(res.code).toBe('2.05')
    expect(res.value).toBeGreaterThan(55)
    expect(res.value).toBeLessThan(95)
    expect(await read(r, `/${hr}/0/${resourceOf(r, hr, BODY_SENSOR_LOCATION_UUID)}`)).toMatchObject({ code: '2.05', value: 1 })
  })

  it('executes the heart-rate control point as a GATT write; a refused command is 4.00', async () => {
    // The sensor's clock runs ahead on demand, so that energy accumulates without waiting minutes.
    let aheadMs = 0
    rig = await startGatewayRig({ kinds: ['hr'], hr: { clock: () => performance.now() + aheadMs } })
    const r = rig
    const hr = await twinOf(r, HR_ADDRESS, HEART_RATE_SERVICE_UUID)
    const cp = `/${hr}/0/${resourceOf(r, hr, HEART_RATE_CONTROL_POINT_UUID)}`
    const control = sensor(r, 'hr').handle.control as HeartRateSensor
    expect(r.gateway.twins.twin(hr)?.model.resources.get(resourceOf(r, hr, HEART_RATE_CONTROL_POINT_UUID))).toMatchObject({ operations: 'E', type: 'none' })
    // Let some energy accumulate while the measurement is observed.
    const observed = await r.server.server.observe(ENDPOINT, [`/${hr}/0/${resourceOf(r, hr, HEART_RATE_MEASUREMENT_UUID)}`])
    expect(observed.ok && observed.value.code).toBe('2.05')
    await waitFor(() => control.streaming, 'the measurement stream')
    aheadMs = 120_000
    await waitFor(() => control.energyExpendedKj > 0, 'energy expended above 0', 5000)
    const done = await r.server.server.execute(ENDPOINT, cp)
    expect(done.ok && done.value.code).toBe('2.04')
    expect(control.energyExpendedKj).toBe(0)
    const refused = await r.server.server.execute(ENDPOINT, cp, "0='0x02'")
    expect(refused.ok && refused.value.code).toBe('4.00')
    expect(refused.ok && refused.value.diagnostic).toContain('Application Error 0x80 (0x80)')
    const garbage = await r.server.server.execute(ENDPOINT, cp, "0='reset'")
    expect(garbage.ok && garbage.value.code).toBe('4.00')
    // Read is not allowed on a control point.
    expect((await read(r, cp)).code).toBe('4.05')
  })

  it('writes with a write request where the characteristic has one; a value that does not fit the type is 4.00', async () => {
    const t = testPeripheral(TEST_ADDRESS, 'OT-Test')
    rig = await startGatewayRig({ kinds: [], peripherals: [t.definition], gateway: { autoConnect: [TEST_ADDRESS] } })
    const r = rig
    const obj = await twinOf(r, TEST_ADDRESS, TEST_SERVICE)
    const setting = `/${obj}/0/${resourceOf(r, obj, CHAR_WRITE)}`
    expect(r.gateway.twins.twin(obj)?.model.resources.get(resourceOf(r, obj, CHAR_WRITE))).toMatchObject({ name: 'Setting', operations: 'RW', type: 'opaque' })
    expect(await write(r, setting, new Uint8Array([1, 2, 3]), 'opaque')).toMatchObject({ code: '2.04' })
    expect(t.writes.map((w) => [Array.from(w.value), w.withResponse])).toEqual([[[1, 2, 3], true]])
    // The counter is a uint16 by its 0x2904 format.
    const counter = `/${obj}/0/${resourceOf(r, obj, CHAR_READ)}`
    expect(r.gateway.twins.twin(obj)?.model.resources.get(resourceOf(r, obj, CHAR_READ))).toMatchObject({ name: 'Counter', operations: 'R', type: 'unsigned' })
    const first = await read(r, counter)
    const second = await read(r, counter)
    // Every Read is a fresh GATT read: the counter advances.
    expect(second.value).toBe((first.value as number) + 1)
    const notWritable = await write(r, counter, 5, 'integer')
    expect(notWritable.code).toBe('4.05')
  })

  it('answers 5.04 naming the timeout when the sensor stops answering, and drops the twins with the link', async () => {
    rig = await startGatewayRig({ kinds: ['ecg'] })
    const r = rig
    const ecg = await twinOf(r, ECG_ADDRESS, ECG_SERVICE_UUID)
    const rate = `/${ecg}/0/${resourceOf(r, ecg, ECG_SAMPLING_RATE_UUID)}`
    sensor(r, 'ecg').peripheral.stopResponding()
    const res = await read(r, rate)
    expect(res.code).toBe('5.04')
    expect(res.diagnostic).toContain(`read /${ecg}/0/2 (Sampling rate (Hz), f0010002-0000-1000-8000-00805f9b34fb on ${ECG_ADDRESS})`)
    expect(res.diagnostic).toContain('no answer from c00701000001 within 2000 ms')
    await waitFor(() => r.gateway.twins.twinsOf(ECG_ADDRESS).length === 0, 'the twins deleted after the GATT timeout', 10_000)
    // A read of a twin that is gone: 4.04.
    expect((await read(r, rate)).code).toBe('4.04')
  })
})

describe('Observe: notify, indicate, or poll (Fig. 7)', () => {
  it('forwards heart-rate notifications with the RR intervals, and unsubscribes when the last observation is cancelled', async () => {
    rig = await startGatewayRig({ kinds: ['hr'] })
    const r = rig
    const hr = await twinOf(r, HR_ADDRESS, HEART_RATE_SERVICE_UUID)
    const rid = resourceOf(r, hr, HEART_RATE_MEASUREMENT_UUID)
    const control = sensor(r, 'hr').handle.control as HeartRateSensor
    const bpm = await r.server.server.observe(ENDPOINT, [`/${hr}/0/${rid}`])
    const rr = await r.server.server.observe(ENDPOINT, [`/${hr}/0/${1000 + rid}`])
    expect(bpm.ok && bpm.value.code).toBe('2.05')
    expect(rr.ok && rr.value.code).toBe('2.05')
    const bpmId = bpm.ok ? (bpm.value.observationId as string) : ''
    const rrId = rr.ok ? (rr.value.observationId as string) : ''
    await waitFor(() => notificationsOf(r, bpmId).length >= 2 && notificationsOf(r, rrId).length >= 2, 'two heart-rate and two RR notifications', 15_000)
    for (const n of notificationsOf(r, bpmId)) {
      expect(n.records[0]?.path).toBe(`/${hr}/0/${rid}`)
      expect(n.records[0]?.value).toBeGreaterThan(55)
    }
    const intervals = notificationsOf(r, rrId).flatMap((n) => n.records.map((x) => x.value as number))
    expect(intervals.length).toBeGreaterThan(0)
    for (const s of intervals) expect(s).toBeGreaterThan(0.5)
    expect(control.streaming).toBe(true)

    // Passive cancels: the server forgets the tokens and answers the next notification with RST.
    await r.server.server.cancelObservation(ENDPOINT, `/${hr}/0/${rid}`, { passive: true })
    await waitFor(() => !r.gateway.client.listObservations().some((o) => o.paths.includes(`/${hr}/0/${rid}`)), 'the client to drop the bpm observation', 5000)
    // Still one observation: the subscription stays.
    expect(control.streaming).toBe(true)
    await r.server.server.cancelObservation(ENDPOINT, `/${hr}/0/${1000 + rid}`, { passive: true })
    await waitFor(() => !control.streaming, 'the heart-rate sensor unsubscribed', 5000)
  })

  it('cancels actively: a notify-only twin answers the cancel late (its next heartbeat), and it is 2.05, not a timeout', async () => {
    rig = await startGatewayRig({ kinds: ['hr'] })
    const r = rig
    const hr = await twinOf(r, HR_ADDRESS, HEART_RATE_SERVICE_UUID)
    const path = `/${hr}/0/${resourceOf(r, hr, HEART_RATE_MEASUREMENT_UUID)}`
    const control = sensor(r, 'hr').handle.control as HeartRateSensor
    const gatewayObserves = (): boolean => r.gateway.client.listObservations().some((o) => o.paths.includes(path))
    // The cancelling GET is a read too, of a characteristic that only notifies (~1 s): it is answered separately,
    // after an empty ACK. A budget of 2.5 s leaves room for that answer; the old transport lost it and timed out.
    const timeoutMs = 2500

    const info = r.server.server.getClient(ENDPOINT)
    if (!info) throw new Error('the gateway is not registered')
    const handle = await r.server.transport.observe({ address: info.address, port: info.port }, { method: 'GET', path, timeoutMs }, () => undefined)
    expect(handle.response.code).toBe('2.05')
    expect(gatewayObserves()).toBe(true)
    const answer = await handle.cancel()
    expect(answer?.code).toBe('2.05')
    expect(answer?.observe).toBeUndefined()
    expect(gatewayObserves()).toBe(false)

    // The same through the server: the observation is gone on both sides, and the sensor unsubscribed.
    const observed = await r.server.server.observe(ENDPOINT, [path], { timeoutMs })
    expect(observed.ok && observed.value.code).toBe('2.05')
    expect(gatewayObserves()).toBe(true)
    expect(await r.server.server.cancelObservation(ENDPOINT, path)).toEqual({ ok: true, value: { cancelled: 1 } })
    expect(r.server.server.listObservations(ENDPOINT)).toEqual([])
    expect(gatewayObserves()).toBe(false)
    expect(r.server.log.of('log').filter((e) => e.message.includes('active cancel'))).toEqual([])
    await waitFor(() => !control.streaming, 'the heart-rate sensor unsubscribed', 5000)
  })

  it('forwards thermometer indications as °C', async () => {
    rig = await startGatewayRig({ kinds: ['thermometer'] })
    const r = rig
    const th = await twinOf(r, THERMO_ADDRESS, HEALTH_THERMOMETER_SERVICE_UUID)
    const path = `/${th}/0/${resourceOf(r, th, TEMPERATURE_MEASUREMENT_UUID)}`
    const obs = await r.server.server.observe(ENDPOINT, [path])
    const id = obs.ok ? (obs.value.observationId as string) : ''
    await waitFor(() => notificationsOf(r, id).length >= 1, 'a temperature notification', 15_000)
    const v = notificationsOf(r, id)[0]?.records[0]
    expect(v?.type).toBe('float')
    expect(v?.value).toBeGreaterThanOrEqual(36.6)
    expect(v?.value).toBeLessThanOrEqual(37.2)
  })

  it('polls a characteristic without notify and reports each change; polling stops on cancel', async () => {
    const t = testPeripheral(TEST_ADDRESS, 'OT-Test')
    rig = await startGatewayRig({ kinds: [], peripherals: [t.definition], gateway: { autoConnect: [TEST_ADDRESS], pollMs: 200 } })
    const r = rig
    const obj = await twinOf(r, TEST_ADDRESS, TEST_SERVICE)
    const counter = `/${obj}/0/${resourceOf(r, obj, CHAR_READ)}`
    const obs = await r.server.server.observe(ENDPOINT, [counter])
    const id = obs.ok ? (obs.value.observationId as string) : ''
    await waitFor(() => notificationsOf(r, id).length >= 4, 'four polled changes', 10_000)
    const values = notificationsOf(r, id).map((n) => n.records[0]?.value as number)
    // The counter advances by one per GATT read: each poll is a change.
    for (let i = 1; i < values.length; i++) expect(values[i]).toBe((values[i - 1] as number) + 1)
    await r.server.server.cancelObservation(ENDPOINT, counter)
    const after = (await read(r, counter)).value as number
    await new Promise((resolve) => setTimeout(resolve, 600))
    // No poll since the cancel: the next read is the next count.
    expect((await read(r, counter)).value).toBe(after + 1)
    // With pmin 5 s the gateway polls every 5 s, not every 200 ms: a second after the Observe, no poll has run.
    const attrs = await r.server.server.writeAttributes(ENDPOINT, counter, { pmin: 5 })
    expect(attrs.ok && attrs.value.code).toBe('2.04')
    const slow = await r.server.server.observe(ENDPOINT, [counter])
    const first = slow.ok ? (slow.value.records?.[0]?.value as number) : -1
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect((await read(r, counter)).value).toBe(first + 1)
    await r.server.server.cancelObservation(ENDPOINT, counter)

    // A notify characteristic is subscribed, not polled: its notifications go to the server as they come.
    const stream = `/${obj}/0/${resourceOf(r, obj, CHAR_NOTIFY)}`
    const pending = r.server.server.observe(ENDPOINT, [stream])
    // The Observe's first answer is the next notification (the characteristic cannot be read).
    await waitFor(() => t.subscriptions.some((s) => s.uuid === CHAR_NOTIFY && s.kinds.includes('notify')), 'the test peripheral subscribed', 5000)
    t.api?.notify(CHAR_NOTIFY, new Uint8Array([9, 9]))
    const sub = await pending
    expect(sub.ok && sub.value.code).toBe('2.05')
    expect(sub.ok && sub.value.records?.[0]?.value).toBe('0909')
    const subId = sub.ok ? (sub.value.observationId as string) : ''
    await waitFor(() => t.api?.isSubscribed(CHAR_NOTIFY), 'the subscription held for the observation', 5000)
    t.api?.notify(CHAR_NOTIFY, new Uint8Array([1, 2]))
    await waitFor(() => notificationsOf(r, subId).some((n) => n.records[0]?.value === '0102'), 'the notification 0102 at the server', 5000)
    // A passive cancel: the next notification is answered with RST, and the gateway unsubscribes.
    await r.server.server.cancelObservation(ENDPOINT, stream, { passive: true })
    t.api?.notify(CHAR_NOTIFY, new Uint8Array([3, 4]))
    await waitFor(() => t.api !== undefined && !t.api.isSubscribed(CHAR_NOTIFY), 'the test peripheral unsubscribed', 5000)
  })
})
