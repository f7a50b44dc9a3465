/**
 * Our LwM2M client engine (electron/client) registering with our server (in process, loopback UDP):
 * Register parameters and object links, Updates on lifetime, on object-list changes and on demand,
 * De-register, and re-registration when the server restarts, is gone, or refuses the version.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ContentFormat } from '../../shared/lwm2m/content-format.ts'
import { ObjectRegistry } from '../../shared/lwm2m/object-registry.ts'
import type { IncomingRequest } from '../../electron/coap/transport.ts'
import { UdpTransport } from '../../electron/coap/udp-transport.ts'
import { ECG_TWIN, NOTES, serverEvent, startClient, type StartedClient } from '../support/client-harness.ts'
import { startServer, waitFor, type ServerHarness } from '../support/server-harness.ts'

// Clients stop before servers close, so that their De-register is answered.
const clients: StartedClient[] = []
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) await c.stop()
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function server(port?: number): Promise<ServerHarness> {
  const registry = ObjectRegistry.withBuiltins()
  registry.add(ECG_TWIN)
  const h = await startServer({ registry, ...(port !== undefined ? { port } : {}) })
  cleanups.push(() => h.close())
  return h
}

async function client(...args: Parameters<typeof startClient>): Promise<StartedClient> {
  const c = await startClient(...args)
  clients.push(c)
  return c
}

/** A bare CoAP endpoint that answers Register as told: the server side of the 4.12 and 4.00 cases. */
async function stubServer(answer: (req: IncomingRequest) => { code: string; location?: string[] }): Promise<{ port: number; requests: IncomingRequest[] }> {
  const transport = new UdpTransport({ host4: '127.0.0.1', port: 0 })
  const { port4 } = await transport.listen()
  const requests: IncomingRequest[] = []
  transport.onRequest((req, res) => {
    requests.push(req)
    const { code, location } = answer(req)
    res.respond(code, code.startsWith('2.') ? undefined : `refused by the stub`, location ? { locationPath: location } : {})
  })
  cleanups.push(() => transport.close())
  return { port: port4 as number, requests }
}

