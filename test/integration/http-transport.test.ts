import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { startHttpApi } from '../../electron/console/http-api.ts'
import { createHttpTransport } from '../../renderer/src/api/http-transport.ts'
import type { ConsoleApi } from '../../shared/api/console-api.ts'
import type { Result } from '../../shared/api/result.ts'
import { TestClient } from '../support/test-client.ts'

/** The renderer's REST transport against the real API and a real device: every ConsoleApi method over HTTP. */
let service: ConsoleService
let app: FastifyInstance
let api: ConsoleApi
let client: TestClient
const EP = 'transport-dev'

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`)
  return r.value
}

beforeAll(async () => {
  service = await ConsoleService.create({ coapPort: 0, requestTimeoutMs: 3000 })
  const http = await startHttpApi(service, { host: '127.0.0.1', port: 0, token: 'secret-token', rendererDir: null })
  app = http.app
  api = createHttpTransport({ baseUrl: `http://127.0.0.1:${http.port}`, token: 'secret-token' })
  client = await TestClient.start({ endpoint: EP, serverPort: service.coapPort })
  expect((await client.register()).code).toBe('2.01')
})

afterAll(async () => {
  api.close()
  await client.close()
  await app.close()
  await service.close()
})

describe('HTTP transport', () => {
  it('lists and gets clients, and reports health', async () => {
    expect(value(await api.listClients()).map((c) => c.endpoint)).toEqual([EP])
    expect(value(await api.getClient({ endpoint: EP })).objects.map((o) => o.objectId)).toContain(1031)
    expect(value(await api.health())).toMatchObject({ status: 'ok', clients: 1 })
    expect(await api.getClient({ endpoint: 'nobody' })).toMatchObject({ ok: false, error: { code: 'not_found' } })
  })

  it('lists the models of the objects a client registered (those the server has)', async () => {
    const models = value(await api.clientModels({ endpoint: EP }))
    // 1031 has no model here: the test client publishes no twin definitions.
    expect(models.map((m) => [m.id, m.name])).toEqual([[1, 'LwM2M Server'], [3, 'Device'], [3303, 'Temperature']])
    expect(models[1]?.resources.find((r) => r.id === 4)).toEqual({ id: 4, name: 'Reboot', operations: 'E', multiple: false, mandatory: true, type: 'none', description: expect.any(String) })
    expect(await api.clientModels({ endpoint: 'nobody' })).toMatchObject({ ok: false, error: { code: 'not_found' } })
  })

  it('reads, in a chosen format, and keeps device answers apart from failures', async () => {
    const read = value(await api.read({ endpoint: EP, path: '/3/0/0', format: 'tlv' }))
    expect(read).toMatchObject({ code: '2.05', success: true, records: [{ path: '/3/0/0', name: 'Manufacturer', value: 'Open Mobile Alliance' }] })
    expect(value(await api.read({ endpoint: EP, path: '/3/0/42' }))).toMatchObject({ code: '4.04', success: false })
    expect(await api.read({ endpoint: EP, path: 'not a path' })).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
  })

  it('writes with a type the server has no model for, and reads it back', async () => {
    expect(value(await api.write({ endpoint: EP, path: '/1031/0/2', records: [{ path: '/1031/0/2', value: 120, type: 'integer' }] }))).toMatchObject({ code: '2.04' })
    expect(client.get('/1031/0/2')).toBe(120)
    expect(value(await api.read({ endpoint: EP, path: '/1031/0/2' })).records?.[0]?.value).toBe(120)
  })

  it('executes with arguments, discovers and writes attributes', async () => {
    expect(value(await api.execute({ endpoint: EP, path: '/1031/0/3', args: "0='fast'" }))).toMatchObject({ code: '2.04' })
    expect(client.executions.at(-1)).toEqual({ path: '/1031/0/3', args: "0='fast'" })
    const attrs = value(await api.writeAttributes({ endpoint: EP, path: '/3303/0/5700', attributes: { pmin: 1, pmax: 30, st: 0.5 } }))
    expect(attrs.code).toBe('2.04')
    expect(client.attributeWrites.at(-1)?.query.sort()).toEqual(['pmax=30', 'pmin=1', 'st=0.5'])
    const discover = value(await api.discover({ endpoint: EP, path: '/3303/0' }))
    expect(discover.links?.map((l) => l.path)).toContain('/3303/0/5700')
    expect(await api.writeAttributes({ endpoint: EP, path: '/3303/0', attributes: {} })).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
  })

  it('observes, lists and cancels observations', async () => {
    const observed = value(await api.observe({ endpoint: EP, paths: ['/3303/0/5700'] }))
    expect(observed).toMatchObject({ code: '2.05' })
    expect(observed.observationId).toBeTypeOf('string')
    expect(value(await api.listObservations({ endpoint: EP })).map((o) => o.paths)).toEqual([['/3303/0/5700']])
    expect(value(await api.listObservations({})).length).toBe(1)
    expect(value(await api.cancelObservation({ endpoint: EP, path: '/3303/0/5700', passive: true }))).toEqual({ cancelled: 1 })
    expect(value(await api.listObservations({ endpoint: EP }))).toEqual([])
    value(await api.observe({ endpoint: EP, paths: ['/3/0/9'] }))
    expect(value(await api.cancelObservation({ endpoint: EP }))).toEqual({ cancelled: 1 })
  })

  it('creates and deletes an instance', async () => {
    const created = value(await api.create({ endpoint: EP, objectId: 3303, records: [{ path: '/3303/5/5700', value: 20.5, type: 'float' }] }))
    expect(created).toMatchObject({ code: '2.01', location: '/3303/5' })
    expect(client.get('/3303/5/5700')).toBe(20.5)
    expect(value(await api.delete({ endpoint: EP, path: '/3303/5' }))).toMatchObject({ code: '2.02' })
    expect(client.get('/3303/5/5700')).toBeUndefined()
  })

  it('fails clearly without the token and when the console is unreachable', async () => {
    const port = (app.server.address() as { port: number }).port
    const noToken = createHttpTransport({ baseUrl: `http://127.0.0.1:${port}` })
    expect(await noToken.listClients()).toMatchObject({ ok: false, error: { code: 'unauthorized' } })
    const nowhere = createHttpTransport({ baseUrl: 'http://127.0.0.1:1' })
    const r = await nowhere.health()
    expect(r).toMatchObject({ ok: false, error: { code: 'unreachable' } })
  })
})
