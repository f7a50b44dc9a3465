import { request as httpRequest } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { RENDERER_CSP, startHttpApi } from '../../electron/console/http-api.ts'
import { jsonRequest, openEvents } from '../support/http-client.ts'
import { useTestClients } from '../support/server-harness.ts'

/** The REST API of device identities, and the hardening of the web shell (issue 9). */

let service: ConsoleService
const apps: FastifyInstance[] = []
let base: string
let port: number

async function start(options: Partial<Parameters<typeof startHttpApi>[1]> = {}): Promise<{ base: string; port: number }> {
  const http = await startHttpApi(service, { host: '127.0.0.1', port: 0, rendererDir: null, ...options })
  apps.push(http.app)
  return { base: `http://127.0.0.1:${http.port}`, port: http.port }
}

beforeAll(async () => {
  service = await ConsoleService.create({ coapPort: 0, requestTimeoutMs: 1000, onWarning: () => {} })
  ;({ base, port } = await start())
})

afterAll(async () => {
  for (const app of apps) await app.close()
  await service.close()
})

const clients = useTestClients(() => ({ port: service.coapPort }))

const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> => jsonRequest(method, `${base}${path}`, body, headers)

/** A raw HTTP request, for headers fetch will not let a caller set (Host) and a chosen source address. */
function raw(options: { port: number; path: string; method?: string; headers?: Record<string, string>; localAddress?: string; body?: string }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: options.port, path: options.path, method: options.method ?? 'GET', headers: options.headers ?? {}, ...(options.localAddress ? { localAddress: options.localAddress } : {}) }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

const KEY = '00112233445566778899aabbccddeeff'

describe('device identities over REST', () => {
  it('stores an identity and key, lists it without the key, replaces and deletes it', async () => {
    const put = await api('PUT', '/api/security/ecg-1', { identity: 'ecg-1-id', key: KEY })
    expect(put.status).toBe(200)
    expect(put.json).toEqual({ endpoint: 'ecg-1', mode: 'psk', identity: 'ecg-1-id', updatedAt: expect.any(Number) })
    const list = await raw({ port, path: '/api/security' })
    expect(list.status).toBe(200)
    expect(JSON.parse(list.text)).toEqual([{ endpoint: 'ecg-1', mode: 'psk', identity: 'ecg-1-id', updatedAt: expect.any(Number) }])
    expect(list.text.toLowerCase()).not.toContain(KEY)
    expect(Buffer.from(service.pskFor('ecg-1-id') ?? []).toString('hex')).toBe(KEY)

    expect((await api('PUT', '/api/security/legacy', { mode: 'nosec' })).json).toMatchObject({ endpoint: 'legacy', mode: 'nosec' })
    expect((await api('DELETE', '/api/security/ecg-1')).json).toEqual({ endpoint: 'ecg-1' })
    expect(await api('DELETE', '/api/security/ecg-1')).toEqual({ status: 404, json: { error: { code: 'not_found', message: 'no security entry for endpoint ecg-1' } } })
    expect(service.pskFor('ecg-1-id')).toBeUndefined()
    await api('DELETE', '/api/security/legacy')
  })

  it('says what is wrong with an entry, and refuses an identity another endpoint has', async () => {
    expect(await api('PUT', '/api/security/ecg-2', { identity: 'x', key: '0011' })).toEqual({ status: 400, json: { error: { code: 'invalid_input', message: 'key: key must be at least 8 bytes (16 hex digits)' } } })
    expect((await api('PUT', '/api/security/ecg-2', { identity: 'x' })).json).toEqual({ error: { code: 'invalid_input', message: 'key: a PSK entry needs a key (hex)' } })
    expect((await api('PUT', '/api/security/ecg-2', { mode: 'nosec', key: KEY })).json).toEqual({ error: { code: 'invalid_input', message: 'a NoSec entry takes no identity or key' } })
    expect((await api('PUT', '/api/security/ecg-2', { identity: 'x', key: KEY, extra: 1 })).status).toBe(400)
    expect((await api('PUT', '/api/security/ecg-2', { identity: 'shared', key: KEY })).status).toBe(200)
    expect(await api('PUT', '/api/security/ecg-3', { identity: 'shared', key: KEY })).toEqual({
      status: 409,
      json: { error: { code: 'conflict', message: 'the PSK identity "shared" is already bound to endpoint ecg-2; an identity belongs to one endpoint' } },
    })
    await api('DELETE', '/api/security/ecg-2')
  })

  it('reads and sets the NoSec policy; turning it on removes the plain registrations it refuses', async () => {
    expect((await api('GET', '/api/security-policy')).json).toEqual({ refuseNoSec: false, keyStorage: 'in memory (nothing is stored on disk)' })
    const plain = await clients.registered({ endpoint: 'plain-dev' })
    expect(service.getClient('plain-dev').ok).toBe(true)
    expect((await api('PUT', '/api/security-policy', { refuseNoSec: true })).json).toMatchObject({ refuseNoSec: true })
    expect(service.getClient('plain-dev').ok).toBe(false)
    expect((await plain.update()).code).toBe('4.04')
    expect((await api('PUT', '/api/security-policy', { refuseNoSec: 'yes' })).status).toBe(400)
    expect((await api('PUT', '/api/security-policy', { refuseNoSec: false })).json).toMatchObject({ refuseNoSec: false })
  })

  it('refuses a body beyond 4 KiB on the security routes', async () => {
    const big = JSON.stringify({ identity: 'x'.repeat(5000), key: KEY })
    const res = await raw({ port, path: '/api/security/ecg-big', method: 'PUT', headers: { 'content-type': 'application/json' }, body: big })
    expect(res.status).toBe(413)
    expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'invalid_input' } })
  })
})

