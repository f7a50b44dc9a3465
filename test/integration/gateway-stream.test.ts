/**
 * No sample lost between sensor and server (issue 5): four ECG sensors at 150 Hz with timestamping on stream
 * through noble, the gateway's twins and the LwM2M client's batched SenML notifications to the embedded server.
 * Every packet a sensor handed to its link must arrive at the server as a record with the sensor's timestamp and
 * sample. The run lasts the 30 s (OBJECTTWIN_STREAM_SECONDS sets another duration).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { sensorAddress } from '../../electron/ble/virtual/sensors/index.ts'
import { BLE_LINK_OBJECT_ID, LinkResource } from '../../electron/gateway/gateway-objects.ts'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import { ContentFormat } from '../../shared/lwm2m/content-format.ts'
import { ECG_SERVICE_UUID, ECG_VALUE_UUID } from '../../shared/ble/uuids.ts'
import { ENDPOINT, eventually, startGatewayRig, twinOf, waitFor } from '../support/gateway-harness.ts'
import type { GatewayRig } from '../support/gateway-harness.ts'

const SECONDS = Number(process.env.OBJECTTWIN_STREAM_SECONDS ?? 30)
const SENSORS = 4

let rig: GatewayRig | undefined

afterEach(async () => {
  await rig?.close()
  rig = undefined
})

interface Received {
  times: number[]
  values: number[]
  notifications: number
}

describe('ECG streams through the gateway', () => {
  it(`${SENSORS} ECG sensors at 150 Hz for ${SECONDS} s: every sample a sensor sent reaches the server with its timestamp`, async () => {
    rig = await startGatewayRig({ kinds: Array.from({ length: SENSORS }, () => 'ecg' as const), ecg: { timestamping: true, samplingRateHz: 150 }, recordEcg: true })
    const r = rig
    const twins: number[] = []
    for (let i = 1; i <= SENSORS; i++) twins.push(await twinOf(r, sensorAddress(0x01, i), ECG_SERVICE_UUID, 20_000))
    const received = new Map<string, Received>()
    const off = r.server.server.onEvent((e: ConsoleEvent) => {
      if (e.kind !== 'notification' || e.endpoint !== ENDPOINT) return
      for (const rec of e.records) {
        let got = received.get(rec.path)
        if (!got) received.set(rec.path, (got = { times: [], values: [], notifications: 0 }))
        got.times.push(rec.time as number)
        got.values.push(rec.value as number)
      }
      const first = e.records[0]
      if (first) (received.get(first.path) as Received).notifications++
    })
    try {
      const paths: string[] = []
      for (const id of twins) {
        const rid = r.gateway.twins.twin(id)?.resources.find((x) => x.uuid === ECG_VALUE_UUID)?.resourceId
        const path = `/${id}/0/${rid}`
        paths.push(path)
        const obs = await r.server.server.observe(ENDPOINT, [path], { format: ContentFormat.SENML_CBOR })
        expect(obs.ok && obs.value.code).toBe('2.05')
      }
      await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000))

      // What each sensor had sent by now must all arrive; what it sends later does not matter.
      const sentUpTo = r.sensors.map((s) => s.sent.length)
      await waitFor(() => paths.every((p, i) => (received.get(p)?.times.length ?? 0) >= (sentUpTo[i] as number)), 'every sent sample at the server', 15_000)

      let totalSamples = 0
      let totalNotifications = 0
      for (const [i, s] of r.sensors.entries()) {
        const sent = s.sent.slice(0, sentUpTo[i])
        const got = received.get(paths[i] as string) as Received
        expect(sent.length).toBeGreaterThan(SECONDS * 150 * 0.8)
        // Consecutive sequence numbers: the sensor dropped nothing at its queue either.
        for (let k = 1; k < sent.length; k++) expect((sent[k - 1] as { seq: number }).seq + 1 & 0xffff).toBe((sent[k] as { seq: number }).seq)
        // The gateway anchors the sensor's clock at its first sample: every later time is that anchor plus the
        // sensor's own timestamp, to the microsecond.
        const anchorMs = (got.times[0] as number) * 1000 - ((sent[0] as { timestampMs: number }).timestampMs)
        const byTime = new Map<number, number>()
        for (let k = 0; k < got.times.length; k++) byTime.set(Math.round((got.times[k] as number) * 1000 - anchorMs), got.values[k] as number)
        const missing: number[] = []
        for (const p of sent) {
          const v = byTime.get(p.timestampMs as number)
          if (v !== p.sample) missing.push(p.seq)
        }
        expect(missing, `sensor ${i + 1}: seqs missing or with another value at the server`).toEqual([])
        // Times arrive in order and never repeat.
        for (let k = 1; k < got.times.length; k++) expect(got.times[k]).toBeGreaterThan(got.times[k - 1] as number)
        totalSamples += got.times.length
        totalNotifications += got.notifications
      }
      // Batched: never one notification per sample.
      expect(totalSamples / totalNotifications).toBeGreaterThan(2)
      console.log(`${SENSORS} sensors × ${SECONDS} s: ${totalSamples} samples in ${totalNotifications} notifications (${(totalSamples / totalNotifications).toFixed(1)} per notification), none lost`)

      // The link monitor saw the same clean links.
      const links = await eventually(async () => {
        const res = await r.server.server.read(ENDPOINT, `/${BLE_LINK_OBJECT_ID}`)
        const recs = res.ok ? res.value.records ?? [] : []
        const rates = recs.filter((x) => x.path.endsWith(`/${LinkResource.notificationsPerSecond}`)).map((x) => x.value as number)
        return rates.length === SENSORS && rates.every((v) => v > 0) ? recs : undefined
      }, 'link rates from a complete window', 10_000)
      for (const rec of links.filter((x) => x.path.endsWith(`/${LinkResource.dropRatio}`))) expect(rec.value).toBe(0)
      for (const rec of links.filter((x) => x.path.endsWith(`/${LinkResource.lostPackets}`))) expect(rec.value).toBe(0)
      for (const rec of links.filter((x) => x.path.endsWith(`/${LinkResource.notificationsPerSecond}`))) {
        expect(rec.value).toBeGreaterThan(120)
        expect(rec.value).toBeLessThan(180)
      }
    } finally {
      off()
    }
  }, SECONDS * 1000 + 90_000)

  it('shows interference as the packet drop ratio of the BLE Link object', async () => {
    rig = await startGatewayRig({ kinds: ['ecg'], link: { interference: 0.1, packetsPerEvent: 8 }, gateway: { linkWindowMs: 2000 } })
    const r = rig
    const id = await twinOf(r, sensorAddress(0x01, 1), ECG_SERVICE_UUID)
    const obs = await r.server.server.observe(ENDPOINT, [`/${id}/0/1`], { format: ContentFormat.SENML_CBOR })
    expect(obs.ok && obs.value.code).toBe('2.05')
    const ratio = await eventually(async () => {
      const res = await r.server.server.read(ENDPOINT, `/${BLE_LINK_OBJECT_ID}/0/${LinkResource.dropRatio}`)
      const v = res.ok ? (res.value.records?.[0]?.value as number) : 0
      return v > 0 ? v : undefined
    }, 'a drop ratio above 0', 15_000)
    expect(ratio).toBeGreaterThan(0.02)
    expect(ratio).toBeLessThan(0.3)
    const lost = await r.server.server.read(ENDPOINT, `/${BLE_LINK_OBJECT_ID}/0/${LinkResource.lostPackets}`)
    expect(lost.ok && (lost.value.records?.[0]?.value as number)).toBeGreaterThan(0)
  })
})
