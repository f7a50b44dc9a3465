import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { startHttpApi } from '../../electron/console/http-api.ts'
import { ContentFormat } from '../../shared/lwm2m/content-format.ts'
import { parsePath } from '../../shared/lwm2m/path.ts'
import { useTestClients, waitFor } from '../support/server-harness.ts'
import { jsonRequest, openEvents } from '../support/http-client.ts'

let service: ConsoleService
let app: FastifyInstance
let base: string
const { registered } = useTestClients(() => ({ port: service.coapPort }))

const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> => jsonRequest(method, `${base}${path}`, body, headers)

beforeAll(async () => {
  service = await ConsoleService.create({ coapPort: 0, requestTimeoutMs: 3000 })
  const http = await startHttpApi(service, { host: '127.0.0.1', port: 0 })
  app = http.app
  base = `http://127.0.0.1:${http.port}`
})

afterAll(async () => {
  await app.close()
  await service.close()
})

describe('clients', () => {
  it('lists clients with the fields of the contract', async () => {
    const c = await registered({ endpoint: 'http-list', lifetime: 600, binding: 'U', queueMode: true, objectVersions: { 3303: '1.1' } })
    const { status, json } = await api('GET', '/api/clients')
    expect(status).toBe(200)
    const item = (json as { endpoint: string }[]).find((x) => x.endpoint === 'http-list')
    expect(item).toMatchObject({
      endpoint: 'http-list',
      registrationId: c.registrationId,
      address: '127.0.0.1',
      port: c.port,
      lwm2mVersion: '1.1',
      binding: 'U',
      lifetime: 600,
      queueMode: true,
      registeredAt: expect.any(Number),
      lastUpdateAt: expect.any(Number),
      online: true,
      objectLinks: c.objectLinks(),
    })

    const one = await api('GET', '/api/clients/http-list')
    expect(one).toEqual({ status: 200, json: item })
  })

  it('answers an unknown client with 404 and an error object', async () => {
    expect(await api('GET', '/api/clients/nobody')).toEqual({ status: 404, json: { error: { code: 'not_found', message: 'no client named nobody is registered' } } })
    const read = await api('GET', '/api/clients/nobody/3/0/9')
    expect(read).toMatchObject({ status: 404, json: { error: { code: 'not_registered' } } })
  })

  it('answers health and unknown routes', async () => {
    expect(await api('GET', '/api/health')).toMatchObject({ status: 200, json: { status: 'ok', coapPort: service.coapPort } })
    expect(await api('GET', '/api/nothing-here')).toEqual({ status: 404, json: { error: { code: 'not_found', message: 'no route GET /api/nothing-here' } } })
  })
})

