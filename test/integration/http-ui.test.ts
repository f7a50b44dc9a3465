import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { DEFAULT_RENDERER_DIR, RENDERER_CSP, startHttpApi } from '../../electron/console/http-api.ts'

/** `objecttwin serve` serves the built renderer next to the API (a stand-in build in a temp dir). */
let service: ConsoleService
const apps: FastifyInstance[] = []
let dir: string

async function serve(rendererDir: string | null): Promise<string> {
  const { app, port } = await startHttpApi(service, { host: '127.0.0.1', port: 0, rendererDir })
  apps.push(app)
  return `http://127.0.0.1:${port}`
}

beforeAll(async () => {
  service = await ConsoleService.create({ coapPort: 0 })
  dir = mkdtempSync(join(tmpdir(), 'objecttwin-ui-'))
  mkdirSync(join(dir, 'assets'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="app"></div>')
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)')
})

afterAll(async () => {
  for (const app of apps) await app.close()
  await service.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('the browser console UI', () => {
  it('serves index.html with the strict CSP and no caching, assets as immutable', async () => {
    const base = await serve(dir)
    const index = await fetch(`${base}/`)
    expect(index.status).toBe(200)
    expect(index.headers.get('content-type')).toMatch(/^text\/html/)
    expect(index.headers.get('content-security-policy')).toBe(RENDERER_CSP)
    expect(index.headers.get('cache-control')).toBe('no-cache')
    expect(await index.text()).toContain('<div id="app">')
    const asset = await fetch(`${base}/assets/index-abc123.js`)
    expect(asset.status).toBe(200)
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(asset.headers.get('content-security-policy')).toBe(RENDERER_CSP)
  })

  it('leaves the API as it was', async () => {
    const base = await serve(dir)
    const health = await fetch(`${base}/api/health`)
    expect(health.status).toBe(200)
    // API answers get their own, stricter policy (nothing may run or frame them), not the UI's.
    expect(health.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'")
    expect(await health.json()).toMatchObject({ status: 'ok' })
    const missing = await fetch(`${base}/api/nothing-here`)
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({ error: { code: 'not_found', message: 'no route GET /api/nothing-here' } })
    const noFile = await fetch(`${base}/no-such-file.js`)
    expect(noFile.status).toBe(404)
  })

  it('answers 503 with how to build when the UI is not built', async () => {
    const base = await serve(join(dir, 'not-built'))
    const res = await fetch(`${base}/`)
    expect(res.status).toBe(503)
    expect(await res.text()).toBe('UI not built: run npm run build')
    expect((await fetch(`${base}/api/health`)).status).toBe(200)
  })

  it('serves no UI when asked not to', async () => {
    const base = await serve(null)
    expect((await fetch(`${base}/`)).status).toBe(404)
  })

  it('uses the same CSP as the meta tag of renderer/index.html, and defaults to out/renderer', () => {
    const html = readFileSync(resolve(import.meta.dirname, '../../renderer/index.html'), 'utf8')
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1]
    expect(meta).toBe(RENDERER_CSP)
    expect(RENDERER_CSP).toContain("connect-src 'self'")
    expect(DEFAULT_RENDERER_DIR).toBe(resolve(import.meta.dirname, '../../out/renderer'))
  })
})
