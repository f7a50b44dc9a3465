import { createHash, timingSafeEqual } from 'node:crypto'
import { existsSync } from 'node:fs'
import { resolve, sep } from 'node:path'
import fastifyStatic from '@fastify/static'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { EVENT_KINDS, type ConsoleEvent, type ConsoleEventKind } from '../../shared/api/events.ts'
import { describeIssues, NO_UPDATER_MESSAGE } from '../../shared/api/console-api.ts'
import type { ErrorCode, Result } from '../../shared/api/result.ts'
import { Attributes } from '../../shared/api/schemas.ts'
import { ScanInput, SensorInput, SettingsPatch, VirtualLinkInput } from '../../shared/api/gateway-schemas.ts'
import { MqttConfigureInput } from '../../shared/api/mqtt-schemas.ts'
import { ConfigureControlInput } from '../../shared/api/control-schemas.ts'
import { SecurityPolicyInput, SetSecurityInput } from '../../shared/api/security-schemas.ts'
import type { ConsoleService } from './console-service.ts'
import { RENDERER_CSP } from './renderer-csp.ts'
import { csvStream, historyQueryFrom } from './history-http.ts'
import { csvFileName } from './history-csv.ts'
import { dispatchApi } from './api-dispatch.ts'
import { DEFAULT_DM_RATE_LIMIT, RateLimiter, type RateLimit } from './rate-limiter.ts'
import { rememberSecret } from '../../shared/security/redact.ts'

export interface HttpApiOptions {
  readonly host: string
  /** 0 = any free port. */
  readonly port: number
  /** Bearer token; required for anything but loopback. */
  readonly token?: string
  /** Largest request body accepted (default 1 MiB; the security routes take at most 4 KiB). */
  readonly bodyLimit?: number
  /** Device-management and gateway requests per caller (IP address); false turns the limit off. */
  readonly rateLimit?: RateLimit | false
  /** The built renderer to serve at `/`; default `out/renderer` of the repo; null serves no UI. */
  readonly rendererDir?: string | null
}

/**
 * Where `npm run build` puts the renderer. This file runs from electron/console (Node strips its
 * types) or bundled into out/main: both sit two levels below the repo root.
 */
export const DEFAULT_RENDERER_DIR = resolve(import.meta.dirname, '../../out/renderer')

export { RENDERER_CSP }

const UI_NOT_BUILT = 'UI not built: run npm run build'

const STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  unauthorized: 401,
  not_found: 404,
  not_registered: 404,
  conflict: 409,
  unsupported: 415,
  rate_limited: 429,
  unavailable: 409,
  internal: 500,
  unreachable: 502,
  decode_failed: 502,
  timeout: 504,
  queued_expired: 504,
}

const ACTIONS = new Set(['discover', 'execute', 'observe', 'attributes', 'history', 'history.csv'])

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/** Constant time: both sides are hashed first, so neither the content nor the length of the token leaks. */
function tokensMatch(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest()
  return timingSafeEqual(digest(given), digest(expected))
}

/** Headers of every response: no sniffing, no referrer, no framing, a browsing context of its own. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
}

/** API answers are data, never a document: nothing may run, frame or cache them. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'"

/** Security routes carry an identity and a key: a few hundred bytes. */
const SECURITY_BODY_LIMIT = 4096

/** Host names a loopback console answers to; any other Host header is a DNS-rebinding page reaching for it. */
function isLoopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined) return false
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '')
  return isLoopback(name.toLowerCase())
}

/**
 * Why a browser request from another site must not reach the API (undefined when it may): a foreign Origin, or a
 * fetch metadata header saying another site sent it (e.g. an image tag or a form of a page elsewhere).
 */
function crossSiteRefusal(req: FastifyRequest): string | undefined {
  const origin = req.headers.origin
  if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}` && origin !== `https://${req.headers.host ?? ''}`) return `requests from ${origin.slice(0, 100)} are not allowed (no CORS)`
  const site = req.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `${site} requests are not allowed (no CORS)`
  return undefined
}