describe('web shell hardening', () => {
  it('sends the security headers, and no-store on the API', async () => {
    const res = await raw({ port, path: '/api/health' })
    expect(res.status).toBe(200)
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    })
    const page = await raw({ port, path: '/index.html' })
    expect(page.headers['content-security-policy']).toBe(RENDERER_CSP)
    expect(RENDERER_CSP).toContain("frame-ancestors 'none'")
  })

  it('has no CORS: another origin is refused and never gets Access-Control headers', async () => {
    const foreign = await raw({ port, path: '/api/clients', headers: { origin: 'https://evil.example' } })
    expect(foreign.status).toBe(403)
    expect(JSON.parse(foreign.text)).toEqual({ error: { code: 'unauthorized', message: 'requests from https://evil.example are not allowed (no CORS)' } })
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined()
    const preflight = await raw({ port, path: '/api/security/x', method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'PUT' } })
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined()
    expect(preflight.headers['access-control-allow-methods']).toBeUndefined()
    // An image or form of another site (fetch metadata), and the console's own page.
    expect((await raw({ port, path: '/api/clients', headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403)
    expect((await raw({ port, path: '/api/clients', headers: { 'sec-fetch-site': 'same-site' } })).status).toBe(403)
    expect((await raw({ port, path: '/api/clients', headers: { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' } })).status).toBe(200)
  })

  it('answers only its loopback names without a token (DNS rebinding)', async () => {
    expect((await raw({ port, path: '/api/clients', headers: { host: `rebound.evil.example:${port}` } })).status).toBe(403)
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) expect((await raw({ port, path: '/api/clients', headers: { host } })).status, host).toBe(200)
  })

  it('requires the token, compared whole, on every API route and the event stream', async () => {
    const token = 'tok-0123456789abcdef'
    const secured = await start({ token })
    const get = (headers: Record<string, string>): Promise<{ status: number }> => raw({ port: secured.port, path: '/api/clients', headers })
    expect((await get({})).status).toBe(401)
    expect((await get({ authorization: 'Bearer tok-0123456789abcdeX' })).status).toBe(401)
    expect((await get({ authorization: 'Bearer tok-0123456789abcdef0' })).status).toBe(401)
    expect((await get({ authorization: 'Bearer tok' })).status).toBe(401)
    expect((await get({ authorization: `Bearer ${token}` })).status).toBe(200)
    // With a token, any Host name may be used (the console may sit behind a name on the network).
    expect((await get({ authorization: `Bearer ${token}`, host: 'console.ward-3.example' })).status).toBe(200)
    const refused = await openEvents(`${secured.base}/api/events?token=wrong`)
    refused.close()
    expect(refused.status).toBe(401)
    const events = await openEvents(`${secured.base}/api/events?token=${token}`)
    events.close()
    expect(events.status).toBe(200)
  })

  it('rate-limits device requests per caller with 429 and Retry-After; cheap routes and other callers are not held back', async () => {
    const limited = await start({ rateLimit: { capacity: 3, refillPerSecond: 0.01 } })
    const read = (localAddress?: string): ReturnType<typeof raw> => raw({ port: limited.port, path: '/api/clients/nobody/3/0/0', ...(localAddress ? { localAddress } : {}) })
    for (let i = 0; i < 3; i++) expect((await read()).status).toBe(404)
    const refused = await read()
    expect(refused.status).toBe(429)
    expect(refused.headers['retry-after']).toBe('100')
    expect(JSON.parse(refused.text)).toEqual({ error: { code: 'rate_limited', message: 'too many device requests from 127.0.0.1: at most 3 at once and 0.01 per second; retry in 100 s' } })
    expect((await raw({ port: limited.port, path: '/api/clients' })).status).toBe(200)
    expect((await raw({ port: limited.port, path: '/api/clients/nobody/observations' })).status).toBe(200)
    expect((await read('127.0.0.2')).status).toBe(404)
  })
})