describe('client registration with our server', () => {
  it('registers with lt, lwm2m=1.1, b=U and versioned object links, from the socket it listens on', async () => {
    const h = await server()
    const c = await client({ serverPort: h.port, endpoint: 'gw-reg', lifetime: 120 })
    c.client.addObject(ECG_TWIN, [{ 0: 'ECG service', 1: 0, 2: 150 }])
    const registered = await h.log.wait('registered', (e) => e.client.endpoint === 'gw-reg')
    const event = await c.log.wait('registered')
    expect(registered.client).toMatchObject({
      endpoint: 'gw-reg',
      lifetime: 120,
      lwm2mVersion: '1.1',
      binding: 'U',
      queueMode: false,
      rootPath: '/',
      contentFormats: [ContentFormat.SENML_CBOR],
      address: '127.0.0.1',
      port: c.client.localPort,
    })
    expect(event.location).toBe(`/rd/${registered.client.registrationId}`)
    expect(c.client.registrationLocation).toBe(event.location)
    expect(c.client.state).toBe('registered')
    // Security (0) is never listed; Server 1.1 and Device 1.2 are the versions written for LwM2M 1.1.
    expect(registered.client.objectLinks).toBe('</>;rt="oma.lwm2m";ct=112,</1>;ver=1.1,</1/0>,</3>;ver=1.2,</3/0>')
    // The twin added after start arrives in an Update.
    const updated = await h.log.wait('updated', (e) => e.objectsChanged)
    expect(updated.client.objectLinks).toBe('</>;rt="oma.lwm2m";ct=112,</1>;ver=1.1,</1/0>,</3>;ver=1.2,</3/0>,</1031/0>')
    expect(updated.client.objects.map((o) => [o.objectId, o.version ?? '1.0', o.instances])).toEqual([
      [1, '1.1', [0]],
      [3, '1.2', [0]],
      [1031, '1.0', [0]],
    ])
  })

  it('registers as LwM2M 1.0 (TLV by default, no ct) and 1.2 (several ct, queue mode)', async () => {
    const h = await server()
    await client({ serverPort: h.port, endpoint: 'gw-10', lwm2mVersion: '1.0' })
    await client({ serverPort: h.port, endpoint: 'gw-12', lwm2mVersion: '1.2', queueMode: true })
    const v10 = await h.log.wait('registered', (e) => e.client.endpoint === 'gw-10')
    const v12 = await h.log.wait('registered', (e) => e.client.endpoint === 'gw-12')
    expect(v10.client).toMatchObject({ lwm2mVersion: '1.0', objectLinks: '</>;rt="oma.lwm2m",</1/0>,</3/0>', contentFormats: [], queueMode: false })
    expect(v12.client).toMatchObject({ lwm2mVersion: '1.2', queueMode: true, objectLinks: '</>;rt="oma.lwm2m";ct="112 110 11542 11543",</1>;ver=1.2,</1/0>,</3>;ver=1.2,</3/0>' })
    const read = await h.server.read('gw-10', '/3/0')
    expect(read.ok && read.value).toMatchObject({ code: '2.05', contentFormat: ContentFormat.TLV })
    expect(read.ok && read.value.records?.find((r) => r.path === '/3/0/16')?.value).toBe('U')
  })

  it('serves DM requests under an alternate root path', async () => {
    const h = await server()
    await client({ serverPort: h.port, endpoint: 'gw-root', rootPath: '/lwm2m', device: { manufacturer: 'Acme Medical' } })
    const registered = await h.log.wait('registered', (e) => e.client.endpoint === 'gw-root')
    expect(registered.client.rootPath).toBe('/lwm2m')
    expect(registered.client.objectLinks).toBe('</lwm2m>;rt="oma.lwm2m";ct=112,</lwm2m/1>;ver=1.1,</lwm2m/1/0>,</lwm2m/3>;ver=1.2,</lwm2m/3/0>')
    const read = await h.server.read('gw-root', '/3/0/0')
    expect(read.ok && read.value.records).toEqual([{ path: '/3/0/0', name: 'Manufacturer', type: 'string', value: 'Acme Medical' }])
  })

  it('updates before the lifetime runs out', async () => {
    const h = await server()
    const c = await client({ serverPort: h.port, endpoint: 'gw-lt', lifetime: 1 })
    await h.log.wait('registered', (e) => e.client.endpoint === 'gw-lt')
    const updated = await h.log.wait('updated', (e) => e.client.endpoint === 'gw-lt', 4000)
    expect(updated.objectsChanged).toBe(false)
    expect(updated.client.lifetime).toBe(1)
    expect((await c.log.wait('updated')).objectsChanged).toBe(false)
    // And again: the next one is scheduled from the last.
    await serverEvent(h, 'updated', (e) => e.client.endpoint === 'gw-lt', 2, 4000)
    expect(h.log.of('registered').filter((e) => e.client.endpoint === 'gw-lt')).toHaveLength(1)
  })

  it('sends one Update for a burst of object-list changes, and one when an object goes', async () => {
    const h = await server()
    const c = await client({ serverPort: h.port, endpoint: 'gw-burst' })
    await h.log.wait('registered', (e) => e.client.endpoint === 'gw-burst')
    c.client.addObject(NOTES)
    for (let i = 0; i < 5; i++) c.client.tree.addInstance(NOTES.id, { 0: `note ${i}` })
    const updated = await h.log.wait('updated', (e) => e.client.endpoint === 'gw-burst' && e.objectsChanged)
    expect(updated.client.objects.find((o) => o.objectId === NOTES.id)?.instances).toEqual([0, 1, 2, 3, 4])
    // Well past the 100 ms window: still one Update.
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(h.log.of('updated').filter((e) => e.client.endpoint === 'gw-burst')).toHaveLength(1)
    c.client.removeObject(NOTES.id)
    const second = await serverEvent(h, 'updated', (e) => e.client.endpoint === 'gw-burst', 2)
    expect(second.objectsChanged).toBe(true)
    expect(second.client.objects.map((o) => o.objectId)).toEqual([1, 3])
  })

  it('sends an Update when the server executes Registration Update Trigger or writes the lifetime', async () => {
    const h = await server()
    const c = await client({ serverPort: h.port, endpoint: 'gw-trigger' })
    await h.log.wait('registered', (e) => e.client.endpoint === 'gw-trigger')
    const executed = await h.server.execute('gw-trigger', '/1/0/8')
    expect(executed.ok && executed.value.code).toBe('2.04')
    await h.log.wait('updated', (e) => e.client.endpoint === 'gw-trigger')
    const written = await h.server.write('gw-trigger', '/1/0/1', [{ path: { objectId: 1, instanceId: 0, resourceId: 1 }, value: 90 }], { format: ContentFormat.TEXT })
    expect(written.ok && written.value.code).toBe('2.04')
    const updated = await h.log.wait('updated', (e) => e.client.endpoint === 'gw-trigger' && e.client.lifetime === 90)
    expect(updated.objectsChanged).toBe(false)
    expect(c.client.lifetime).toBe(90)
    const read = await h.server.read('gw-trigger', '/1/0/1')
    expect(read.ok && read.value.records?.[0]?.value).toBe(90)
  })

  it('de-registers on stop', async () => {
    const h = await server()
    const c = await startClient({ serverPort: h.port, endpoint: 'gw-stop' })
    const registered = await h.log.wait('registered', (e) => e.client.endpoint === 'gw-stop')
    await c.stop()
    const gone = await h.log.wait('deregistered', (e) => e.endpoint === 'gw-stop')
    expect(gone.registrationId).toBe(registered.client.registrationId)
    expect(c.log.of('deregistered')).toEqual([{ kind: 'deregistered', code: '2.02' }])
    expect(h.server.getClient('gw-stop')).toBeUndefined()
    expect(c.client.state).toBe('stopped')
  })

  it('registers again when a restarted server answers 4.04 to the Update', async () => {
    const first = await startServer()
    const port = first.port
    const c = await client({ serverPort: port, endpoint: 'gw-restart', lifetime: 2 })
    await first.log.wait('registered', (e) => e.client.endpoint === 'gw-restart')
    await first.close()
    const second = await server(port)
    const again = await second.log.wait('registered', (e) => e.client.endpoint === 'gw-restart', 6000)
    expect(again.client.port).toBe(c.client.localPort)
    const failed = await c.log.wait('registrationFailed', (e) => e.operation === 'update')
    expect(failed.code).toBe('4.04')
    // The client hears its 2.01 a moment after the server reported the registration.
    await c.log.wait('registered', () => true, 5000, 2)
    expect(c.log.of('registered')).toHaveLength(2)
    const read = await second.server.read('gw-restart', '/3/0/16')
    expect(read.ok && read.value.records?.[0]?.value).toBe('U')
  })

  it('backs off while the server is gone and registers when it is back', async () => {
    const first = await startServer()
    const port = first.port
    const c = await client({ serverPort: port, endpoint: 'gw-gone', requestTimeoutMs: 300, retryInitialMs: 100, retryMaxMs: 2000 })
    await c.log.wait('registered')
    await first.close()
    c.client.requestUpdate()
    const failedUpdate = await c.log.wait('registrationFailed', (e) => e.operation === 'update')
    expect(failedUpdate.reason).toMatch(/no answer .* within 300 ms; registering again/)
    const third = await c.log.wait('registrationFailed', (e) => e.operation === 'register', 5000, 3)
    const delays = c.log.of('registrationFailed').filter((e) => e.operation === 'register').map((e) => e.retryInMs as number)
    expect(delays.slice(0, 3).every((d, i, all) => i === 0 || d > (all[i - 1] as number))).toBe(true)
    expect(third.retryInMs).toBeGreaterThanOrEqual(400)
    expect(c.client.state).toBe('waiting')
    const second = await server(port)
    await second.log.wait('registered', (e) => e.client.endpoint === 'gw-gone', 6000)
    await waitFor(() => c.client.state === 'registered', 'the client to be registered')
  })

  it('retries with a lower LwM2M version after 4.12', async () => {
    const stub = await stubServer((req) => (req.query.includes('lwm2m=1.2') ? { code: '4.12' } : { code: '2.01', location: ['rd', 'abc'] }))
    const c = await client({ serverPort: stub.port, endpoint: 'gw-412', lwm2mVersion: '1.2' })
    const registered = await c.log.wait('registered')
    expect(registered).toMatchObject({ location: '/rd/abc', lwm2mVersion: '1.1' })
    expect(c.log.of('registrationFailed')).toEqual([expect.objectContaining({ operation: 'register', code: '4.12', retryInMs: 0 })])
    expect(stub.requests.map((r) => r.query.find((q) => q.startsWith('lwm2m=')))).toEqual(['lwm2m=1.2', 'lwm2m=1.1'])
    expect(c.client.lwm2mVersion).toBe('1.1')
  })

  it('retries a refused Register with growing delays', async () => {
    const stub = await stubServer(() => ({ code: '4.00' }))
    const c = await client({ serverPort: stub.port, endpoint: 'gw-400', retryInitialMs: 50 })
    await c.log.wait('registrationFailed', () => true, 3000, 3)
    const failures = c.log.of('registrationFailed')
    expect(failures.every((f) => f.operation === 'register' && f.code === '4.00' && f.reason === 'the server answered 4.00: refused by the stub')).toBe(true)
    expect((failures[2]?.retryInMs as number) > (failures[0]?.retryInMs as number)).toBe(true)
    expect(stub.requests.length).toBeGreaterThanOrEqual(3)
    expect(c.client.state).not.toBe('registered')
  })
})