/** Routes that make a device (or the BLE radio) work: rate-limited per caller. */
function isExpensive(method: string, url: string): boolean {
  const path = url.split('?')[0] ?? ''
  if (/^\/api\/clients\/[^/]+\/.+/.test(path)) return !/\/(?:observations|control|models)$/.test(path) || method !== 'GET'
  return method === 'POST' && path.startsWith('/api/gateway/')
}

function send<T>(reply: FastifyReply, result: Result<T>): FastifyReply {
  if (result.ok) return reply.send(result.value)
  return reply.code(STATUS[result.error.code]).send({ error: result.error })
}

function badRequest(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(400).send({ error: { code: 'invalid_input', message } })
}

/** A JSON object body, or an empty one when there is none; anything else (array, text) is an error message. */
function objectBody(body: unknown): Record<string, unknown> | string {
  if (body === undefined || body === null) return {}
  return typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : 'the body must be a JSON object'
}

/** Splits "3/0/1/discover" into the LwM2M path "/3/0/1" and the action "discover". */
function target(rest: string): { path: string; action?: string } {
  const segments = rest.split('/').filter((s) => s.length > 0)
  const last = segments[segments.length - 1]
  if (last !== undefined && ACTIONS.has(last)) return { path: '/' + segments.slice(0, -1).join('/'), action: last }
  return { path: '/' + segments.join('/') }
}

/** Whether a client asked for JSON rather than CSV (`Accept: application/json`, without text/csv). */
function wantsJson(accept: string | undefined): boolean {
  return accept !== undefined && /\bapplication\/json\b/i.test(accept) && !/\btext\/csv\b/i.test(accept)
}

function queryNumber(value: unknown, name: string): number | undefined | Error {
  if (value === undefined || value === '') return undefined
  const n = Number(value)
  return Number.isFinite(n) ? n : new Error(`${name} must be a number`)
}

