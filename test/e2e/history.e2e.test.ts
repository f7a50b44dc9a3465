/**
 * The History view end to end: the real console engine and HTTP API with the built UI, a real device
 * observed over CoAP streaming ECG with device timestamps, and Debian's Chromium driving the view
 * (device, range, wheel zoom that re-queries the store at the chart's width, CSV export — as a link
 * in a browser, and as the desktop app does it over IPC).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dispatchApi } from '../../electron/console/api-dispatch.ts'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { startHttpApi } from '../../electron/console/http-api.ts'
import { RENDERER_CSP } from '../../electron/console/renderer-csp.ts'
import { registerApiHandlers, type InvokeEventLike } from '../../electron/main/ipc-bridge.ts'
import { API_METHODS, type ExportHistoryCsvInput } from '../../shared/api/console-api.ts'
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

  it('exports over IPC as the desktop app does: one CSV answer, saved through a blob download under the app\'s CSP', async () => {
    if (!browser) throw new Error('no browser')
    // The real main-process handlers, reached through a page binding that reports the calling frame as
    // Electron does; the page gets a window.objecttwin built from the channel names, as the preload's.
    const handlers = new Map<string, (event: InvokeEventLike, input: unknown) => unknown>()
    registerApiHandlers({ handle: (channel, listener) => void handlers.set(channel, listener), removeHandler: (channel) => void handlers.delete(channel) }, service, (url) => url?.startsWith(`${base}/`) ?? false)
    const exports: ExportHistoryCsvInput[] = []
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light', acceptDownloads: true })
    try {
      const desk = await context.newPage()
      await desk.exposeBinding('objecttwinInvoke', ({ frame }, channel: string, input: unknown) => {
        if (channel === API_METHODS.exportHistoryCsv.channel) exports.push(input as ExportHistoryCsvInput)
        return handlers.get(channel)?.({ senderFrame: { url: frame.url() } }, input)
      })
      await desk.addInitScript((methods: [string, string][]) => {
        const page = globalThis as unknown as { objecttwinInvoke(channel: string, input: unknown): Promise<unknown>; objecttwin?: unknown }
        const bridge: Record<string, unknown> = {}
        for (const [name, channel] of methods) bridge[name] = (input: unknown) => page.objecttwinInvoke(channel, input)
        bridge['subscribe'] = () => () => undefined
        bridge['onShellCommand'] = () => () => undefined
        bridge['appInfo'] = () => Promise.resolve({ ok: true, value: { name: 'ObjectTwin Console', version: 'e2e', platform: 'linux' } })
        page.objecttwin = bridge
      }, Object.entries(API_METHODS).map(([name, spec]): [string, string] => [name, spec.channel]))
      const response = await desk.goto(`${base}/#/history/${EP}${ECG}`)
      expect(response?.headers()['content-security-policy']).toBe(RENDERER_CSP)
      await expect.poll(() => desk.getByTestId('history-endpoint').inputValue(), { timeout: STEP_MS }).toBe(EP)
      await desk.getByTestId('history-range-5m').click()
      await expect.poll(async () => (await desk.getByTestId('history-status').textContent()) ?? '', { timeout: STEP_MS }).toMatch(/^5,001 samples/)

      const button = desk.getByTestId('history-export')
      expect(await button.evaluate((el) => el.tagName)).toBe('BUTTON')
      const [download] = await Promise.all([desk.waitForEvent('download', { timeout: STEP_MS }), button.click()])
      expect(download.suggestedFilename()).toBe(`${EP}_1031_0_1.csv`)
      const saved = readFileSync(await download.path(), 'utf8')
      // What was saved is exactly the engine's CSV of the window asked for: the last five minutes, in whole ms.
      expect(exports).toHaveLength(1)
      const asked = exports[0] as ExportHistoryCsvInput
      expect((asked.to ?? 0) - (asked.from ?? 0)).toBeGreaterThanOrEqual(300_000)
      expect((asked.to ?? 0) - (asked.from ?? 0)).toBeLessThanOrEqual(300_001)
      const engine = await dispatchApi(service, 'exportHistoryCsv', asked)
      expect(engine.ok && engine.value.samples).toBe(5001)
      expect(saved).toBe(engine.ok ? engine.value.csv : '')
      expect(await desk.getByTestId('history-status').locator('.error').count()).toBe(0)
      await desk.screenshot({ path: resolve(RESULTS, 'history-ipc-export.png') })
    } finally {
      await context.close()
    }
  })
})
