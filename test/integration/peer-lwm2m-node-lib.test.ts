/**
 * lwm2m-node-lib's client (the library of the original prototype, on its own coap 0.22) as an
 * independent LwM2M client of our server: it registers, is read, written and observed, updates
 * and de-registers.
 *
 * What it does that a standard client would not, and how the server copes (as Leshan would):
 * - It registers `lwm2m=1.0` with bare object links (`</3/0>,…`): no `</>;rt="oma.lwm2m"`, no `ct=`.
 * - It speaks text/plain only and ignores Accept, but its coap 0.22 silently drops any request
 *   whose Accept or Content-Format number it does not know (TLV 11542, SenML 110/112): no 4.06 or
 *   4.15 ever comes back to start a fallback, only a timeout. So single-resource Reads of such a
 *   1.0 client carry no Accept (Leshan's default ReadRequest) and the client picks the format.
 * - It answers without a Content-Format option: a single value is then decoded as text/plain.
 * - Writes need the format named (text), as in Leshan, whose default Write is TLV.
 * - Its Update repeats `lwm2m=` (not an Update parameter; ignored), and every Register or Update
 *   leaves from a new socket, whose port it then listens on: the server follows the Update's port.
 * - It cannot read an object instance (/3/0) at all, so instance reads are not tested here.
 * - It takes a GET with Observe 1 for a new observation: observations are cancelled passively.
 */
import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { waitFor } from '../support/server-harness.ts'

type Callback<T = unknown> = (error: Error | null | undefined, value?: T) => void

interface DeviceInformation {
  location: string
  localPort: number
  serverInfo?: { server?: { close(cb?: () => void): void } }
}

interface NodeLibClient {
  init(config: object, callback?: () => void): void
  registry: {
    create(objectUri: string, cb: Callback): void
    setResource(objectUri: string, resourceId: number | string, value: string, cb: Callback): void
    get(objectUri: string, cb: Callback<{ attributes: Record<string, string> }>): void
    reset(cb?: () => void): void
  }
  register(host: string, port: number, url: string | null, endpointName: string, cb: Callback<DeviceInformation>): void
  update(deviceInfo: DeviceInformation, cb: Callback<DeviceInformation>): void
  unregister(deviceInfo: DeviceInformation, cb: Callback): void
  cancellAllObservers(cb: Callback): void
}

const require = createRequire(import.meta.url)
// The client alone: the package's index also loads its server, and with it mongoose.
const client = require('lwm2m-node-lib/lib/lwm2m-client.js') as NodeLibClient
;(require('logops') as { setLevel(level: string): void }).setLevel('FATAL')

const call = <T = unknown>(run: (cb: Callback<T>) => void): Promise<T> =>
  new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value as T))))

const ENDPOINT = 'nodelib-device'

