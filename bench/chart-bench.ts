import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { CDPSession, Page } from 'playwright-core'
import { ConsoleService } from '../electron/console/console-service.ts'
import { DEFAULT_RENDERER_DIR, startHttpApi } from '../electron/console/http-api.ts'
import type { GatewayStatus } from '../shared/api/gateway-schemas.ts'
import type { ObjectModelJson } from '../shared/api/schemas.ts'
import type { BenchReport } from './server-bench.ts'
import { Latencies, readable } from './stats.ts'

/**
 * `bench chart` (issue 6): the live ECG wall in headless Chromium, as a central station shows it — the
 * console (engine and HTTP API in this process) with its local gateway on the virtual radio, ECG sensors
 * set to a high sampling rate through the API and observed, the built UI's ECG wall with a long window.
 * Measured in the page: the time between animation frames (median, p95, share over 33 ms, i.e. below
 * 30 fps) and the samples the monitors took; in Chromium: the renderer's main-thread busy time per wall
 * time (CDP Performance.getMetrics TaskDuration).
 */

export interface ChartBenchOptions {
  /** Seconds measured (after the warm-up). */
  readonly seconds: number
  readonly warmupS: number
  /** ECG sensors (patients on the wall). */
  readonly sensors: number
  readonly rateHz: number
  /** Seconds per screen chosen on the wall. */
  readonly windowS: number
  readonly viewport: { readonly width: number; readonly height: number }
}

export const CHART_BENCH_DEFAULTS: ChartBenchOptions = {
  seconds: 20,
  warmupS: 3,
  sensors: 4,
  rateHz: 500,
  windowS: 10,
  viewport: { width: 1920, height: 1080 },
}

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
const SLOW_FRAME_MS = 33
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`)
    await sleep(100)
  }
}

/** Fails with what to do when something the bench needs is missing. */
function checkPrerequisites(): void {
  const index = join(DEFAULT_RENDERER_DIR, 'index.html')
  if (!existsSync(index)) throw new Error(`the built UI is missing (${index}): run \`npm run build\` first`)
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`)
}

/** The REST API of the console under test. */
function restClient(base: string) {
  return async function rest<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${base}/api${path}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`)
    return (text === '' ? undefined : JSON.parse(text)) as T
  }
}

/** The ECG twins of the local gateway once all sensors are connected and the server knows their models. */
async function ecgTwins(rest: ReturnType<typeof restClient>, sensors: number): Promise<{ endpoint: string; objectIds: number[] }> {
  return until(`${sensors} ECG sensors connected with their twins named`, async () => {
    const status = await rest<GatewayStatus>('GET', '/gateway')
    const objectIds = status.sensors.flatMap((s) => s.twins.filter((t) => t.name === 'ECG').map((t) => t.objectId))
    if (!status.registered || objectIds.length < sensors) return undefined
    const models = await rest<ObjectModelJson[]>('GET', `/clients/${encodeURIComponent(status.endpoint)}/models`)
    return objectIds.every((id) => models.some((m) => m.id === id)) ? { endpoint: status.endpoint, objectIds } : undefined
  }, 60_000)
}

interface DmAnswer {
  code: string
}

interface FrameProbe {
  intervals: number[]
  work: number[]
  last: number
  on: boolean
}

/** The page's globals the probe uses (this file is typed for Node, not the DOM). */
interface ProbeGlobals {
  requestAnimationFrame(callback: (time: number) => void): number
  MessageChannel: new () => { port1: { onmessage: (() => void) | null }; port2: { postMessage(value: unknown): void } }
  performance: { now(): number }
  __chartBench?: FrameProbe
}

/** What the page measured: per frame, the interval since the previous one and the main thread's work on it (ms). */
interface PageSample {
  intervals: number[]
  work: number[]
  samples: number
}

/**
 * Starts the frame probe in the page. A frame's interval is the distance between animation-frame
 * timestamps (what the eye sees: 16.7 ms at 60 Hz when nothing is late). A frame's work is the time
 * from its start (the rAF timestamp, shared by every rAF callback of the frame, the monitors' too) to
 * a message posted from rAF, which runs as the next task, after the frame's script, style, layout and
 * paint: the main thread's cost of the frame, independent of the display's refresh rate.
 */
function startFrameProbe(page: Page): Promise<void> {
  return page.evaluate(() => {
    const g = globalThis as unknown as ProbeGlobals
    const probe: FrameProbe = { intervals: [], work: [], last: 0, on: true }
    g.__chartBench = probe
    const channel = new g.MessageChannel()
    let frameStart = 0
    channel.port1.onmessage = () => {
      if (probe.on) probe.work.push(g.performance.now() - frameStart)
    }
    const tick = (t: number): void => {
      if (!probe.on) return
      if (probe.last > 0) probe.intervals.push(t - probe.last)
      probe.last = t
      frameStart = t
      channel.port2.postMessage(0)
      g.requestAnimationFrame(tick)
    }
    g.requestAnimationFrame(tick)
  })
}

/** The samples the wall's monitors have taken so far (their `data-samples`). */
function samplesTaken(page: Page): Promise<number> {
  return page.$$eval('[data-testid="view-wall"] [data-testid="ecg-monitor"]', (els) => els.reduce((n, el) => n + Number(el.getAttribute('data-samples') ?? 0), 0))
}

async function stopFrameProbe(page: Page): Promise<PageSample> {
  const { intervals, work } = await page.evaluate(() => {
    const probe = (globalThis as unknown as ProbeGlobals).__chartBench
    if (!probe) throw new Error('the frame probe was not started')
    probe.on = false
    return { intervals: probe.intervals, work: probe.work }
  })
  return { intervals, work, samples: await samplesTaken(page) }
}

