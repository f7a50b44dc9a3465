import { describe, expect, it } from 'vitest'
import { useServer, useTestClients } from '../support/server-harness.ts'

const h = useServer()
const { start: client } = useTestClients(() => h)

describe('Register', () => {
  it('accepts every parameter and reports them in ClientInfo and the registered event', async () => {
    const c = await client({
      endpoint: 'reg-full',
      lifetime: 120,
      lwm2mVersion: '1.1',
      binding: 'U',
      queueMode: true,
      sms: '+15551234',
      extraQuery: ['site=ward-3', 'flag'],
      objectVersions: { 3303: '1.1' },
    })
    const reply = await c.register()
    expect(reply.code).toBe('2.01')
    expect(reply.locationPath).toEqual(['rd', expect.stringMatching(/^[0-9a-f]+$/)])

    const info = h.server.getClient('reg-full')
    expect(info).toMatchObject({
      endpoint: 'reg-full',
      registrationId: reply.locationPath[1],
      address: '127.0.0.1',
      port: c.port,
      secure: false,
      lwm2mVersion: '1.1',
      binding: 'U',
      lifetime: 120,
      queueMode: true,
      smsNumber: '+15551234',
      online: true,
      state: 'awake',
      rootPath: '/',
      contentFormats: [],
      extraAttributes: { site: 'ward-3', flag: '' },
      queuedRequests: 0,
    })
    expect(info?.objectLinks).toBe(c.objectLinks())
    expect(info?.objects).toEqual([
      { objectId: 1, instances: [0] },
      { objectId: 3, instances: [0] },
      { objectId: 1031, instances: [0] },
      { objectId: 3303, version: '1.1', instances: [0, 1] },
    ])
    expect(info?.registeredAt).toBe(info?.lastUpdateAt)

    const event = await h.log.wait('registered', (e) => e.client.endpoint === 'reg-full')
    expect(event.replaced).toBe(false)
    expect(event.client.registrationId).toBe(reply.locationPath[1])
  })

  it.each(['1.0', '1.1', '1.2'])('accepts lwm2m=%s', async (version) => {
    const c = await client({ endpoint: `reg-v${version}`, lwm2mVersion: version })
    expect((await c.register()).code).toBe('2.01')
    expect(h.server.getClient(`reg-v${version}`)?.lwm2mVersion).toBe(version)
  })

  it('takes 1.0, the default lifetime and binding U when the query names only the endpoint', async () => {
    const c = await client({ endpoint: 'reg-minimal', lwm2mVersion: null, lifetime: null, binding: null })
    expect((await c.register()).code).toBe('2.01')
    expect(h.server.getClient('reg-minimal')).toMatchObject({ lwm2mVersion: '1.0', lifetime: 86400, binding: 'U', queueMode: false })
  })

  it('reads queue mode from a 1.0 binding UQ', async () => {
    const c = await client({ endpoint: 'reg-uq', lwm2mVersion: '1.0', binding: 'UQ' })
    expect((await c.register()).code).toBe('2.01')
    expect(h.server.getClient('reg-uq')).toMatchObject({ binding: 'UQ', queueMode: true })
  })

  it('uses the alternate root path of rt="oma.lwm2m" and the advertised ct=', async () => {
    const c = await client({ endpoint: 'reg-root', rootPath: '/lwm2m', advertisedFormats: [110] })
    expect(c.objectLinks()).toMatch(/^<\/lwm2m>;rt="oma.lwm2m";ct=110,<\/lwm2m\/1\/0>/)
    expect((await c.register()).code).toBe('2.01')
    expect(h.server.getClient('reg-root')).toMatchObject({ rootPath: '/lwm2m', contentFormats: [110] })

    const read = await h.server.read('reg-root', '/3/0/9')
    expect(read).toMatchObject({ ok: true, value: { code: '2.05', contentFormat: 110, records: [{ path: '/3/0/9', name: 'Battery Level', value: 100 }] } })
    expect(c.received.at(-1)).toMatchObject({ method: 'GET', uriPath: '/lwm2m/3/0/9', accept: 110 })
  })
})

