import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { startHttpApi } from '../../electron/console/http-api.ts'
import { createHttpTransport } from '../../renderer/src/api/http-transport.ts'
import { NO_UPDATER_MESSAGE, type ConsoleApi } from '../../shared/api/console-api.ts'

/**
 * The update methods against `objecttwin serve`'s HTTP API: a headless console has no updater (it lives
 * in the desktop app's main process), so each answers `unavailable`, over REST and through the transport.
 */
let service: ConsoleService
let app: FastifyInstance
let api: ConsoleApi
let base = ''

beforeAll(async () => {
  service = await ConsoleService.create({ coapPort: 0 })
  const http = await startHttpApi(service, { host: '127.0.0.1', port: 0, rendererDir: null })
  app = http.app
  base = `http://127.0.0.1:${http.port}`
  api = createHttpTransport({ baseUrl: base })
})

afterAll(async () => {
  api.close()
  await app.close()
  await service.close()
})

describe('updates over HTTP', () => {
  it('answers every update route with 409 unavailable', async () => {
    for (const [method, path] of [['GET', '/api/update'], ['POST', '/api/update/check'], ['POST', '/api/update/download'], ['POST', '/api/update/install'], ['PUT', '/api/update/preferences']] as const) {
      const response = await fetch(base + path, { method, headers: { 'content-type': 'application/json' }, ...(method === 'GET' ? {} : { body: '{}' }) })
      expect(response.status, `${method} ${path}`).toBe(409)
      expect(await response.json()).toEqual({ error: { code: 'unavailable', message: NO_UPDATER_MESSAGE } })
    }
  })

  it('reports unavailable through the browser transport, after checking the input', async () => {
    const unavailable = { ok: false, error: { code: 'unavailable', message: NO_UPDATER_MESSAGE } }
    expect(await api.updateStatus()).toEqual(unavailable)
    expect(await api.checkForUpdates()).toEqual(unavailable)
    expect(await api.downloadUpdate()).toEqual(unavailable)
    expect(await api.installUpdate()).toEqual(unavailable)
    expect(await api.configureUpdates({ checkOnStart: true })).toEqual(unavailable)
    expect(await api.configureUpdates({ checkOnStart: 'yes' } as never)).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
  })
})
