import { describe, expect, it } from 'vitest'
import { ContentFormat } from '../../shared/lwm2m/content-format.ts'
import { parsePath } from '../../shared/lwm2m/path.ts'
import type { Lwm2mRecord } from '../../shared/lwm2m/values.ts'
import { useServer, useTestClients, waitFor } from '../support/server-harness.ts'

const h = useServer()
const { registered, start } = useTestClients(() => h)

/** A batch of ECG samples, 250 Hz from `t0` (seconds since the epoch), as one resource's timestamped records. */
function ecgBatch(t0: number, count: number, first = 0): Lwm2mRecord[] {
  const path = parsePath('/1031/0/1')
  return Array.from({ length: count }, (_, i) => ({ path, value: (first + i) * 7 - 300, type: 'integer' as const, time: t0 + i / 250 }))
}

describe('Observe', () => {
  it('observes one resource and emits its notifications', async () => {
    const c = await registered({ endpoint: 'obs-single' })
    const r = await h.server.observe('obs-single', ['/3303/0/5700'])
    expect(r).toMatchObject({ ok: true, value: { code: '2.05', records: [{ path: '/3303/0/5700', name: 'Sensor Value', value: 21.5 }] } })
    const id = r.ok ? r.value.observationId : undefined
    expect(id).toMatch(/^[0-9a-f]{16}$/)
    expect(h.server.listObservations('obs-single')).toEqual([
      expect.objectContaining({ id, endpoint: 'obs-single', paths: ['/3303/0/5700'], composite: false, contentFormat: ContentFormat.SENML_CBOR, active: true }),
    ])
    expect(c.received.at(-1)).toMatchObject({ method: 'GET', path: '/3303/0/5700', observe: 0 })

    expect(c.notify('/3303/0/5700', [{ path: parsePath('/3303/0/5700'), value: 22.25, type: 'float' }])).toBe(1)
    const n = await h.log.wait('notification', (e) => e.observationId === id)
    expect(n).toMatchObject({ endpoint: 'obs-single', paths: ['/3303/0/5700'], code: '2.05', records: [{ path: '/3303/0/5700', name: 'Sensor Value', type: 'float', value: 22.25 }] })
    expect(n.decodeError).toBeUndefined()

    c.notify('/3303/0/5700', [{ path: parsePath('/3303/0/5700'), value: 23, type: 'float' }])
    await h.log.wait('notification', (e) => e.observationId === id && e.records[0]?.value === 23)
    // The initial answer is the observe result, not a notification.
    expect(h.log.of('notification').filter((e) => e.observationId === id).map((e) => e.records[0]?.value)).toEqual([22.25, 23])
  })

  it.each([
    { name: 'SenML CBOR', format: ContentFormat.SENML_CBOR },
    { name: 'SenML JSON', format: ContentFormat.SENML_JSON },
  ])('keeps every timestamped value of a $name ECG notification', async ({ format }) => {
    const ep = `obs-ecg-${format}`
    const c = await registered({ endpoint: ep })
    const r = await h.server.observe(ep, ['/1031/0/1'], { format })
    expect(r).toMatchObject({ ok: true, value: { code: '2.05', contentFormat: format } })
    const id = r.ok ? r.value.observationId : undefined

    const t0 = 1_767_225_600.5
    const batch = ecgBatch(t0, 25)
    expect(c.notify('/1031/0/1', batch)).toBe(1)
    const n = await h.log.wait('notification', (e) => e.observationId === id)
    expect(n.records).toHaveLength(25)
    expect(n.records.map((x) => x.time)).toEqual(batch.map((x) => x.time))
    expect(n.records.map((x) => x.value)).toEqual(batch.map((x) => x.value))
    expect(new Set(n.records.map((x) => x.path))).toEqual(new Set(['/1031/0/1']))

    // A second batch is its own event; nothing is merged or dropped.
    c.notify('/1031/0/1', ecgBatch(t0 + 0.1, 25, 25))
    const second = await h.log.wait('notification', (e) => e.observationId === id && e !== n)
    expect(second.records.map((x) => x.value)).toEqual(ecgBatch(t0 + 0.1, 25, 25).map((x) => x.value))
    expect(second.records[0]?.time).toBe(t0 + 0.1)
  })

  it('keeps a burst of 20 ECG notifications apart and in order', async () => {
    const c = await registered({ endpoint: 'obs-burst' })
    const r = await h.server.observe('obs-burst', ['/1031/0/1'])
    const id = r.ok ? r.value.observationId : undefined
    const t0 = 1_767_225_610
    for (let k = 0; k < 20; k++) c.notify('/1031/0/1', ecgBatch(t0 + k * 0.1, 25, k * 25))
    await waitFor(() => h.log.of('notification').filter((e) => e.observationId === id).length === 20, '20 notifications')
    const all = h.log.of('notification').filter((e) => e.observationId === id).flatMap((e) => e.records)
    expect(all.map((x) => x.value)).toEqual(Array.from({ length: 500 }, (_, i) => i * 7 - 300))
    expect(all.map((x) => x.time)).toEqual(Array.from({ length: 20 }, (_, k) => ecgBatch(t0 + k * 0.1, 25).map((x) => x.time)).flat())
  })

  it('observes two paths at once with a composite FETCH', async () => {
    const c = await registered({ endpoint: 'obs-composite' })
    const r = await h.server.observe('obs-composite', ['/3/0/9', '/3303/0/5700'])
    expect(r).toMatchObject({ ok: true, value: { code: '2.05' } })
    expect(r.ok && r.value.records?.map((x) => [x.path, x.value])).toEqual([
      ['/3/0/9', 100],
      ['/3303/0/5700', 21.5],
    ])
    const fetch = c.received.at(-1)
    expect(fetch).toMatchObject({ method: 'FETCH', path: '/', observe: 0, contentFormat: ContentFormat.SENML_JSON, accept: ContentFormat.SENML_CBOR })
    expect(JSON.parse(fetch?.payload.toString('utf8') ?? '')).toEqual([{ n: '/3/0/9' }, { n: '/3303/0/5700' }])
    expect(h.server.listObservations('obs-composite')).toEqual([expect.objectContaining({ composite: true, paths: ['/3/0/9', '/3303/0/5700'] })])

    c.set('/3/0/9', 97)
    expect(c.notify('/3/0/9')).toBe(1)
    const n = await h.log.wait('notification', (e) => e.endpoint === 'obs-composite')
    expect(n.paths).toEqual(['/3/0/9', '/3303/0/5700'])
    expect(n.records.map((x) => [x.path, x.value])).toEqual([
      ['/3/0/9', 97],
      ['/3303/0/5700', 21.5],
    ])

    // Cancelling either path cancels the composite observation, with a FETCH carrying Observe 1.
    expect(await h.server.cancelObservation('obs-composite', '/3303/0/5700')).toEqual({ ok: true, value: { cancelled: 1 } })
    expect(c.received.at(-1)).toMatchObject({ method: 'FETCH', observe: 1, token: c.observations[0]?.token })
    expect(c.observations[0]?.state).toBe('cancelled')
  })

  it('falls back to another format when the client answers 4.06 to the observe', async () => {
    const c = await registered({ endpoint: 'obs-fallback', formats: [ContentFormat.TEXT, ContentFormat.TLV, ContentFormat.SENML_JSON] })
    const r = await h.server.observe('obs-fallback', ['/1031/0/1'])
    expect(r).toMatchObject({ ok: true, value: { code: '2.05', contentFormat: ContentFormat.SENML_JSON, observationId: expect.any(String) } })
    expect(c.received.map((x) => [x.method, x.accept, x.observe])).toEqual([
      ['GET', ContentFormat.SENML_CBOR, 0],
      ['GET', ContentFormat.SENML_JSON, 0],
    ])
    expect(h.server.listObservations('obs-fallback')).toEqual([expect.objectContaining({ contentFormat: ContentFormat.SENML_JSON, active: true })])
    c.notify('/1031/0/1', ecgBatch(1_767_225_650, 3))
    const n = await h.log.wait('notification', (e) => e.endpoint === 'obs-fallback')
    expect(n.records).toHaveLength(3)
  })

  it('reports a device refusal of an observation as data and keeps nothing', async () => {
    await registered({ endpoint: 'obs-404' })
    const r = await h.server.observe('obs-404', ['/3303/7/5700'])
    expect(r).toMatchObject({ ok: true, value: { code: '4.04', success: false } })
    expect(r.ok && r.value.observationId).toBeUndefined()
    expect(h.server.listObservations('obs-404')).toEqual([])
  })

  it('writes the attributes before observing when asked to', async () => {
    const c = await registered({ endpoint: 'obs-attrs' })
    const r = await h.server.observe('obs-attrs', ['/3303/0/5700'], { attributes: { pmin: 1, pmax: 30 } })
    expect(r).toMatchObject({ ok: true, value: { code: '2.05' } })
    expect(c.received.map((x) => [x.method, x.path, x.query.join('&'), x.observe])).toEqual([
      ['PUT', '/3303/0/5700', 'pmin=1&pmax=30', undefined],
      ['GET', '/3303/0/5700', '', 0],
    ])
  })
})