describe('Update and De-register', () => {
  it('updates the lifetime without a payload (objects unchanged)', async () => {
    const c = await client({ endpoint: 'upd-lt', lifetime: 300 })
    await c.register()
    const before = h.server.getClient('upd-lt')
    const reply = await c.update({ query: ['lt=600', 'b=UQ'] })
    expect(reply.code).toBe('2.04')
    const event = await h.log.wait('updated', (e) => e.client.endpoint === 'upd-lt')
    expect(event.objectsChanged).toBe(false)
    expect(event.client).toMatchObject({ lifetime: 600, binding: 'UQ', registrationId: before?.registrationId })
    expect(event.client.lastUpdateAt).toBeGreaterThanOrEqual(before?.lastUpdateAt ?? Infinity)
  })

  it('reports objectsChanged when the update carries a different object list', async () => {
    const c = await client({ endpoint: 'upd-objects' })
    await c.register()
    expect((await c.update({ objects: true })).code).toBe('2.04')
    expect((await h.log.wait('updated', (e) => e.client.endpoint === 'upd-objects')).objectsChanged).toBe(false)

    c.set('/3303/2/5700', 18.25, 'float')
    expect((await c.update({ objects: true })).code).toBe('2.04')
    const changed = await h.log.wait('updated', (e) => e.client.endpoint === 'upd-objects' && e.objectsChanged)
    expect(changed.client.objects.find((o) => o.objectId === 3303)?.instances).toEqual([0, 1, 2])
    expect(h.server.getClient('upd-objects')?.objectLinks).toContain('</3303/2>')
  })

  it('de-registers, after which the registration id is unknown', async () => {
    const c = await client({ endpoint: 'dereg' })
    await c.register()
    const id = c.registrationId
    expect((await c.deregister()).code).toBe('2.02')
    const event = await h.log.wait('deregistered', (e) => e.endpoint === 'dereg')
    expect(event.registrationId).toBe(id)
    expect(h.server.getClient('dereg')).toBeUndefined()
    const again = await c.deregister()
    expect(again.code).toBe('4.04')
    expect(again.text).toContain(String(id))
  })

  it('replaces the old registration of the same endpoint and drops its observations', async () => {
    const first = await client({ endpoint: 'replaced' })
    await first.register()
    const observed = await h.server.observe('replaced', ['/3/0/9'])
    expect(observed).toMatchObject({ ok: true, value: { code: '2.05' } })
    expect(h.server.listObservations('replaced')).toHaveLength(1)

    // The same device, restarted: a new socket, a new registration.
    const second = await client({ endpoint: 'replaced' })
    expect((await second.register()).code).toBe('2.01')
    expect(second.registrationId).not.toBe(first.registrationId)
    const event = await h.log.wait('registered', (e) => e.client.endpoint === 'replaced' && e.replaced)
    expect(event.client).toMatchObject({ registrationId: second.registrationId, port: second.port })
    expect(h.server.listObservations('replaced')).toEqual([])
    expect(h.server.listClients().filter((x) => x.endpoint === 'replaced')).toHaveLength(1)

    // The old registration id is gone.
    expect((await first.update()).code).toBe('4.04')
  })
})

