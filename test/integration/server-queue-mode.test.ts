import { describe, expect, it } from 'vitest'
import { parsePath } from '../../shared/lwm2m/path.ts'
import { useServer, useTestClients, waitFor } from '../support/server-harness.ts'
import type { TestClient } from '../support/test-client.ts'

const h = useServer({ awakeTimeMs: 500, queuedRequestTtlMs: 500, sweepIntervalMs: 50, maxQueuedPerClient: 3 })
const { registered } = useTestClients(() => h)

/** Registers a queue-mode client and waits until the server considers it asleep. */
async function asleep(endpoint: string): Promise<TestClient> {
  const c = await registered({ endpoint, queueMode: true })
  await h.log.wait('sleeping', (e) => e.endpoint === endpoint)
  return c
}

describe('queue mode', () => {
  it('puts a queue-mode client to sleep after the awake time, and only that one', async () => {
    await registered({ endpoint: 'q-plain' })
    await registered({ endpoint: 'q-sleepy', queueMode: true })
    expect(h.server.getClient('q-sleepy')).toMatchObject({ queueMode: true, state: 'awake' })
    await h.log.wait('sleeping', (e) => e.endpoint === 'q-sleepy')
    expect(h.server.getClient('q-sleepy')).toMatchObject({ state: 'sleeping', online: true })
    expect(h.server.getClient('q-plain')).toMatchObject({ queueMode: false, state: 'awake' })
    expect(h.log.of('sleeping').some((e) => e.endpoint === 'q-plain')).toBe(false)
  })

  it('queues a read for a sleeping client and sends it when the client updates', async () => {
    const c = await asleep('q-read')
    const pending = h.server.read('q-read', '/3/0/9')
    await waitFor(() => h.server.getClient('q-read')?.queuedRequests === 1, 'the read to be queued')
    expect(c.received).toEqual([])

    expect((await c.update()).code).toBe('2.04')
    const result = await pending
    expect(result).toMatchObject({ ok: true, value: { code: '2.05', queued: true, records: [{ path: '/3/0/9', value: 100 }] } })
    const awake = await h.log.wait('awake', (e) => e.endpoint === 'q-read')
    expect(awake.queuedRequests).toBe(1)
    expect(h.server.getClient('q-read')).toMatchObject({ state: 'awake', queuedRequests: 0 })
    expect(c.received.map((r) => [r.method, r.path])).toEqual([['GET', '/3/0/9']])

    // Awake now: the next request goes out at once.
    const direct = await h.server.read('q-read', '/3/0/0')
    expect(direct).toMatchObject({ ok: true, value: { code: '2.05' } })
    expect(direct.ok && direct.value.queued).toBeUndefined()
  })

  it('sends several queued requests of different kinds in order', async () => {
    const c = await asleep('q-many')
    const read = h.server.read('q-many', '/3303/0/5700')
    const write = h.server.write('q-many', '/1031/0/2', [{ path: parsePath('/1031/0/2'), value: 125, type: 'integer' }])
    const execute = h.server.execute('q-many', '/1031/0/3')
    await waitFor(() => h.server.getClient('q-many')?.queuedRequests === 3, 'three queued requests')
    // maxQueuedPerClient is 3 here: a fourth is refused at once.
    const refused = await h.server.read('q-many', '/3/0/0')
    expect(refused).toMatchObject({ ok: false, error: { code: 'conflict', message: 'q-many is sleeping and already has 3 queued requests' } })

    await c.update()
    expect(await read).toMatchObject({ ok: true, value: { code: '2.05', queued: true } })
    expect(await write).toMatchObject({ ok: true, value: { code: '2.04', queued: true } })
    expect(await execute).toMatchObject({ ok: true, value: { code: '2.04', queued: true } })
    expect(c.received.map((r) => [r.method, r.path])).toEqual([
      ['GET', '/3303/0/5700'],
      ['PUT', '/1031/0/2'],
      ['POST', '/1031/0/3'],
    ])
    expect(c.get('/1031/0/2')).toBe(125)
  })

  it('queues an observation and establishes it when the client wakes', async () => {
    const c = await asleep('q-observe')
    const pending = h.server.observe('q-observe', ['/3/0/9'])
    await waitFor(() => h.server.getClient('q-observe')?.queuedRequests === 1, 'the observe to be queued')
    await c.update()
    expect(await pending).toMatchObject({ ok: true, value: { code: '2.05', queued: true, observationId: expect.any(String) } })
    expect(c.activeObservations()).toHaveLength(1)
  })

  it('sends what was queued when the sleeping client registers again', async () => {
    const c = await asleep('q-reregister')
    const pending = h.server.read('q-reregister', '/3/0/1')
    await waitFor(() => h.server.getClient('q-reregister')?.queuedRequests === 1, 'the read to be queued')
    expect((await c.register()).code).toBe('2.01')
    expect(await pending).toMatchObject({ ok: true, value: { code: '2.05', queued: true, records: [{ value: 'Lightweight M2M Client' }] } })
  })

  it('drops a queued request after queuedRequestTtlMs', async () => {
    const c = await asleep('q-expire')
    const result = await h.server.read('q-expire', '/3/0/9')
    expect(result).toMatchObject({ ok: false, error: { code: 'queued_expired' } })
    expect(!result.ok && result.error.message).toContain('q-expire did not wake up')
    expect(h.server.getClient('q-expire')?.queuedRequests).toBe(0)
    expect(c.received).toEqual([])
  })

  it('drops queued requests when the client de-registers', async () => {
    const c = await asleep('q-dereg')
    const pending = h.server.read('q-dereg', '/3/0/9')
    await waitFor(() => h.server.getClient('q-dereg')?.queuedRequests === 1, 'the read to be queued')
    await c.deregister()
    expect(await pending).toMatchObject({ ok: false, error: { code: 'not_registered' } })
    expect(c.received).toEqual([])
  })
})
