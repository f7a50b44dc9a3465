/**
 * The browser console end to end: the real `objecttwin serve` as a child process, the test client
 * registered over real CoAP, the built UI driven in Debian's Chromium (playwright-core). Screenshots
 * of each view go to test-results/.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { chromium, type Browser, type Locator, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parsePath } from '../../shared/lwm2m/path.ts'
import { TestClient } from '../support/test-client.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const RENDERER_INDEX = resolve(ROOT, 'out/renderer/index.html')
const RESULTS = resolve(ROOT, 'test-results')
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
const ENDPOINT = 'e2e-ecg-patch-01'
/** Generous: a cold child process and a first browser start on a loaded 2-core machine. */
const STEP_MS = 15_000

let serve: ChildProcess | undefined
let serveOutput = ''
let browser: Browser | undefined
let page: Page
let client: TestClient | undefined
let httpPort = 0
let coapPort = 0

function startServe(): Promise<{ http: number; coap: number }> {
  return new Promise((resolvePorts, reject) => {
    const child = spawn(process.execPath, ['bin/objecttwin.js', 'serve', '--memory', '--http-port', '0', '--coap-port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    serve = child
    const timer = setTimeout(() => reject(new Error(`objecttwin serve did not print its ports within 20 s; output:\n${serveOutput}`)), 20_000)
    const onData = (chunk: Buffer): void => {
      serveOutput += chunk.toString()
      const m = /listening http=(\d+) coap=(\d+)/.exec(serveOutput)
      if (m) {
        clearTimeout(timer)
        resolvePorts({ http: Number(m[1]), coap: Number(m[2]) })
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`objecttwin serve exited (${signal ?? code}) before listening; output:\n${serveOutput}`))
    })
  })
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: resolve(RESULTS, `console-${name}.png`), fullPage: true })
}

function treeRow(path: string): Locator {
  return page.locator(`[data-testid="tree-node"][data-path="${path}"]`)
}

/** Selects a tree row and waits for the operations panel to show it. */
async function selectNode(path: string): Promise<Locator> {
  await treeRow(path).click()
  const panel = page.locator(`[data-testid="operations-panel"][data-path="${path}"]`)
  await panel.waitFor({ timeout: STEP_MS })
  return panel
}

/** Waits for an operation's result to finish and returns its LwM2M code. */
async function resultCode(panel: Locator, testid: string): Promise<string> {
  const result = panel.locator(`[data-testid="${testid}"]`)
  await result.locator(`[data-testid="${testid}-code"]`).waitFor({ timeout: STEP_MS })
  return ((await result.locator(`[data-testid="${testid}-code"]`).textContent()) ?? '').trim()
}

async function expandIfClosed(path: string): Promise<void> {
  const row = treeRow(path)
  if ((await row.getAttribute('aria-expanded')) === 'false') await row.locator('[data-testid="tree-toggle"]').click()
  await expect.poll(() => row.getAttribute('aria-expanded'), { timeout: STEP_MS }).toBe('true')
}

