/**
 * The History view end to end: the real console engine and HTTP API with the built UI, a real device
 * observed over CoAP streaming ECG with device timestamps, and Debian's Chromium driving the view
 * (device, range, wheel zoom that re-queries the store at the chart's width, CSV export).
 */
import { existsSync, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { startHttpApi } from '../../electron/console/http-api.ts'
import { parsePath } from '../../shared/lwm2m/path.ts'
import { waitFor } from '../support/server-harness.ts'
import { TestClient } from '../support/test-client.ts'
import { hostLacks } from '../support/host-tools.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const RENDERER_INDEX = resolve(ROOT, 'out/renderer/index.html')
const RESULTS = resolve(ROOT, 'test-results')
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
const EP = 'e2e-history-patch'
const ECG = '/1031/0/1'
const STEP_MS = 15_000
/** Twenty seconds of 250 Hz ending now, with one spike. */
const SAMPLES = 5000
const SPIKE = 3210

let service: ConsoleService
let app: FastifyInstance
let base: string
let client: TestClient
let browser: Browser | undefined
let page: Page
const historyRequests: URL[] = []

describe.skipIf(hostLacks('chromium'))('History view (console + Chromium)', () => {
  beforeAll(async () => {
    if (!existsSync(RENDERER_INDEX)) throw new Error(`the built UI is missing (${RENDERER_INDEX}): run \`npm run build\` first`)
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`)
    mkdirSync(RESULTS, { recursive: true })
    service = await ConsoleService.create({ coapPort: 0, requestTimeoutMs: 3000 })
    const http = await startHttpApi(service, { host: '127.0.0.1', port: 0 })
    app = http.app
    base = `http://127.0.0.1:${http.port}`
    client = await TestClient.start({ endpoint: EP, serverPort: service.coapPort })
    expect((await client.register()).code).toBe('2.01')
    const observed = await service.observe(EP, [ECG])
    expect(observed.ok && observed.value.code).toBe('2.05')
    const t0 = Date.now() / 1000 - SAMPLES / 250
    const path = parsePath(ECG)
    for (let first = 0; first < SAMPLES; first += 25) {
      // A sensor streams; it does not dump 200 notifications in one tick.
      if (first % 500 === 0) await new Promise((r) => setTimeout(r, 5))
      client.notify(ECG, Array.from({ length: 25 }, (_, j) => {
        const i = first + j
        return { path, type: 'integer' as const, value: i === SPIKE ? 5000 : Math.round(400 * Math.sin(i / 20)), time: t0 + i / 250 }
      }))
    }
    await waitFor(() => {
      const r = service.history(EP, ECG, { from: t0 * 1000, to: Date.now() + 1000, maxPoints: 100_000 })
      return r.ok && r.value.total >= SAMPLES
    }, 'the streamed samples in the history', STEP_MS)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] })
    page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' })
    page.on('request', (r) => {
      const url = new URL(r.url())
      if (url.pathname.endsWith('/history')) historyRequests.push(url)
    })
    await page.goto(`${base}/#/history`)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await client?.close()
    await app?.close()
    await service?.close()
  })

  it('charts the observed resource of the device, decimated by the console', async () => {
    await expect.poll(() => page.getByTestId('history-endpoint').inputValue(), { timeout: STEP_MS }).toBe(EP)
    expect(await page.getByTestId('history-path').inputValue()).toBe(ECG)
    await page.getByTestId('history-range-5m').click()
    await expect.poll(async () => (await page.getByTestId('history-status').textContent()) ?? '', { timeout: STEP_MS }).toMatch(/^5,001 samples · min\/max per/)
    // About one min/max pair per pixel column of the chart.
    const width = await page.getByTestId('history-chart').evaluate((el) => el.clientWidth)
    const last = historyRequests.at(-1) as URL
    expect(Number(last.searchParams.get('maxPoints'))).toBe(2 * width)
    expect(Number(last.searchParams.get('to')) - Number(last.searchParams.get('from'))).toBe(300_000)
    expect(new URL(page.url()).hash).toBe(`#/history/${EP}${ECG}`)
    await page.screenshot({ path: resolve(RESULTS, 'history-5min.png') })
  })

  it('re-queries a narrower window when the chart is zoomed', async () => {
    const before = historyRequests.length
    const box = await page.getByTestId('history-chart').boundingBox()
    if (!box) throw new Error('the chart has no box')
    // The samples sit at the right end of the last five minutes: zoom in there.
    await page.mouse.move(box.x + box.width - 40, box.y + box.height / 2)
    for (let k = 0; k < 15; k++) await page.mouse.wheel(0, -400)
    await expect.poll(() => historyRequests.length, { timeout: STEP_MS }).toBeGreaterThan(before)
    const zoomed = historyRequests.at(-1) as URL
    expect(Number(zoomed.searchParams.get('to')) - Number(zoomed.searchParams.get('from'))).toBeLessThan(300_000)
    await expect.poll(async () => (await page.getByTestId('history-status').textContent()) ?? '', { timeout: STEP_MS }).not.toMatch(/^5,001 samples/)
    await page.screenshot({ path: resolve(RESULTS, 'history-zoomed.png') })
  })

  it('exports the window shown as CSV', async () => {
    const href = await page.getByTestId('history-export').getAttribute('href')
    expect(href).toMatch(new RegExp(`^/api/clients/${EP}${ECG}/history\\.csv\\?from=\\d+&to=\\d+$`))
    const res = await fetch(base + href)
    expect(res.status).toBe(200)
    const lines = (await res.text()).trimEnd().split('\n')
    expect(lines[0]).toBe('time,value')
    expect(lines[1]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z,-?\d+$/)
  })
})