describe("lwm2m-node-lib's client against our server", () => {
  let service: ConsoleService
  const events: ConsoleEvent[] = []
  let device: DeviceInformation | undefined
  const strayRouters: NonNullable<DeviceInformation['serverInfo']>[] = []

  beforeAll(async () => {
    service = await ConsoleService.create({ coapPort: 0, requestTimeoutMs: 5000 })
    service.onEvent((e) => events.push(e))
    // The configuration of the package's own config.js, quieter.
    client.init({ client: { lifetime: '85671', version: '1.0', logLevel: 'FATAL', observe: { period: 3000 }, ipProtocol: 'udp4', serverProtocol: 'udp4', formats: [{ name: 'lightweightm2m/text', value: 1541 }], writeFormat: 'lightweightm2m/text' } })
    await call((cb) => client.registry.create('/3/0', cb))
    await call((cb) => client.registry.setResource('/3/0', 0, 'Acme Medical', cb))
    await call((cb) => client.registry.setResource('/3/0', 9, '87', cb))
    await call((cb) => client.registry.setResource('/3/0', 14, '+01:00', cb))
    await call((cb) => client.registry.create('/3303/0', cb))
    await call((cb) => client.registry.setResource('/3303/0', 5700, '36.6', cb))
    await call((cb) => client.registry.setResource('/3303/0', 5701, 'Cel', cb))
  })

  afterAll(async () => {
    if (device?.serverInfo) {
      // A failed test may leave it registered: stop its listener all the same.
      await call((cb) => client.cancellAllObservers(cb)).catch(() => undefined)
      await new Promise<void>((resolve) => (device?.serverInfo?.server ? device.serverInfo.server.close(() => resolve()) : resolve()))
    }
    for (const router of strayRouters) await new Promise<void>((resolve) => (router.server ? router.server.close(() => resolve()) : resolve()))
    await new Promise<void>((resolve) => client.registry.reset(resolve))
    await service?.close()
  })

  it('registers: lwm2m=1.0, binding U, bare object links', async () => {
    device = await call<DeviceInformation>((cb) => client.register('127.0.0.1', service.coapPort, null, ENDPOINT, cb))
    const info = service.server.getClient(ENDPOINT)
    expect(device.location).toBe(`rd/${info?.registrationId}`)
    expect(info).toMatchObject({
      endpoint: ENDPOINT,
      address: '127.0.0.1',
      port: device.localPort,
      lwm2mVersion: '1.0',
      binding: 'U',
      lifetime: 85671,
      queueMode: false,
      rootPath: '/',
      contentFormats: [],
      objectLinks: '</3/0>,</3303/0>',
      objects: [
        { objectId: 3, instances: [0] },
        { objectId: 3303, instances: [0] },
      ],
    })
    expect(events.filter((e) => e.kind === 'registered')).toHaveLength(1)
  })

  it('reads single resources: text/plain without a Content-Format, decoded by the object model', async () => {
    const manufacturer = await service.read(ENDPOINT, '/3/0/0')
    expect(manufacturer).toEqual({ ok: true, value: expect.objectContaining({ code: '2.05', success: true, records: [{ path: '/3/0/0', name: 'Manufacturer', type: 'string', value: 'Acme Medical' }] }) })
    expect(manufacturer.ok && manufacturer.value.contentFormat).toBeUndefined()
    expect(await service.read(ENDPOINT, '/3/0/9')).toMatchObject({ ok: true, value: { code: '2.05', records: [{ path: '/3/0/9', name: 'Battery Level', type: 'integer', value: 87 }] } })
    expect(await service.read(ENDPOINT, '/3303/0/5700')).toMatchObject({ ok: true, value: { code: '2.05', records: [{ path: '/3303/0/5700', name: 'Sensor Value', type: 'float', value: 36.6 }] } })
    expect(await service.read(ENDPOINT, '/3303/0/5701')).toMatchObject({ ok: true, value: { code: '2.05', records: [{ path: '/3303/0/5701', type: 'string', value: 'Cel' }] } })
  })

  it('reads with an explicit text/plain Accept too', async () => {
    expect(await service.read(ENDPOINT, '/3/0/9', { format: 'text' })).toMatchObject({ ok: true, value: { code: '2.05', records: [{ path: '/3/0/9', value: 87 }] } })
  })

  it('reports a missing resource as the device answers it', async () => {
    expect(await service.read(ENDPOINT, '/3/0/2')).toMatchObject({ ok: true, value: { code: '4.04', success: false } })
  })

  it('writes a resource in text/plain, and reads the new value back', async () => {
    const written = await service.write(ENDPOINT, '/3/0/14', { value: '+02:00' }, { format: 'text' })
    expect(written).toMatchObject({ ok: true, value: { code: '2.04', success: true } })
    const stored = await call<{ attributes: Record<string, string> }>((cb) => client.registry.get('/3/0', cb))
    expect(stored.attributes['14']).toBe('+02:00')
    expect(await service.read(ENDPOINT, '/3/0/14')).toMatchObject({ ok: true, value: { records: [{ path: '/3/0/14', name: 'UTC Offset', value: '+02:00' }] } })
  })

  it('discovers an instance in link format', async () => {
    const found = await service.discover(ENDPOINT, '/3/0')
    expect(found).toMatchObject({ ok: true, value: { code: '2.05' } })
    expect(found.ok && found.value.links?.map((l) => l.path)).toEqual(['/3/0', '/3/0/0', '/3/0/9', '/3/0/14'])
  })

  it('observes a resource and decodes its text notifications', async () => {
    const observed = await service.observe(ENDPOINT, ['/3/0/9'])
    expect(observed).toMatchObject({ ok: true, value: { code: '2.05', records: [{ path: '/3/0/9', value: 87 }], observationId: expect.any(String) } })
    await call((cb) => client.registry.setResource('/3/0', 9, '55', cb))
    const notification = await waitFor(() => events.find((e) => e.kind === 'notification'), 'a notification', 10_000)
    expect(notification).toMatchObject({ kind: 'notification', endpoint: ENDPOINT, paths: ['/3/0/9'], code: '2.05', records: [{ path: '/3/0/9', name: 'Battery Level', value: 55 }] })
    // Passive: it takes a GET with Observe 1 (an active cancel) for a new observation; the cancel would wait out its timeout.
    expect(await service.cancelObservation(ENDPOINT, '/3/0/9', { passive: true })).toEqual({ ok: true, value: { cancelled: 1 } })
    expect(service.listObservations(ENDPOINT)).toEqual([])
  })

  it('updates from a new port, which the server follows', async () => {
    const before = service.server.getClient(ENDPOINT)
    if (device?.serverInfo) strayRouters.push(device.serverInfo) // the update opens a new listener and forgets this one
    device = await call<DeviceInformation>((cb) => client.update(device as DeviceInformation, cb))
    const updated = await waitFor(() => events.find((e) => e.kind === 'updated'), 'an updated event', 10_000)
    expect(updated).toMatchObject({ client: { endpoint: ENDPOINT, registrationId: before?.registrationId, port: device.localPort, lifetime: 85671 } })
    expect(await service.read(ENDPOINT, '/3/0/0')).toMatchObject({ ok: true, value: { code: '2.05', records: [{ value: 'Acme Medical' }] } })
  })

  it('de-registers', async () => {
    const registrationId = service.server.getClient(ENDPOINT)?.registrationId
    await call((cb) => client.unregister(device as DeviceInformation, cb))
    device = undefined
    expect(await waitFor(() => events.find((e) => e.kind === 'deregistered'), 'a deregistered event', 10_000)).toMatchObject({ endpoint: ENDPOINT, registrationId })
    expect(service.listClients()).toEqual([])
    expect(await service.read(ENDPOINT, '/3/0/0')).toMatchObject({ ok: false, error: { code: 'not_registered' } })
  })
})