describe('cancel', () => {
  it('cancels actively: the client gets a GET with Observe 1 and the same token', async () => {
    const c = await registered({ endpoint: 'cancel-active' })
    const r = await h.server.observe('cancel-active', ['/3/0/9'])
    expect(r.ok).toBe(true)
    const token = c.observations[0]?.token
    expect(token).toMatch(/^[0-9a-f]+$/)

    expect(await h.server.cancelObservation('cancel-active', '/3/0/9')).toEqual({ ok: true, value: { cancelled: 1 } })
    expect(c.cancels).toEqual([{ path: '/3/0/9', token }])
    expect(c.received.at(-1)).toMatchObject({ method: 'GET', path: '/3/0/9', observe: 1, token })
    expect(c.observations[0]?.state).toBe('cancelled')
    expect(h.server.listObservations('cancel-active')).toEqual([])
  })

  it('cancels passively: the next notification is answered with RST', async () => {
    const c = await registered({ endpoint: 'cancel-passive' })
    const r = await h.server.observe('cancel-passive', ['/3/0/9'])
    const id = r.ok ? r.value.observationId : undefined
    expect(await h.server.cancelObservation('cancel-passive', '/3/0/9', { passive: true })).toEqual({ ok: true, value: { cancelled: 1 } })
    expect(h.server.listObservations('cancel-passive')).toEqual([])
    expect(c.cancels).toEqual([])

    expect(c.notify('/3/0/9', [{ path: parsePath('/3/0/9'), value: 55, type: 'integer' }])).toBe(1)
    await waitFor(() => c.observations[0]?.state === 'reset', 'the client to see the RST')
    expect(h.log.of('notification').some((e) => e.observationId === id)).toBe(false)
  })

  it('cancels every observation of a client when no path is given', async () => {
    const c = await registered({ endpoint: 'cancel-all' })
    await h.server.observe('cancel-all', ['/3/0/9'])
    await h.server.observe('cancel-all', ['/3303/0/5700'])
    expect(await h.server.cancelObservation('cancel-all')).toEqual({ ok: true, value: { cancelled: 2 } })
    expect(c.cancels.map((x) => x.path).sort()).toEqual(['/3/0/9', '/3303/0/5700'])
  })
})