describe('invalid requests', () => {
  it.each([
    { name: 'no ep', query: ['lt=60', 'lwm2m=1.1'], code: '4.00', diagnostic: /endpoint name: ep=/ },
    { name: 'empty ep', query: ['ep=', 'lwm2m=1.1'], code: '4.00', diagnostic: /endpoint name/ },
    { name: 'lwm2m=2.0', query: ['ep=bad-version', 'lwm2m=2.0'], code: '4.12', diagnostic: /LwM2M version 2\.0 is not supported; this server speaks 1\.0, 1\.1, 1\.2/ },
    { name: 'lt=abc', query: ['ep=bad-lt', 'lt=abc'], code: '4.00', diagnostic: /lifetime lt=abc/ },
    { name: 'lt=0', query: ['ep=zero-lt', 'lt=0'], code: '4.00', diagnostic: /lifetime lt=0/ },
    { name: 'b=X', query: ['ep=bad-binding', 'b=X'], code: '4.00', diagnostic: /binding b=X/ },
  ])('answers Register with $name by $code and a diagnostic', async ({ query, code, diagnostic }) => {
    const c = await client({ endpoint: 'invalid' })
    const reply = await c.register({ query })
    expect(reply.code).toBe(code)
    expect(reply.text).toMatch(diagnostic)
    expect(h.server.listClients().map((x) => x.endpoint)).not.toContain('bad-version')
  })

  it('answers a bad link-format payload by 4.00 naming the fault', async () => {
    const c = await client({ endpoint: 'bad-links' })
    const reply = await c.register({ payload: '</3/0' })
    expect(reply.code).toBe('4.00')
    expect(reply.text).toMatch(/^Link format: /)
    expect(h.server.getClient('bad-links')).toBeUndefined()
  })

  it('answers a registration link naming a resource by 4.00', async () => {
    const c = await client({ endpoint: 'bad-links-2' })
    const reply = await c.register({ payload: '</3/0/1>' })
    expect(reply.code).toBe('4.00')
    expect(reply.text).toContain('names a resource')
  })

  it('answers a Register payload that is not link-format by 4.15', async () => {
    const c = await client({ endpoint: 'bad-format' })
    const reply = await c.request('POST', '/rd', { query: ['ep=bad-format'], payload: '</3/0>', contentFormat: 0 })
    expect(reply.code).toBe('4.15')
    expect(reply.text).toContain('application/link-format')
  })

  it('answers an update of an unknown registration by 4.04', async () => {
    const c = await client({ endpoint: 'unknown-id' })
    const reply = await c.request('POST', '/rd/0123456789ab')
    expect(reply.code).toBe('4.04')
    expect(reply.text).toContain('0123456789ab')
  })

  it('answers an update with a bad lifetime by 4.00 and keeps the old one', async () => {
    const c = await client({ endpoint: 'upd-bad', lifetime: 300 })
    await c.register()
    const reply = await c.update({ query: ['lt=-5'] })
    expect(reply.code).toBe('4.00')
    expect(reply.text).toContain('lt=-5')
    expect(h.server.getClient('upd-bad')?.lifetime).toBe(300)
  })

  it('answers methods the registration interface does not have by 4.05', async () => {
    const c = await client({ endpoint: 'methods' })
    expect((await c.request('GET', '/rd')).code).toBe('4.05')
    expect((await c.request('PUT', '/rd/abc')).code).toBe('4.05')
    expect((await c.request('GET', '/nowhere')).code).toBe('4.04')
  })
})

describe('lifetime expiry', () => {
  const short = useServer({ lifetimeGraceS: 0, sweepIntervalMs: 50 })

  it('expires a registration past its lifetime: expired event, client and observations gone', async () => {
    const c = await client({ endpoint: 'expiring', lifetime: 1 }, short)
    expect((await c.register()).code).toBe('2.01')
    expect((await short.server.observe('expiring', ['/3/0/9'])).ok).toBe(true)
    expect(short.server.listObservations('expiring')).toHaveLength(1)

    const event = await short.log.wait('expired', (e) => e.endpoint === 'expiring', 5000)
    expect(event.registrationId).toBe(c.registrationId)
    expect(short.server.getClient('expiring')).toBeUndefined()
    expect(short.server.listObservations('expiring')).toEqual([])
    expect((await c.update()).code).toBe('4.04')
  })

  it('keeps a registration that updates within its lifetime', async () => {
    const c = await client({ endpoint: 'updating', lifetime: 2 }, short)
    await c.register()
    const registeredAt = Date.now()
    // Update every 200 ms until 2.5 s have passed: longer than the lifetime.
    while (Date.now() - registeredAt < 2500) {
      expect((await c.update()).code).toBe('2.04')
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(short.server.getClient('updating')).toBeDefined()
    expect(short.log.of('expired').some((e) => e.endpoint === 'updating')).toBe(false)
  })
})