/** Percentiles of a list, and the share (%) above a limit. */
function spread(values: readonly number[], limitMs: number): { median: number; p95: number; overPct: number; count: number } {
  const l = new Latencies()
  let over = 0
  for (const v of values) {
    l.add(v)
    if (v > limitMs) over++
  }
  return { median: l.percentile(50), p95: l.percentile(95), overPct: values.length === 0 ? 100 : (100 * over) / values.length, count: values.length }
}

async function taskSeconds(cdp: CDPSession): Promise<number> {
  const { metrics } = await cdp.send('Performance.getMetrics')
  return metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0
}

export async function runChartBench(options: ChartBenchOptions, progress: (line: string) => void): Promise<BenchReport> {
  checkPrerequisites()
  const { chromium } = await import('playwright-core')
  // The chosen sampling rate throughout: no adaptive sampling.
  const service = await ConsoleService.create({
    coapPort: 0,
    demo: true,
    localGateway: { virtualSensors: Array.from({ length: options.sensors }, () => 'ecg' as const) },
    adaptiveSampling: { enabled: false },
  })
  let http: Awaited<ReturnType<typeof startHttpApi>> | undefined
  let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined
  try {
    http = await startHttpApi(service, { host: '127.0.0.1', port: 0 })
    const base = `http://127.0.0.1:${http.port}`
    const rest = restClient(base)
    progress(`console on ${base}; waiting for ${options.sensors} ECG sensors on the virtual radio`)
    const { endpoint, objectIds } = await ecgTwins(rest, options.sensors)
    const ep = encodeURIComponent(endpoint)
    for (const o of objectIds.slice(0, options.sensors)) {
      // The paper's ECG twin: resource 2 is the sampling rate, 1 the samples.
      const written = await rest<DmAnswer>('PUT', `/clients/${ep}/${o}/0/2`, { value: options.rateHz })
      if (!written.code.startsWith('2.')) throw new Error(`writing ${options.rateHz} Hz to /${o}/0/2 answered ${written.code}`)
      const observed = await rest<DmAnswer>('POST', `/clients/${ep}/${o}/0/1/observe`)
      if (!observed.code.startsWith('2.')) throw new Error(`observing /${o}/0/1 answered ${observed.code}`)
    }
    progress(`${objectIds.length} ECG twins at ${options.rateHz} Hz, observed; opening the ECG wall in Chromium`)

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    })
    const page = await browser.newPage({ viewport: options.viewport, colorScheme: 'light' })
    const pageErrors: string[] = []
    page.on('pageerror', (e) => pageErrors.push(e.message))
    await page.goto(`${base}/#/wall`)
    const monitors = page.locator('[data-testid="view-wall"] [data-testid="ecg-monitor"]')
    await until(`${options.sensors} monitors on the wall`, async () => ((await monitors.count()) >= options.sensors ? true : undefined), 30_000)
    await page.getByTestId('ecg-wall-window').selectOption(String(options.windowS))
    await until('samples on every monitor', async () => {
      const counts = await monitors.evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-samples') ?? 0)))
      return counts.every((n) => n > 0) ? true : undefined
    }, 30_000)
    progress(`warming up ${options.warmupS} s, then measuring ${options.seconds} s`)
    await sleep(options.warmupS * 1000)

    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Performance.enable')
    const samplesBefore = await samplesTaken(page)
    const taskBefore = await taskSeconds(cdp)
    const wallBefore = performance.now()
    await startFrameProbe(page)
    await sleep(options.seconds * 1000)
    const measured = await stopFrameProbe(page)
    const taskAfter = await taskSeconds(cdp)
    const wallS = (performance.now() - wallBefore) / 1000
    if (pageErrors.length > 0) throw new Error(`the page failed: ${pageErrors.join('; ')}`)

    const work = spread(measured.work, SLOW_FRAME_MS)
    const intervals = spread(measured.intervals, SLOW_FRAME_MS)
    const cpuPct = (100 * (taskAfter - taskBefore)) / wallS
    const samplesPerS = (measured.samples - samplesBefore) / wallS
    const ms = (n: number): string => `${readable(n)} ms`
    const rows = [
      ['measure', 'median', 'p95', 'over 33 ms', 'target'],
      ['frame time (main-thread work per frame)', ms(work.median), ms(work.p95), `${readable(work.overPct)} %`, 'median < 16 ms'],
      ['frame interval (as displayed)', ms(intervals.median), ms(intervals.p95), `${readable(intervals.overPct)} %`, '< 5 % over 33 ms'],
      ['renderer main thread busy', `${readable(cpuPct)} %`, '', '', ''],
      ['samples taken by the page', `${readable(samplesPerS)} /s`, '', '', `${options.sensors * options.rateHz} /s sent`],
      ['setup', `${options.sensors} patients × ${options.rateHz} Hz`, `${options.windowS} s per screen`, `${intervals.count} frames in ${readable(wallS)} s`, ''],
    ]
    return {
      rows,
      summary: {
        median_frame_ms: work.median,
        p95_frame_ms: work.p95,
        // A frame shown more than 33 ms after the previous one is what the eye catches as a stutter.
        over33_pct: Math.max(work.overPct, intervals.overPct),
        renderer_cpu_pct: cpuPct,
        samples_per_s: samplesPerS,
        median_interval_ms: intervals.median,
        frames: intervals.count,
        patients: options.sensors,
        rate_hz: options.rateHz,
      },
    }
  } finally {
    await browser?.close()
    await http?.app.close()
    await service.close()
  }
}