describe('re-observe after re-register', () => {
  const reobserving = useServer({ reobserveOnRegister: true })

  it('observes the same paths again when the endpoint registers anew', async () => {
    const before = await registered({ endpoint: 'reobserve' }, reobserving)
    expect((await reobserving.server.observe('reobserve', ['/1031/0/1'], { format: ContentFormat.SENML_JSON })).ok).toBe(true)
    await before.close()

    const after = await registered({ endpoint: 'reobserve' }, reobserving)
    await waitFor(() => after.activeObservations().length === 1, 'the server to observe the new registration')
    expect(after.observations[0]).toMatchObject({ paths: ['/1031/0/1'], format: ContentFormat.SENML_JSON })
    const [observation] = reobserving.server.listObservations('reobserve')
    expect(observation).toMatchObject({ paths: ['/1031/0/1'], active: true })

    after.notify('/1031/0/1', ecgBatch(1_767_225_700, 5))
    const n = await reobserving.log.wait('notification', (e) => e.endpoint === 'reobserve')
    expect(n.observationId).toBe(observation?.id)
    expect(n.records.map((x) => x.value)).toEqual(ecgBatch(1_767_225_700, 5).map((x) => x.value))
  })

  it('does not observe again without the option', async () => {
    const before = await registered({ endpoint: 'no-reobserve' })
    expect((await h.server.observe('no-reobserve', ['/3/0/9'])).ok).toBe(true)
    const after = await registered({ endpoint: 'no-reobserve' })
    await h.log.wait('registered', (e) => e.client.endpoint === 'no-reobserve' && e.replaced)
    expect(h.server.listObservations('no-reobserve')).toEqual([])
    expect(after.received).toEqual([])
    expect(before.observations).toHaveLength(1)
  })
})