describe('browser console (objecttwin serve + Chromium)', () => {
  beforeAll(async () => {
    if (!existsSync(RENDERER_INDEX)) {
      throw new Error(`the built UI is missing (${RENDERER_INDEX}): run \`npm run build\` first (\`npm test\` builds before running vitest)`)
    }
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`)
    mkdirSync(RESULTS, { recursive: true })
    const ports = await startServe()
    httpPort = ports.http
    coapPort = ports.coap
    client = await TestClient.start({ endpoint: ENDPOINT, serverPort: coapPort })
    expect((await client.register()).code).toBe('2.01')
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    })
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, colorScheme: 'light' })
    page.on('pageerror', (e) => {
      serveOutput += `\n[page error] ${e.message}`
    })
    await page.goto(`http://127.0.0.1:${httpPort}/`)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await client?.close()
    if (serve?.pid !== undefined && serve.exitCode === null) {
      const exited = new Promise((r) => serve?.once('exit', r))
      process.kill(serve.pid, 'SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
      if (serve.exitCode === null && serve.signalCode === null) process.kill(serve.pid, 'SIGKILL')
    }
  })

  it('serves the UI with a strict CSP', async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'")
    expect(await res.text()).toContain('<div id="app">')
  })

  it('lists the registered client, live, with its twins', async () => {
    const row = page.locator(`[data-testid="client-row"][data-endpoint="${ENDPOINT}"]`)
    await row.waitFor({ timeout: STEP_MS })
    await expect.poll(() => row.getAttribute('data-status'), { timeout: STEP_MS }).toBe('online')
    expect((await row.locator('[data-testid="client-twins"]').textContent())?.trim()).toMatch(/^1\b/)
    await expect.poll(() => page.getByTestId('connection-state').getAttribute('data-state'), { timeout: STEP_MS }).toBe('open')
    await page.getByTestId('client-search').fill('no-such-client')
    await page.getByTestId('clients-empty').waitFor({ timeout: STEP_MS })
    await page.getByTestId('client-search').fill('ecg-patch')
    await row.waitFor({ timeout: STEP_MS })
    await shot('clients')
  })

  it('shows the object tree with /3 Device and its named resources', async () => {
    await page.locator(`[data-testid="client-row"][data-endpoint="${ENDPOINT}"]`).click()
    await page.getByTestId('view-client').waitFor({ timeout: STEP_MS })
    const device = treeRow('/3')
    await device.waitFor({ timeout: STEP_MS })
    expect(await device.getByTestId('node-name').textContent()).toBe('Device')
    await expandIfClosed('/3/0')
    expect(await treeRow('/3/0/0').getByTestId('node-name').textContent()).toBe('Manufacturer')
    expect(await treeRow('/3/0/4').getByTestId('node-name').textContent()).toBe('Reboot')
    expect(await treeRow('/3/0/0').getByTestId('node-type').textContent()).toBe('string')
    await shot('client-tree')
  })

  it('reads a resource and shows its value', async () => {
    const panel = await selectNode('/3/0/0')
    await panel.getByTestId('op-read').click()
    expect(await resultCode(panel, 'op-result-read')).toMatch(/^2\.05/)
    await expect.poll(() => treeRow('/3/0/0').getByTestId('node-value').textContent(), { timeout: STEP_MS }).toBe('Open Mobile Alliance')
    // From the keyboard: the next row, and Enter reads it.
    await treeRow('/3/0/0').focus()
    await page.keyboard.press('ArrowDown')
    await expect.poll(() => treeRow('/3/0/1').getAttribute('aria-selected'), { timeout: STEP_MS }).toBe('true')
    await page.keyboard.press('Enter')
    await expect.poll(() => treeRow('/3/0/1').getByTestId('node-value').textContent(), { timeout: STEP_MS }).toBe('Lightweight M2M Client')
    await shot('read')
  })

  it('writes the sampling rate /1031/0/2 = 120 and reads it back', async () => {
    // The twin has no model on the server: reading the instance shows its resources and their types.
    const instance = await selectNode('/1031/0')
    await instance.getByTestId('op-read').click()
    expect(await resultCode(instance, 'op-result-read')).toMatch(/^2\.05/)
    await expect.poll(() => treeRow('/1031/0/2').getByTestId('node-value').textContent(), { timeout: STEP_MS }).toContain('250')

    const panel = await selectNode('/1031/0/2')
    await panel.getByTestId('op-write-input').fill('120')
    await panel.getByTestId('op-write-input').press('Enter')
    expect(await resultCode(panel, 'op-result-write')).toMatch(/^2\.04/)
    expect(client?.get('/1031/0/2')).toBe(120)

    await panel.getByTestId('op-read').click()
    await expect.poll(() => treeRow('/1031/0/2').getByTestId('node-value').textContent(), { timeout: STEP_MS }).toContain('120')
    expect(await resultCode(panel, 'op-result-read')).toMatch(/^2\.05/)
    await shot('write')
  })

  it('executes a resource', async () => {
    const panel = await selectNode('/3/0/4')
    await panel.getByTestId('op-execute').click()
    expect(await resultCode(panel, 'op-result-execute')).toMatch(/^2\.04/)
    expect(client?.executions.map((e) => e.path)).toContain('/3/0/4')
    await shot('execute')
  })

  it('observes the ECG samples and shows each notification, then cancels', async () => {
    const panel = await selectNode('/1031/0/1')
    await panel.getByTestId('op-observe').click()
    expect(await resultCode(panel, 'op-result-observe')).toMatch(/^2\.05/)
    await treeRow('/1031/0/1').getByTestId('observed-icon').waitFor({ timeout: STEP_MS })
    await expect.poll(() => client?.activeObservations().length ?? 0, { timeout: STEP_MS }).toBe(1)

    const samples = (values: number[], start: number) => values.map((value, i) => ({ path: parsePath('/1031/0/1'), value, type: 'integer' as const, time: start + i / 150 }))
    const t0 = Math.floor(Date.now() / 1000)
    for (const [n, batch] of [[1, [11, 12, 777]], [2, [-5, 40, 888]]] as const) {
      client?.notify('/1031/0/1', samples([...batch], t0 + n))
      const last = String(batch[batch.length - 1])
      await expect.poll(() => treeRow('/1031/0/1').getByTestId('node-value').textContent(), { timeout: STEP_MS }).toBe(last)
    }
    expect(await treeRow('/1031/0/1').getByTestId('node-value').getAttribute('data-source')).toBe('notification')
    await shot('observe')

    await panel.getByTestId('op-cancel-observe').click()
    expect(await resultCode(panel, 'op-result-cancel')).toContain('cancelled 1')
    await expect.poll(() => treeRow('/1031/0/1').getByTestId('observed-icon').count(), { timeout: STEP_MS }).toBe(0)
  })

  it('keeps the event log and the wire log, filterable', async () => {
    await page.getByTestId('nav-events').click()
    await page.getByTestId('view-events').waitFor({ timeout: STEP_MS })
    await page.locator('[data-testid="event-row"][data-kind="notification"]').first().waitFor({ timeout: STEP_MS })
    // The registration came before the page opened: an Update shows live.
    expect((await client?.update())?.code).toBe('2.04')
    await page.getByTestId('events-kind').selectOption('registration')
    await page.locator('[data-testid="event-row"][data-kind="updated"]').first().waitFor({ timeout: STEP_MS })
    expect(await page.locator('[data-testid="event-row"][data-kind="notification"]').count()).toBe(0)
    await shot('event-log')

    await page.getByTestId('nav-wire').click()
    await page.getByTestId('view-wire').waitFor({ timeout: STEP_MS })
    await page.locator('[data-testid="wire-row"][data-direction="out"]').first().waitFor({ timeout: STEP_MS })
    await page.getByTestId('wire-direction').selectOption('in')
    await expect.poll(() => page.locator('[data-testid="wire-row"][data-direction="out"]').count(), { timeout: STEP_MS }).toBe(0)
    expect(await page.locator('[data-testid="wire-row"][data-direction="in"]').count()).toBeGreaterThan(0)
    await shot('wire-log')
  })

  it('switches to the dark theme and keeps the payload inspector as a tool', async () => {
    await page.getByTestId('nav-inspector').click()
    await page.getByTestId('view-inspector').waitFor({ timeout: STEP_MS })
    await page.getByTestId('theme-toggle').click()
    await expect.poll(() => page.locator('html').getAttribute('data-theme'), { timeout: STEP_MS }).toBe('dark')
    await shot('inspector-dark')
    await page.goto(`http://127.0.0.1:${httpPort}/#/clients/${ENDPOINT}/1031/0/2`)
    await page.locator('[data-testid="operations-panel"][data-path="/1031/0/2"]').waitFor({ timeout: STEP_MS })
    await shot('client-dark')
    expect(serveOutput).not.toContain('[page error]')
  })
})