describe('device management routes', () => {
  it('reads, with an explicit format, and reports LwM2M 4.04 as data', async () => {
    const c = await registered({ endpoint: 'http-read' })
    const read = await api('GET', '/api/clients/http-read/3/0/9')
    expect(read).toMatchObject({ status: 200, json: { code: '2.05', success: true, records: [{ path: '/3/0/9', name: 'Battery Level', type: 'integer', value: 100 }] } })

    const tlv = await api('GET', '/api/clients/http-read/3/0?format=tlv')
    expect(tlv).toMatchObject({ status: 200, json: { code: '2.05', contentFormat: ContentFormat.TLV } })
    expect(c.received.at(-1)?.accept).toBe(ContentFormat.TLV)

    expect(await api('GET', '/api/clients/http-read/3/0/77')).toMatchObject({ status: 200, json: { code: '4.04', success: false } })
  })

  it('answers a bad path, format or timeout with 400', async () => {
    await registered({ endpoint: 'http-bad' })
    expect(await api('GET', '/api/clients/http-bad/3/x')).toMatchObject({ status: 400, json: { error: { code: 'invalid_input', message: expect.stringContaining('"x"') } } })
    expect(await api('GET', '/api/clients/http-bad/3/0?format=yaml')).toMatchObject({ status: 400, json: { error: { code: 'invalid_input', message: 'unknown format "yaml"' } } })
    expect(await api('GET', '/api/clients/http-bad/3/0?timeout=soon')).toMatchObject({ status: 400, json: { error: { code: 'invalid_input' } } })
  })

  it('answers a silent device with 504 timeout', async () => {
    const c = await registered({ endpoint: 'http-silent' })
    c.silent = true
    const r = await api('GET', '/api/clients/http-silent/3/0/9?timeout=300')
    expect(r).toMatchObject({ status: 504, json: { error: { code: 'timeout', message: expect.stringContaining('within 300 ms') } } })
  })

  it('writes a value and a partial update', async () => {
    const c = await registered({ endpoint: 'http-write' })
    expect(await api('PUT', '/api/clients/http-write/1031/0/2', { value: 321 })).toMatchObject({ status: 200, json: { code: '2.04' } })
    expect(c.get('/1031/0/2')).toBe(321)
    expect(c.writes.at(-1)?.method).toBe('PUT')

    expect(await api('PUT', '/api/clients/http-write/1/0?replace=false', [{ path: '1', value: 800 }])).toMatchObject({ status: 200, json: { code: '2.04' } })
    expect(c.writes.at(-1)).toMatchObject({ method: 'POST', path: '/1/0' })
    expect(c.get('/1/0/1')).toBe(800)
    expect(c.get('/1/0/2')).toBe(10)

    expect(await api('PUT', '/api/clients/http-write/1/0/1', { nothing: 1 })).toMatchObject({ status: 400, json: { error: { code: 'invalid_input' } } })
    expect(await api('PUT', '/api/clients/http-write/1/0/1', '{"value":')).toMatchObject({ status: 400, json: { error: { code: 'invalid_input' } } })
  })

  it('executes with arguments', async () => {
    const c = await registered({ endpoint: 'http-exec' })
    expect(await api('POST', '/api/clients/http-exec/3/0/4/execute', { args: "0='v',1" })).toMatchObject({ status: 200, json: { code: '2.04' } })
    expect(c.executions).toEqual([{ path: '/3/0/4', args: "0='v',1" }])
    expect(await api('POST', '/api/clients/http-exec/3/0/4/execute', { args: 5 })).toMatchObject({ status: 400 })
  })

  it('creates and deletes instances', async () => {
    const c = await registered({ endpoint: 'http-create' })
    const created = await api('POST', '/api/clients/http-create/3303', [
      { path: '2/5700', value: 18.5 },
      { path: '2/5701', value: 'Cel' },
    ])
    expect(created).toMatchObject({ status: 200, json: { code: '2.01', location: '/3303/2' } })
    expect(c.get('/3303/2/5700')).toBe(18.5)

    expect(await api('DELETE', '/api/clients/http-create/3303/1')).toMatchObject({ status: 200, json: { code: '2.02' } })
    expect(c.get('/3303/1/5700')).toBeUndefined()
  })

  it('discovers and writes attributes', async () => {
    const c = await registered({ endpoint: 'http-attrs' })
    expect(await api('PUT', '/api/clients/http-attrs/3/0/9/attributes?pmin=10&pmax=60&gt=20.5')).toMatchObject({ status: 200, json: { code: '2.04' } })
    expect(c.attributeWrites).toEqual([{ path: '/3/0/9', query: ['pmin=10', 'pmax=60', 'gt=20.5'] }])
    const discovered = await api('GET', '/api/clients/http-attrs/3/0/9/discover')
    expect(discovered).toMatchObject({ status: 200, json: { code: '2.05', links: [{ path: '/3/0/9', attributes: { pmin: 10, pmax: 60, gt: 20.5 } }] } })
    expect(await api('PUT', '/api/clients/http-attrs/3/0/9/attributes?pmin=soon')).toMatchObject({ status: 400, json: { error: { code: 'invalid_input' } } })
  })
})

