/**
 * The browser console end to end: the real `objecttwin serve` as a child process, the test client
 * registered over real CoAP, the built UI driven in Debian's Chromium (playwright-core). Screenshots
 * of each view go to test-results/.
 */
import { type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parsePath } from '../../shared/lwm2m/path.ts'
import { checkBrowserPrerequisites, ConsolePage, launchChromium, STEP_MS } from '../support/console-page.ts'
import { startObjecttwin, type RunningObjecttwin } from '../support/run-objecttwin.ts'
import { TestClient } from '../support/test-client.ts'
import { hostLacks } from '../support/host-tools.ts'

const ENDPOINT = 'e2e-ecg-patch-01'

let serve: RunningObjecttwin | undefined
let browser: Browser | undefined
let page: Page
let ui: ConsolePage
let client: TestClient | undefined
let httpPort = 0
let coapPort = 0
const pageErrors: string[] = []

describe.skipIf(hostLacks('chromium', 'posix-signals'))('browser console (objecttwin serve + Chromium)', () => {
  beforeAll(async () => {
    checkBrowserPrerequisites()
    serve = startObjecttwin(['serve', '--memory', '--http-port', '0', '--coap-port', '0'])
    const ports = await serve.line(/listening http=(\d+) coap=(\d+)/, 20_000)
    httpPort = Number(ports[1])
    coapPort = Number(ports[2])
    client = await TestClient.start({ endpoint: ENDPOINT, serverPort: coapPort })
    expect((await client.register()).code).toBe('2.01')
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, colorScheme: 'light' })
    ui = new ConsolePage(page, 'console')
    page.on('pageerror', (e) => pageErrors.push(e.message))
    await page.goto(`http://127.0.0.1:${httpPort}/`)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await client?.close()
    await serve?.stop('SIGTERM', 5000)
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
    await ui.shot('clients')
  })

  it('shows the object tree with /3 Device and its named resources', async () => {
    await page.locator(`[data-testid="client-row"][data-endpoint="${ENDPOINT}"]`).click()
    await page.getByTestId('view-client').waitFor({ timeout: STEP_MS })
    const device = ui.treeRow('/3')
    await device.waitFor({ timeout: STEP_MS })
    expect(await device.getByTestId('node-name').textContent()).toBe('Device')
    await ui.expandIfClosed('/3/0')
    expect(await ui.treeRow('/3/0/0').getByTestId('node-name').textContent()).toBe('Manufacturer')
    expect(await ui.treeRow('/3/0/4').getByTestId('node-name').textContent()).toBe('Reboot')
    expect(await ui.treeRow('/3/0/0').getByTestId('node-type').textContent()).toBe('string')
    await ui.shot('client-tree')
  })

  it('reads a resource and shows its value', async () => {
    const panel = await ui.selectNode('/3/0/0')
    await panel.getByTestId('op-read').click()
    expect(await ui.resultCode(panel, 'op-result-read')).toMatch(/^2\.05/)
    await expect.poll(() => ui.treeRow('/3/0/0').getByTestId('node-value').textContent(), { timeout: STEP_MS }).toBe('Open Mobile Alliance')
    // From the keyboard: the next row, and Enter reads it.
    await ui.treeRow('/3/0/0').focus()
    await page.keyboard.press('ArrowDown')
    await expect.poll(() => ui.treeRow('/3/0/1').getAttribute('aria-selected'), { timeout: STEP_MS }).toBe('true')
    await page.keyboard.press('Enter')
    await expect.poll(() => ui.treeRow('/3/0/1').getByTestId('node-value').textContent(), { timeout: STEP_MS }).toBe('Lightweight M2M Client')
    await ui.shot('read')
  })

  it('writes the sampling rate /1031/0/2 = 120 and reads it back', async () => {
    // The twin has no model on the server: reading the instance shows its resources and their types.
    const instance = await ui.selectNode('/1031/0')
    await instance.getByTestId('op-read').click()
    expect(await ui.resultCode(instance, 'op-result-read')).toMatch(/^2\.05/)
    await expect.poll(() => ui.treeRow('/1031/0/2').getByTestId('node-value').textContent(), { timeout: STEP_MS }).toContain('250')

    const panel = await ui.selectNode('/1031/0/2')
    await panel.getByTestId('op-write-input').fill('120')
    await panel.getByTestId('op-write-input').press('Enter')
    expect(await ui.resultCode(panel, 'op-result-write')).toMatch(/^2\.04/)
    expect(client?.get('/1031/0/2')).toBe(120)

    await panel.getByTestId('op-read').click()
    await expect.poll(() => ui.treeRow('/1031/0/2').getByTestId('node-value').textContent(), { timeout: STEP_MS }).toContain('120')
    expect(await ui.resultCode(panel, 'op-result-read')).toMatch(/^2\.05/)
    await ui.shot('write')
  })

  it('executes a resource', async () => {
    const panel = await ui.selectNode('/3/0/4')
    await panel.getByTestId('op-execute').click()
    expect(await ui.resultCode(panel, 'op-result-execute')).toMatch(/^2\.04/)
    expect(client?.executions.map((e) => e.path)).toContain('/3/0/4')
    await ui.shot('execute')
  })

  it('observes the ECG samples and shows each notification, then cancels', async () => {
    const panel = await ui.selectNode('/1031/0/1')
    await panel.getByTestId('op-observe').click()
    expect(await ui.resultCode(panel, 'op-result-observe')).toMatch(/^2\.05/)
    await ui.treeRow('/1031/0/1').getByTestId('observed-icon').waitFor({ timeout: STEP_MS })
    await expect.poll(() => client?.activeObservations().length ?? 0, { timeout: STEP_MS }).toBe(1)

    const samples = (values: number[], start: number) => values.map((value, i) => ({ path: parsePath('/1031/0/1'), value, type: 'integer' as const, time: start + i / 150 }))
    const t0 = Math.floor(Date.now() / 1000)
    for (const [n, batch] of [[1, [11, 12, 777]], [2, [-5, 40, 888]]] as const) {
      client?.notify('/1031/0/1', samples([...batch], t0 + n))
      const last = String(batch[batch.length - 1])
      await expect.poll(() => ui.treeRow('/1031/0/1').getByTestId('node-value').textContent(), { timeout: STEP_MS }).toBe(last)
    }
    expect(await ui.treeRow('/1031/0/1').getByTestId('node-value').getAttribute('data-source')).toBe('notification')
    await ui.shot('observe')

    await panel.getByTestId('op-cancel-observe').click()
    expect(await ui.resultCode(panel, 'op-result-cancel')).toContain('cancelled 1')
    await expect.poll(() => ui.treeRow('/1031/0/1').getByTestId('observed-icon').count(), { timeout: STEP_MS }).toBe(0)
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
    await ui.shot('event-log')

    await page.getByTestId('nav-wire').click()
    await page.getByTestId('view-wire').waitFor({ timeout: STEP_MS })
    await page.locator('[data-testid="wire-row"][data-direction="out"]').first().waitFor({ timeout: STEP_MS })
    await page.getByTestId('wire-direction').selectOption('in')
    await expect.poll(() => page.locator('[data-testid="wire-row"][data-direction="out"]').count(), { timeout: STEP_MS }).toBe(0)
    expect(await page.locator('[data-testid="wire-row"][data-direction="in"]').count()).toBeGreaterThan(0)
    await ui.shot('wire-log')
  })

  it('switches to the dark theme and keeps the payload inspector as a tool', async () => {
    await page.getByTestId('nav-inspector').click()
    await page.getByTestId('view-inspector').waitFor({ timeout: STEP_MS })
    await page.getByTestId('theme-toggle').click()
    await expect.poll(() => page.locator('html').getAttribute('data-theme'), { timeout: STEP_MS }).toBe('dark')
    await ui.shot('inspector-dark')
    await page.goto(`http://127.0.0.1:${httpPort}/#/clients/${ENDPOINT}/1031/0/2`)
    await page.locator('[data-testid="operations-panel"][data-path="/1031/0/2"]').waitFor({ timeout: STEP_MS })
    await ui.shot('client-dark')
    expect(pageErrors).toEqual([])
  })
})