/** The REST + SSE API of DESIGN.md over a `ConsoleService`. */
export async function startHttpApi(service: ConsoleService, options: HttpApiOptions): Promise<{ app: FastifyInstance; port: number }> {
  if (!isLoopback(options.host) && !options.token) throw new Error(`listening on ${options.host} needs a token`)
  rememberSecret(options.token)
  // Event streams and idle browser sockets never end by themselves: close() cuts them, or shutdown hangs.
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimit ?? 1_048_576, forceCloseConnections: true })

  const limiter = options.rateLimit === false ? undefined : new RateLimiter(options.rateLimit ?? DEFAULT_DM_RATE_LIMIT)
  const refuse = (reply: FastifyReply, status: number, code: ErrorCode, message: string): FastifyReply => reply.code(status).send({ error: { code, message } })

  app.addHook('onRequest', async (req, reply) => {
    reply.headers(SECURITY_HEADERS)
    const api = req.url.startsWith('/api/')
    reply.header('Content-Security-Policy', api ? API_CSP : RENDERER_CSP)
    if (!api) return
    reply.header('Cache-Control', 'no-store')
    // Without a token only loopback can reach the API, and a page elsewhere must not do so through the browser.
    if (!options.token && !isLoopbackHostHeader(req.headers.host)) return refuse(reply, 403, 'unauthorized', `Host ${String(req.headers.host).slice(0, 100)} is not this console's loopback address`)
    const crossSite = crossSiteRefusal(req)
    if (crossSite) return refuse(reply, 403, 'unauthorized', crossSite)
    if (options.token) {
      const header = req.headers.authorization
      // EventSource cannot set headers: the event stream may carry the token in the query.
      const given = header?.startsWith('Bearer ') ? header.slice(7) : ((req.query as Record<string, string | undefined>)['token'] ?? '')
      if (!tokensMatch(given, options.token)) return refuse(reply, 401, 'unauthorized', 'a valid bearer token is required')
    }
    if (limiter && isExpensive(req.method, req.url)) {
      const waitS = limiter.take(req.ip)
      if (waitS > 0) {
        reply.header('Retry-After', String(Math.ceil(waitS)))
        return refuse(reply, 429, 'rate_limited', `too many device requests from ${req.ip}: at most ${limiter.capacity} at once and ${limiter.refillPerSecond} per second; retry in ${Math.ceil(waitS)} s`)
      }
    }
  })

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _req, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    void reply.code(status).send({ error: { code: status === 500 ? 'internal' : 'invalid_input', message: error.message } })
  })
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } }))

  app.get('/api/health', async () => service.health())
  app.get('/api/clients', async () => service.listClients())
  app.get<{ Params: { ep: string } }>('/api/clients/:ep', async (req, reply) => send(reply, service.getClient(req.params.ep)))
  app.get<{ Params: { ep: string } }>('/api/clients/:ep/observations', async (req) => service.listObservations(req.params.ep))
  app.get<{ Params: { ep: string } }>('/api/clients/:ep/models', async (req, reply) => send(reply, await service.clientModels(req.params.ep)))
  app.get<{ Querystring: { endpoint?: string } }>('/api/history', async (req) => service.historySeries(req.query.endpoint || undefined))

  // The local gateway and the settings: inputs checked against the contract's schemas.
  app.get('/api/gateway', async () => service.gatewayStatus())
  app.post('/api/gateway/scan', async (req, reply) => {
    const body = objectBody(req.body)
    const input = typeof body === 'string' ? undefined : ScanInput.safeParse(body)
    if (!input?.success) return badRequest(reply, input ? describeIssues(input.error) : String(body))
    return send(reply, service.gatewayScan(input.data.seconds))
  })
  app.post<{ Params: { address: string; action: string } }>('/api/gateway/sensors/:address/:action', async (req, reply) => {
    const { action } = req.params
    if (action !== 'connect' && action !== 'disconnect') return reply.code(404).send({ error: { code: 'not_found', message: `no route POST /api/gateway/sensors/:address/${action}` } })
    const input = SensorInput.safeParse({ address: req.params.address })
    if (!input.success) return badRequest(reply, describeIssues(input.error))
    return send(reply, action === 'connect' ? await service.gatewayConnect(input.data.address) : await service.gatewayDisconnect(input.data.address))
  })
  app.put<{ Params: { sensor: string } }>('/api/gateway/virtual/:sensor/link', async (req, reply) => {
    const body = objectBody(req.body)
    const input = typeof body === 'string' ? undefined : VirtualLinkInput.strict().safeParse({ ...body, sensor: req.params.sensor })
    if (!input?.success) return badRequest(reply, input ? describeIssues(input.error) : String(body))
    return send(reply, service.setVirtualLink(input.data))
  })
  app.get('/api/settings', async () => service.getSettings())
  app.patch('/api/settings', async (req, reply) => {
    const input = SettingsPatch.safeParse(req.body ?? {})
    if (!input.success) return badRequest(reply, describeIssues(input.error))
    return send(reply, await service.updateSettings(input.data))
  })
  // The MQTT bridge: the password is accepted here and never returned.
  // The updater lives in the desktop app's main process (electron/main/app-updater.ts): a headless console has none.
  const noUpdater = async (_req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => reply.code(STATUS.unavailable).send({ error: { code: 'unavailable', message: NO_UPDATER_MESSAGE } })
  app.all('/api/update', noUpdater)
  app.all('/api/update/*', noUpdater)
  app.get('/api/mqtt', async () => service.mqttStatus())
  app.put('/api/mqtt', async (req, reply) => {
    const input = MqttConfigureInput.safeParse(req.body ?? {})
    if (!input.success) return badRequest(reply, describeIssues(input.error))
    return send(reply, await service.configureMqtt(input.data))
  })
  // Adaptive sampling per device: the settings and the ECG twins under control; PUT changes only the fields given.
  app.get<{ Params: { ep: string } }>('/api/clients/:ep/control', async (req) => service.getControl(req.params.ep))
  app.put<{ Params: { ep: string } }>('/api/clients/:ep/control', async (req, reply) => {
    const body = objectBody(req.body)
    const input = typeof body === 'string' ? undefined : ConfigureControlInput.safeParse({ ...body, endpoint: req.params.ep })
    if (!input?.success) return badRequest(reply, input ? describeIssues(input.error) : String(body))
    return send(reply, service.configureControl(input.data))
  })

  // Device identities: keys go in (hex) and never come out.
  app.get('/api/security', async () => service.listSecurity())
  app.put<{ Params: { ep: string } }>('/api/security/:ep', { bodyLimit: SECURITY_BODY_LIMIT }, async (req, reply) => {
    const body = objectBody(req.body)
    const input = typeof body === 'string' ? undefined : SetSecurityInput.safeParse({ ...body, endpoint: req.params.ep })
    if (!input?.success) return badRequest(reply, input ? describeIssues(input.error) : String(body))
    return send(reply, service.setSecurity(input.data))
  })
  app.delete<{ Params: { ep: string } }>('/api/security/:ep', async (req, reply) => send(reply, service.deleteSecurity(req.params.ep)))
  app.get('/api/security-policy', async () => service.getSecurityPolicy())
  app.put('/api/security-policy', { bodyLimit: SECURITY_BODY_LIMIT }, async (req, reply) => {
    const input = SecurityPolicyInput.safeParse(req.body ?? {})
    if (!input.success) return badRequest(reply, describeIssues(input.error))
    return send(reply, { ok: true, value: service.setSecurityPolicy(input.data) })
  })

  type DmRequest = FastifyRequest<{ Params: { ep: string; '*': string }; Querystring: Record<string, string | undefined> }>

  const dmOptions = (req: DmRequest): { format?: string; timeoutMs?: number } | Error => {
    const timeout = queryNumber(req.query['timeout'], 'timeout')
    if (timeout instanceof Error) return timeout
    return { ...(req.query['format'] ? { format: req.query['format'] } : {}), ...(timeout !== undefined ? { timeoutMs: timeout } : {}) }
  }

  app.get('/api/clients/:ep/*', async (req: DmRequest, reply) => {
    const { path, action } = target(req.params['*'])
    if (action === 'history' || action === 'history.csv') {
      const query = historyQueryFrom(req.query)
      if (!query.ok) return badRequest(reply, query.error.message)
      if (action === 'history' && req.query['format'] !== 'csv') return send(reply, service.history(req.params.ep, path, query.value))
      // The HTTP transport's exportHistoryCsv asks for JSON; a link (or curl) gets the streamed CSV.
      if (action === 'history.csv' && wantsJson(req.headers.accept)) {
        return send(reply, await dispatchApi(service, 'exportHistoryCsv', { endpoint: req.params.ep, path, from: query.value.from, to: query.value.to }))
      }
      const pages = service.historySamples(req.params.ep, path, query.value)
      if (!pages.ok) return send(reply, pages)
      return reply.header('Content-Type', 'text/csv; charset=utf-8').header('Content-Disposition', `attachment; filename="${csvFileName(req.params.ep, path)}"`).send(csvStream(pages.value))
    }
    const opts = dmOptions(req)
    if (opts instanceof Error) return badRequest(reply, opts.message)
    if (action === 'discover') return send(reply, await service.discover(req.params.ep, path, opts))
    if (action === undefined) return send(reply, await service.read(req.params.ep, path, opts))
    return badRequest(reply, `GET …/${action} is not a route`)
  })

  app.put('/api/clients/:ep/*', async (req: DmRequest, reply) => {
    const { path, action } = target(req.params['*'])
    const opts = dmOptions(req)
    if (opts instanceof Error) return badRequest(reply, opts.message)
    if (action === 'attributes') {
      const attrs: Record<string, number | null> = {}
      for (const key of ['pmin', 'pmax', 'gt', 'lt', 'st', 'epmin', 'epmax']) {
        if (!(key in req.query)) continue
        const raw = req.query[key]
        const n = raw === '' || raw === undefined ? null : Number(raw)
        if (n !== null && !Number.isFinite(n)) return badRequest(reply, `${key} must be a number`)
        attrs[key] = n
      }
      const parsed = Attributes.safeParse(attrs)
      if (!parsed.success) return badRequest(reply, describeIssues(parsed.error))
      return send(reply, await service.writeAttributes(req.params.ep, path, parsed.data, opts))
    }
    if (action !== undefined) return badRequest(reply, `PUT …/${action} is not a route`)
    const replace = req.query['replace'] === undefined ? true : req.query['replace'] !== 'false'
    return send(reply, await service.write(req.params.ep, path, req.body, { ...opts, replace }))
  })

  app.post('/api/clients/:ep/*', async (req: DmRequest, reply) => {
    const { path, action } = target(req.params['*'])
    const opts = dmOptions(req)
    if (opts instanceof Error) return badRequest(reply, opts.message)
    const body = (req.body ?? {}) as Record<string, unknown>
    if (action === 'execute') {
      const args = body['args']
      if (args !== undefined && typeof args !== 'string') return badRequest(reply, 'args must be a string such as "0=\'v\',1"')
      return send(reply, await service.execute(req.params.ep, path, args, opts))
    }
    if (action === 'observe') {
      const paths = Array.isArray(body['paths']) ? (body['paths'] as unknown[]) : [path]
      if (!paths.every((p): p is string => typeof p === 'string')) return badRequest(reply, 'paths must be strings')
      return send(reply, await service.observe(req.params.ep, paths, opts))
    }
    if (action !== undefined) return badRequest(reply, `POST …/${action} is not a route`)
    return send(reply, await service.create(req.params.ep, path, req.body, opts))
  })

  app.delete('/api/clients/:ep/*', async (req: DmRequest, reply) => {
    const { path, action } = target(req.params['*'])
    const opts = dmOptions(req)
    if (opts instanceof Error) return badRequest(reply, opts.message)
    if (action === 'observe') return send(reply, await service.cancelObservation(req.params.ep, path === '/' ? undefined : path, { passive: req.query['passive'] === 'true' }))
    if (action !== undefined) return badRequest(reply, `DELETE …/${action} is not a route`)
    return send(reply, await service.delete(req.params.ep, path, opts))
  })

  app.get<{ Querystring: { kinds?: string } }>('/api/events', (req, reply) => {
    const wanted = req.query.kinds ? new Set(req.query.kinds.split(',')) : undefined
    if (wanted && [...wanted].some((k) => !EVENT_KINDS.includes(k as ConsoleEventKind))) {
      return badRequest(reply, `kinds must be among ${EVENT_KINDS.join(', ')}`)
    }
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Security-Policy': API_CSP, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' })
    res.write(': connected\n\n')
    const write = (event: ConsoleEvent): void => {
      if (wanted && !wanted.has(event.kind)) return
      res.write(`event: ${event.kind}\ndata: ${JSON.stringify(event)}\n\n`)
    }
    const unsubscribe = service.onEvent(write)
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000)
    req.raw.on('close', () => {
      clearInterval(heartbeat)
      unsubscribe()
    })
  })

  if (options.rendererDir !== null) await serveRenderer(app, options.rendererDir ?? DEFAULT_RENDERER_DIR)

  await app.listen({ host: options.host, port: options.port })
  const address = app.server.address()
  return { app, port: typeof address === 'object' && address ? address.port : options.port }
}

/**
 * The built renderer at `/` (the browser console). The build may appear or be redone while the
 * server runs, so whether it exists is checked per request: without it `/` says how to build it.
 */
async function serveRenderer(app: FastifyInstance, root: string): Promise<void> {
  const index = resolve(root, 'index.html')
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return
    const path = req.url.split('?')[0]
    if ((path === '/' || path === '/index.html') && !existsSync(index)) {
      return reply.code(503).header('Content-Type', 'text/plain; charset=utf-8').header('Cache-Control', 'no-store').send(UI_NOT_BUILT)
    }
  })
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    index: 'index.html',
    // Hashed file names under assets/ never change; index.html must be fetched anew to find them.
    cacheControl: false,
    setHeaders: (reply, filePath) => {
      reply.header('Cache-Control', filePath.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache')
    },
  })
}