describe('events and observation', () => {
  it('streams registered and notification events over SSE', async () => {
    const stream = await openEvents(`${base}/api/events`)
    try {
      expect(stream.status).toBe(200)
      const c = await registered({ endpoint: 'http-sse' })
      const registeredEvent = await waitFor(() => stream.events.find((e) => e.event === 'registered' && (e.data as { client: { endpoint: string } }).client.endpoint === 'http-sse'), 'the registered event')
      expect(registeredEvent.data).toMatchObject({ kind: 'registered', replaced: false, client: { registrationId: c.registrationId } })

      const observed = await api('POST', '/api/clients/http-sse/1031/0/1/observe', {})
      expect(observed).toMatchObject({ status: 200, json: { code: '2.05', observationId: expect.any(String) } })
      const { observationId } = observed.json as { observationId: string }
      expect(await api('GET', '/api/clients/http-sse/observations')).toMatchObject({ status: 200, json: [{ id: observationId, paths: ['/1031/0/1'], active: true }] })

      const t0 = 1_767_226_100
      c.notify('/1031/0/1', Array.from({ length: 25 }, (_, i) => ({ path: parsePath('/1031/0/1'), value: 1000 + i, type: 'integer' as const, time: t0 + i / 250 })))
      const notification = await waitFor(() => stream.events.find((e) => e.event === 'notification'), 'the notification event')
      const data = notification.data as { kind: string; observationId: string; records: { path: string; value: number; time: number }[] }
      expect(data.kind).toBe('notification')
      expect(data.observationId).toBe(observationId)
      expect(data.records).toHaveLength(25)
      expect(data.records[24]).toMatchObject({ path: '/1031/0/1', value: 1024, time: t0 + 24 / 250 })

      expect(await api('DELETE', '/api/clients/http-sse/1031/0/1/observe')).toEqual({ status: 200, json: { cancelled: 1 } })
      expect(c.cancels).toHaveLength(1)
    } finally {
      stream.close()
    }
  })

  it('filters the event stream by kind and refuses unknown kinds', async () => {
    const stream = await openEvents(`${base}/api/events?kinds=deregistered`)
    try {
      const c = await registered({ endpoint: 'http-kinds' })
      await c.deregister()
      await waitFor(() => stream.events.find((e) => e.event === 'deregistered'), 'the deregistered event')
      expect(stream.events.map((e) => e.event)).toEqual(['deregistered'])
    } finally {
      stream.close()
    }
    expect(await api('GET', '/api/events?kinds=bogus')).toMatchObject({ status: 400, json: { error: { code: 'invalid_input' } } })
  })

  it('observes several paths at once through the API', async () => {
    const c = await registered({ endpoint: 'http-composite' })
    const r = await api('POST', '/api/clients/http-composite/observe', { paths: ['/3/0/9', '/3303/0/5700'] })
    expect(r).toMatchObject({ status: 200, json: { code: '2.05', observationId: expect.any(String) } })
    expect(c.received.at(-1)).toMatchObject({ method: 'FETCH' })
  })
})

describe('token', () => {
  let protectedApp: FastifyInstance
  let protectedBase: string

  beforeAll(async () => {
    const http = await startHttpApi(service, { host: '127.0.0.1', port: 0, token: 's3cret-token' })
    protectedApp = http.app
    protectedBase = `http://127.0.0.1:${http.port}`
  })

  afterAll(async () => {
    await protectedApp.close()
  })

  it('rejects requests without the bearer token', async () => {
    const none = await fetch(`${protectedBase}/api/clients`)
    expect(none.status).toBe(401)
    expect(await none.json()).toEqual({ error: { code: 'unauthorized', message: 'a valid bearer token is required' } })
    const wrong = await fetch(`${protectedBase}/api/clients`, { headers: { authorization: 'Bearer s3cret-tokeX' } })
    expect(wrong.status).toBe(401)
    const right = await fetch(`${protectedBase}/api/clients`, { headers: { authorization: 'Bearer s3cret-token' } })
    expect(right.status).toBe(200)
    expect(Array.isArray(await right.json())).toBe(true)
  })

  it('accepts the token in the query of the event stream only', async () => {
    const denied = await openEvents(`${protectedBase}/api/events`)
    denied.close()
    expect(denied.status).toBe(401)
    const allowed = await openEvents(`${protectedBase}/api/events?token=s3cret-token`)
    allowed.close()
    expect(allowed.status).toBe(200)
  })

  it('refuses a non-loopback host without a token', async () => {
    await expect(startHttpApi(service, { host: '0.0.0.0', port: 0 })).rejects.toThrow('listening on 0.0.0.0 needs a token')
  })
})

describe('shutdown', () => {
  it('closes while an event stream is still open', async () => {
    const other = await startHttpApi(service, { host: '127.0.0.1', port: 0 })
    const stream = await openEvents(`http://127.0.0.1:${other.port}/api/events`)
    expect(stream.status).toBe(200)
    try {
      // Before the fix this never resolved: the test then fails on its timeout.
      await other.app.close()
      await waitFor(() => other.app.server.listening === false, 'the HTTP server to stop listening')
    } finally {
      stream.close()
    }
  })
})