describe('Send', () => {
  it('accepts a SenML CBOR Send with several timestamped values', async () => {
    const c = await registered({ endpoint: 'send-cbor' })
    const records = [...ecgBatch(1_767_225_800, 10), { path: parsePath('/3/0/9'), value: 88, type: 'integer' as const }]
    const reply = await c.send(records)
    expect(reply.code).toBe('2.04')
    const event = await h.log.wait('send', (e) => e.endpoint === 'send-cbor')
    expect(event.records).toHaveLength(11)
    expect(event.records.slice(0, 10).map((x) => [x.path, x.value, x.time])).toEqual(ecgBatch(1_767_225_800, 10).map((x) => ['/1031/0/1', x.value, x.time]))
    expect(event.records[10]).toEqual({ path: '/3/0/9', name: 'Battery Level', type: 'integer', value: 88 })
  })

  it('accepts a SenML JSON Send', async () => {
    const c = await registered({ endpoint: 'send-json' })
    const reply = await c.sendRaw(JSON.stringify([{ bn: '/3303/0/', n: '5700', v: 20.5, bt: 1_767_225_900 }, { n: '5700', v: 20.75, t: 1 }]), ContentFormat.SENML_JSON)
    expect(reply.code).toBe('2.04')
    const event = await h.log.wait('send', (e) => e.endpoint === 'send-json')
    expect(event.records).toEqual([
      { path: '/3303/0/5700', name: 'Sensor Value', type: 'float', value: 20.5, time: 1_767_225_900 },
      { path: '/3303/0/5700', name: 'Sensor Value', type: 'float', value: 20.75, time: 1_767_225_901 },
    ])
  })

  it('refuses Send in another format, an undecodable one, and from an unknown peer', async () => {
    const c = await registered({ endpoint: 'send-bad' })
    const tlv = await c.sendRaw(new Uint8Array([0xc1, 0x09, 0x64]), ContentFormat.TLV)
    expect(tlv.code).toBe('4.15')
    expect(tlv.text).toContain('SenML')
    const garbage = await c.sendRaw('[{"n":', ContentFormat.SENML_JSON)
    expect(garbage.code).toBe('4.00')
    expect(garbage.text).toMatch(/^SenML JSON: /)

    const stranger = await start({ endpoint: 'stranger' })
    const unknown = await stranger.sendRaw('[{"n":"/3/0/9","v":1}]', ContentFormat.SENML_JSON)
    expect(unknown.code).toBe('4.04')
    expect(h.log.of('send').some((e) => e.endpoint === 'send-bad')).toBe(false)
  })
})
