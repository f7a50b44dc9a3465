/**
 * Observe on our client engine through our server, over loopback UDP: notifications on change, pmin
 * and pmax honoured, gt/lt/st, cancel by Observe 1 and by RST (CON and NON notifications), composite
 * observe, handler hooks, deleted instances, and batched timestamped notifications for streams.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Attributes } from '../../shared/api/schemas.ts'
import { ContentFormat } from '../../shared/lwm2m/content-format.ts'
import { ObjectRegistry } from '../../shared/lwm2m/object-registry.ts'
import { ECG_TWIN, serverEvent, startClient, type StartedClient } from '../support/client-harness.ts'
import { startServer, waitFor, type EventOf, type ServerHarness } from '../support/server-harness.ts'

const EP = 'gw-obs'
let h: ServerHarness
let c: StartedClient
const hookCalls: string[] = []
let sensorReads = 0

type Notification = EventOf<'notification'>

function notificationsOf(observationId: string): Notification[] {
  return h.log.of('notification').filter((n) => n.observationId === observationId)
}

/** A round trip to the client: a notification it sent before answering has arrived by then. */
async function settle(client = EP): Promise<void> {
  const r = await h.server.read(client, '/3/0/16')
  expect(r.ok).toBe(true)
}

async function observe(path: string | string[], attributes?: Attributes, client = EP): Promise<{ id: string; since: number; initial: unknown[] }> {
  const r = await h.server.observe(client, Array.isArray(path) ? path : [path], attributes ? { attributes } : {})
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`)
  expect(r.value.code, r.value.diagnostic).toBe('2.05')
  return { id: r.value.observationId as string, since: Date.now(), initial: (r.value.records ?? []).map((x) => x.value) }
}

beforeAll(async () => {
  const registry = ObjectRegistry.withBuiltins()
  registry.add(ECG_TWIN)
  h = await startServer({ registry })
  c = await startClient({ serverPort: h.port, endpoint: EP })
  c.client.addObject(ECG_TWIN, [
    { 0: 'ECG service', 1: 0, 2: 150, 7: 36.0 },
    {
      0: 'BLE-backed',
      1: {
        read: () => {
          sensorReads++
          return 7
        },
        observe: (active, ctx) => void hookCalls.push(`${active ? 'subscribe' : 'unsubscribe'} ${ctx.path.objectId}/${ctx.path.instanceId}/${ctx.path.resourceId}`),
      },
    },
    { 0: 'stream', 1: 0 },
    { 0: 'stream with pmin', 1: 0 },
    { 0: 'to delete', 1: 0 },
    { 0: 'stream to a TLV observer', 1: 0 },
  ])
  await serverEvent(h, 'updated', (e) => e.client.endpoint === EP && e.objectsChanged)
}, 10_000)

afterAll(async () => {
  await c?.stop()
  await h?.close()
})

describe('client observe through our server', () => {
  it('notifies a change, and not an unchanged value', async () => {
    const o = await observe('/1031/0/7')
    expect(o.initial).toEqual([36])
    c.client.setValue('/1031/0/7', 36.5)
    await waitFor(() => notificationsOf(o.id).length === 1, 'the first notification')
    c.client.setValue('/1031/0/7', 36.5)
    c.client.setValue('/1031/0/0', 'unrelated')
    await settle()
    c.client.setValue('/1031/0/7', 37.25)
    await waitFor(() => notificationsOf(o.id).length === 2, 'the second notification')
    expect(notificationsOf(o.id).map((n) => [n.code, n.records.map((r) => [r.path, r.value])])).toEqual([
      ['2.05', [['/1031/0/7', 36.5]]],
      ['2.05', [['/1031/0/7', 37.25]]],
    ])
    await h.server.cancelObservation(EP, '/1031/0/7')
  })

  it('sends changes made together to an observed instance as one notification', async () => {
    const o = await observe('/1031/0')
    c.client.setValue('/1031/0/7', 38.5)
    c.client.setValue('/1031/0/0', 'changed together')
    await waitFor(() => notificationsOf(o.id).length >= 1, 'the notification')
    await settle()
    expect(notificationsOf(o.id)).toHaveLength(1)
    const values = new Map(notificationsOf(o.id)[0]?.records.map((r) => [r.path, r.value]))
    expect([values.get('/1031/0/7'), values.get('/1031/0/0')]).toEqual([38.5, 'changed together'])
    await h.server.cancelObservation(EP, '/1031/0')
    // The later tests start from the values the first test left.
    c.client.setValue('/1031/0/7', 37.25)
    c.client.setValue('/1031/0/0', 'unrelated')
  })

  it('honours pmin (changes wait and merge) and pmax (the value is sent when nothing changes)', async () => {
    const [fast, idle] = await Promise.all([observe('/1031/0/2', { pmin: 1 }), observe('/1031/0/0', { pmin: 1, pmax: 2 })])
    for (const rate of [151, 152, 153]) c.client.setValue('/1031/0/2', rate)
    const [changed] = await Promise.all([
      waitFor(() => notificationsOf(fast.id)[0], 'the change after pmin', 3000),
      waitFor(() => notificationsOf(idle.id)[0], 'the pmax notification', 4000),
    ])
    const first = notificationsOf(idle.id)[0] as Notification
    expect(changed.records.map((r) => r.value)).toEqual([153])
    expect(changed.time - fast.since).toBeGreaterThanOrEqual(950)
    expect(first.records.map((r) => r.value)).toEqual(['unrelated'])
    expect(first.time - idle.since).toBeGreaterThanOrEqual(1950)
    await settle()
    expect(notificationsOf(fast.id)).toHaveLength(1)
    await h.server.cancelObservation(EP, '/1031/0/2')
    await h.server.cancelObservation(EP, '/1031/0/0')
  })

  it("uses the Server object's default periods when the path has none", async () => {
    const written = await h.server.write(EP, '/1/0/3', [{ path: { objectId: 1, instanceId: 0, resourceId: 3 }, value: 1 }])
    expect(written.ok && written.value.code).toBe('2.04')
    try {
      expect(c.client.observeAttributes('/3/0/16')).toEqual({ pmin: 0, pmax: 1 })
      const o = await observe('/3/0/16')
      const n = await waitFor(() => notificationsOf(o.id)[0], 'the default pmax notification', 3000)
      expect(n.records.map((r) => r.value)).toEqual(['U'])
      expect(n.time - o.since).toBeGreaterThanOrEqual(950)
    } finally {
      await h.server.write(EP, '/1/0/3', [{ path: { objectId: 1, instanceId: 0, resourceId: 3 }, value: 0 }])
      await h.server.cancelObservation(EP, '/3/0/16')
    }
  })

  it('notifies when a value crosses gt or lt, or moves by st', async () => {
    const crossing = await observe('/1031/0/1', { gt: 100, lt: -100 })
    expect(c.client.observeAttributes('/1031/0/1')).toEqual({ pmin: 0, gt: 100, lt: -100 })
    for (const v of [50, 150, 160, 90, -50, -150, -160, 1000]) {
      c.client.setValue('/1031/0/1', v)
      await settle()
    }
    await waitFor(() => notificationsOf(crossing.id).length >= 4, 'four crossings')
    expect(notificationsOf(crossing.id).map((n) => n.records[0]?.value)).toEqual([150, 90, -150, 1000])
    const step = await observe('/1031/0/7', { st: 1 })
    expect(step.initial).toEqual([37.25])
    for (const v of [37.75, 38.25, 38.5, 39.5]) {
      c.client.setValue('/1031/0/7', v)
      await settle()
    }
    await waitFor(() => notificationsOf(step.id).length >= 2, 'two steps')
    expect(notificationsOf(step.id).map((n) => n.records[0]?.value)).toEqual([38.25, 39.5])
    await h.server.cancelObservation(EP)
  })

  it('ends an observation on Observe 1 and on RST, with CON and with NON notifications', async () => {
    const non = await startClient({ serverPort: h.port, endpoint: 'gw-obs-non', confirmableNotifications: false })
    try {
      await serverEvent(h, 'registered', (e) => e.client.endpoint === 'gw-obs-non')
      for (const [client, target] of [
        [c, EP],
        [non, 'gw-obs-non'],
      ] as const) {
        await observe('/3/0/14', undefined, target)
        expect(client.client.listObservations().map((o) => o.paths)).toEqual([['/3/0/14']])
        await h.server.cancelObservation(target, '/3/0/14')
        await client.log.wait('observationEnded', (e) => e.reason === 'cancelled by the server')
        expect(client.client.listObservations()).toEqual([])
        // Passive: the server forgets the token and answers the next notification with RST.
        const passive = await observe('/3/0/14', undefined, target)
        await h.server.cancelObservation(target, '/3/0/14', { passive: true })
        client.client.setValue('/3/0/14', target === EP ? '+02:00' : '+03:00')
        await client.log.wait('observationEnded', (e) => e.reason === 'the server reset a notification')
        expect(client.client.listObservations()).toEqual([])
        expect(notificationsOf(passive.id)).toEqual([])
      }
    } finally {
      await non.stop()
    }
  })

  it('observes several paths at once (composite, FETCH)', async () => {
    const o = await observe(['/3/0/14', '/1031/0/2'])
    expect(o.initial).toEqual(['+02:00', 153])
    c.client.setValue('/3/0/14', '+04:00')
    const n = await waitFor(() => notificationsOf(o.id)[0], 'a composite notification')
    expect(n.records.map((r) => [r.path, r.value])).toEqual([
      ['/3/0/14', '+04:00'],
      ['/1031/0/2', 153],
    ])
    await h.server.cancelObservation(EP)
    await c.log.wait('observationEnded', (e) => e.observation.composite)
  })

  it('tells handler-backed resources of the first and last observation, and notifies pushed values', async () => {
    const readsBefore = sensorReads
    const o = await observe('/1031/1/1')
    expect(o.initial).toEqual([7])
    await waitFor(() => hookCalls.includes('subscribe 1031/1/1'), 'the subscribe hook')
    const second = await observe('/1031/1')
    c.client.valueChanged('/1031/1/1', 42)
    await waitFor(() => notificationsOf(o.id).length === 1 && notificationsOf(second.id).length === 1, 'both notifications')
    expect(notificationsOf(o.id)[0]?.records.map((r) => r.value)).toEqual([42])
    // One read per Observe; the notifications used the pushed value.
    expect(sensorReads - readsBefore).toBe(2)
    await h.server.cancelObservation(EP, '/1031/1/1')
    expect(hookCalls).toEqual(['subscribe 1031/1/1'])
    await h.server.cancelObservation(EP, '/1031/1')
    await waitFor(() => hookCalls.length === 2, 'the unsubscribe hook')
    expect(hookCalls).toEqual(['subscribe 1031/1/1', 'unsubscribe 1031/1/1'])
  })

  it('ends the observation of a deleted instance with 4.04', async () => {
    const o = await observe('/1031/4/1')
    c.client.tree.removeInstance(1031, 4)
    const n = await waitFor(() => notificationsOf(o.id)[0], 'the 4.04 notification')
    expect(n.code).toBe('4.04')
    const ended = await c.log.wait('observationEnded', (e) => e.observation.paths[0] === '/1031/4/1')
    expect(ended.reason).toBe('/1031/4 was deleted')
    // A sensor's late values for the deleted twin are dropped, not thrown.
    expect(c.client.pushSamples('/1031/4/1', [{ value: 1, time: 1_750_000_000 }])).toBe(0)
    expect(c.client.valueChanged('/1031/4/1', 1)).toBe(false)
  })

  it('batches pushed samples into few timestamped notifications, none lost', async () => {
    const o = await observe('/1031/2/1')
    const t0 = 1_750_000_000
    const samples = Array.from({ length: 100 }, (_, i) => ({ value: i - 50, time: t0 + i / 250 }))
    expect(c.client.pushSamples('/1031/2/1', samples)).toBe(1)
    await waitFor(() => notificationsOf(o.id).reduce((n, x) => n + x.records.length, 0) >= 100, 'all 100 samples', 3000)
    const received = notificationsOf(o.id).flatMap((n) => n.records)
    expect(received.map((r) => r.value)).toEqual(samples.map((s) => s.value))
    expect(received.map((r) => r.time)).toEqual(samples.map((s) => s.time))
    expect(notificationsOf(o.id).length).toBeLessThanOrEqual(4)
    // Typed arrays, a few at a time as BLE notifications come: flushed by time, still batched.
    const before = notificationsOf(o.id).length
    for (let k = 0; k < 5; k++) {
      const times = Float64Array.from({ length: 4 }, (_, i) => t0 + 1 + (k * 4 + i) / 250)
      c.client.pushSamples('/1031/2/1', { times, values: Int16Array.from({ length: 4 }, (_, i) => k * 4 + i) })
    }
    await waitFor(() => notificationsOf(o.id).slice(before).reduce((n, x) => n + x.records.length, 0) >= 20, '20 more samples', 3000)
    expect(notificationsOf(o.id).slice(before).flatMap((n) => n.records.map((r) => r.value))).toEqual(Array.from({ length: 20 }, (_, i) => i))
    expect(notificationsOf(o.id).length - before).toBeLessThanOrEqual(5)
    const read = await h.server.read(EP, '/1031/2/1')
    expect(read.ok && read.value.records?.[0]?.value).toBe(19)
  })

  it('sends the latest sample, rate-limited, to an observer in a format without timestamps (TLV)', async () => {
    const r = await h.server.observe(EP, ['/1031/5/1'], { format: ContentFormat.TLV })
    expect(r.ok && r.value.code).toBe('2.05')
    const id = (r.ok && r.value.observationId) as string
    const t0 = 1_750_000_200
    for (let k = 0; k < 10; k++) c.client.pushSamples('/1031/5/1', Array.from({ length: 10 }, (_, i) => ({ value: k * 10 + i, time: t0 + (k * 10 + i) / 500 })))
    await waitFor(() => notificationsOf(id).at(-1)?.records[0]?.value === 99, 'the last sample', 3000)
    const notes = notificationsOf(id)
    expect(notes.length).toBeLessThanOrEqual(3)
    expect(notes.every((n) => n.records.length === 1 && n.records[0]?.time === undefined)).toBe(true)
  })

  it('holds stream batches for pmin', async () => {
    const o = await observe('/1031/3/1', { pmin: 1 })
    const t0 = 1_750_000_100
    for (let k = 0; k < 3; k++) {
      c.client.pushSamples('/1031/3/1', Array.from({ length: 10 }, (_, i) => ({ value: k * 10 + i, time: t0 + (k * 10 + i) / 150 })))
      await settle()
    }
    await waitFor(() => notificationsOf(o.id).reduce((n, x) => n + x.records.length, 0) >= 30, 'all 30 samples', 3000)
    const notes = notificationsOf(o.id)
    expect(notes.flatMap((n) => n.records.map((r) => r.value))).toEqual(Array.from({ length: 30 }, (_, i) => i))
    expect(notes).toHaveLength(1)
    expect((notes[0] as Notification).time - o.since).toBeGreaterThanOrEqual(950)
  })
})
