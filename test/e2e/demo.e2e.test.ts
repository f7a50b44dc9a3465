/**
 * The demo console end to end: `objecttwin serve --demo` as a child process (its local gateway on the
 * virtual radio, registered over real CoAP), the built UI driven in Debian's Chromium. What a new user
 * sees: the gateway in the list, its twins named in the tree, the ECG twin read, written and observed
 * live, its adaptive sampling shown and changed, and a sensor disconnected from the gateway panel taking
 * its twins with it.
 * Screenshots of each view go to test-results/demo-*.png.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ControlStatus } from '../../shared/api/control-schemas.ts'
import type { GatewayStatus } from '../../shared/api/gateway-schemas.ts'
import type { ObjectModelJson } from '../../shared/api/schemas.ts'
import { checkBrowserPrerequisites, ConsolePage, launchChromium, STEP_MS } from '../support/console-page.ts'
import { jsonRequest } from '../support/http-client.ts'
import { startObjecttwin, type RunningObjecttwin } from '../support/run-objecttwin.ts'
import { hostLacks } from '../support/host-tools.ts'

let serve: RunningObjecttwin | undefined
let browser: Browser | undefined
let page: Page
let ui: ConsolePage
let base = ''
const pageErrors: string[] = []

/** The demo gateway as the API reports it, and the twins the test works with. */
let gateway: GatewayStatus
let ecgAddress = ''
let ecgObject = 0
let hrControlPoint = ''

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await jsonRequest(method, `${base}/api${path}`, body)
  if (res.status >= 400) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(res.json)}`)
  return res.json as T
}

/** The twin of the connected sensor whose twin is named `service` ('ECG', 'Heart Rate'). */
function twinOf(status: GatewayStatus, service: string): { address: string; objectId: number } {
  for (const s of status.sensors) {
    const twin = s.twins.find((t) => t.name === service)
    if (twin) return { address: s.address, objectId: twin.objectId }
  }
  throw new Error(`the demo gateway has no ${service} twin: ${JSON.stringify(status.sensors)}`)
}

/** The trace canvas of the ECG monitor for this path, as a PNG data URL (what is drawn now). */
function traceImage(path: string): Promise<string> {
  return page.locator(`[data-testid="ecg-monitor"][data-path="${path}"] [data-testid="ecg-trace"] canvas`).first().evaluate((c) => (c as unknown as { toDataURL(): string }).toDataURL())
}

// Each step waits on conditions (up to STEP_MS each); a test holds several on a loaded machine.
describe.skipIf(hostLacks('chromium', 'posix-signals'))('demo console (objecttwin serve --demo + Chromium)', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    checkBrowserPrerequisites()
    serve = startObjecttwin(['serve', '--demo', '--memory', '--http-port', '0', '--coap-port', '0'])
    const ports = await serve.line(/listening http=(\d+) coap=(\d+)/, 30_000)
    base = `http://127.0.0.1:${ports[1]}`
    // The demo's sensors connect on their own; wait until the ECG and HR twins exist.
    // The demo's sensors connect on their own: wait until the ECG and HR twins exist and the server has their models.
    for (const deadline = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 200))) {
      gateway = await api<GatewayStatus>('GET', '/gateway')
      const names = gateway.sensors.flatMap((s) => s.twins.map((t) => t.name))
      if (gateway.registered && names.includes('ECG') && names.includes('Heart Rate')) {
        const hr = twinOf(gateway, 'Heart Rate')
        const models = await api<ObjectModelJson[]>('GET', `/clients/${encodeURIComponent(gateway.endpoint)}/models`)
        const execute = models.find((m) => m.id === hr.objectId)?.resources.find((r) => r.operations === 'E')
        if (execute && models.some((m) => m.id === twinOf(gateway, 'ECG').objectId)) {
          hrControlPoint = `/${hr.objectId}/0/${execute.id}`
          break
        }
      }
      if (Date.now() > deadline) throw new Error(`the demo gateway did not show its ECG and HR twins with their models within 30 s: ${JSON.stringify(gateway)}`)
    }
    ;({ address: ecgAddress, objectId: ecgObject } = twinOf(gateway, 'ECG'))

    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, colorScheme: 'light' })
    ui = new ConsolePage(page, 'demo')
    page.on('pageerror', (e) => pageErrors.push(e.message))
    await page.goto(`${base}/`)
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await serve?.stop('SIGTERM', 5000)
  })

  it('lists the demo gateway with its twins', async () => {
    const row = page.locator(`[data-testid="client-row"][data-endpoint="${gateway.endpoint}"]`)
    await row.waitFor({ timeout: STEP_MS })
    await expect.poll(() => row.getAttribute('data-status'), { timeout: STEP_MS }).toBe('online')
    // As many twins as the gateway has made (the thermometer may still be connecting: both move together).
    await expect.poll(async () => {
      const shown = Number.parseInt((await row.getByTestId('client-twins').textContent()) ?? '', 10)
      const made = (await api<GatewayStatus>('GET', '/gateway')).sensors.reduce((n, s) => n + s.twins.length, 0)
      return shown === made && shown >= 2
    }, { timeout: STEP_MS }).toBe(true)
    await ui.shot('clients')
  })

  it("shows the ECG service's twin with named resources", async () => {
    await page.locator(`[data-testid="client-row"][data-endpoint="${gateway.endpoint}"]`).click()
    await page.getByTestId('view-client').waitFor({ timeout: STEP_MS })
    const ecg = ui.treeRow(`/${ecgObject}`)
    await ecg.waitFor({ timeout: STEP_MS })
    await expect.poll(() => ecg.getByTestId('node-name').textContent(), { timeout: STEP_MS }).toMatch(/^ECG\b/)
    expect(await ecg.getByTestId('twin-badge').count()).toBe(1)
    await ui.expandIfClosed(`/${ecgObject}/0`)
    await expect.poll(() => ui.treeRow(`/${ecgObject}/0/2`).getByTestId('node-name').textContent(), { timeout: STEP_MS }).toMatch(/sampling rate/i)
    expect(await ui.treeRow(`/${ecgObject}/0/1`).getByTestId('node-name').textContent()).toMatch(/ECG/)
    expect(await ui.treeRow(`/${ecgObject}/0/2`).getByTestId('node-type').textContent()).toBe('integer')
    await ui.shot('tree')
  })

  it('reads the sampling rate (150), writes 120 and reads it back', async () => {
    const rate = `/${ecgObject}/0/2`
    const panel = await ui.selectNode(rate)
    await panel.getByTestId('op-read').click()
    expect(await ui.resultCode(panel, 'op-result-read')).toMatch(/^2\.05/)
    await expect.poll(() => ui.treeRow(rate).getByTestId('node-value').textContent(), { timeout: STEP_MS }).toMatch(/^150\b/)

    await panel.getByTestId('op-write-input').fill('120')
    await panel.getByTestId('op-write-input').press('Enter')
    expect(await ui.resultCode(panel, 'op-result-write')).toMatch(/^2\.04/)
    await panel.getByTestId('op-read').click()
    await expect.poll(() => ui.treeRow(rate).getByTestId('node-value').textContent(), { timeout: STEP_MS }).toMatch(/^120\b/)
    // The sensor itself took it: the server reads 120 too.
    const read = await api<{ code: string; records: { value: unknown }[] }>('GET', `/clients/${encodeURIComponent(gateway.endpoint)}${rate}`)
    expect(read.records[0]?.value).toBe(120)
    await ui.shot('write')
  })

  it("executes the heart-rate sensor's control point", async () => {
    const panel = await ui.selectNode(hrControlPoint)
    await panel.getByTestId('op-execute').click()
    expect(await ui.resultCode(panel, 'op-result-execute')).toMatch(/^2\.04/)
    await ui.shot('execute')
  })

  it('observes the ECG and draws it live, frame after frame, then cancels', async () => {
    const samples = `/${ecgObject}/0/1`
    const panel = await ui.selectNode(samples)
    await panel.getByTestId('op-observe').click()
    expect(await ui.resultCode(panel, 'op-result-observe')).toMatch(/^2\.05/)
    const monitor = page.locator(`[data-testid="ecg-monitor"][data-path="${samples}"]`)
    await monitor.waitFor({ timeout: STEP_MS })
    await expect.poll(() => monitor.getByTestId('ecg-signal').textContent(), { timeout: STEP_MS }).toBe('live')
    expect(await monitor.getAttribute('aria-label')).toMatch(/ECG monitor ECG\b/)
    // Three seconds of samples at 120 Hz, so the screenshot shows beats.
    await expect.poll(async () => Number(await monitor.getAttribute('data-samples')), { timeout: STEP_MS }).toBeGreaterThan(360)
    // The sweep moves: what the canvas holds changes from one frame to a later one.
    const first = await traceImage(samples)
    await expect.poll(() => traceImage(samples), { timeout: STEP_MS }).not.toBe(first)
    const second = await traceImage(samples)
    await expect.poll(() => traceImage(samples), { timeout: STEP_MS }).not.toBe(second)
    await ui.shot('ecg-monitor')

    // The same stream on the ECG wall.
    await page.getByTestId('nav-wall').click()
    const tile = page.locator(`[data-testid="view-wall"] [data-testid="ecg-monitor"][data-path="${samples}"]`)
    await tile.waitFor({ timeout: STEP_MS })
    await expect.poll(() => tile.getByTestId('ecg-signal').textContent(), { timeout: STEP_MS }).toBe('live')
    await ui.shot('ecg-wall')

    await page.goBack()
    const again = await ui.selectNode(samples)
    await again.getByTestId('op-cancel-observe').click()
    expect(await ui.resultCode(again, 'op-result-cancel')).toContain('cancelled 1')
    await expect.poll(() => ui.treeRow(samples).getByTestId('observed-icon').count(), { timeout: STEP_MS }).toBe(0)
    await expect.poll(() => monitor.count(), { timeout: STEP_MS }).toBe(0)
  })

  it("shows the ECG device's adaptive sampling, turns it off, changes the threshold and shows a refused change", async () => {
    const ep = encodeURIComponent(gateway.endpoint)
    const control = (): Promise<ControlStatus> => api<ControlStatus>('GET', `/clients/${ep}/control`)
    await page.goto(`${base}/#/clients/${ep}`)
    const panel = page.getByTestId('control-panel')
    await panel.waitFor({ timeout: STEP_MS })
    // The ECG twin's sampling rate is under control, with the rate the console last read or wrote.
    const loop = panel.locator(`[data-testid="control-loop"][data-path="/${ecgObject}/0/2"]`)
    await loop.waitFor({ timeout: STEP_MS })
    await expect.poll(() => loop.getByTestId('control-rate').textContent(), { timeout: STEP_MS }).toMatch(/^\d+ Hz$/)
    expect(await panel.getAttribute('data-enabled')).toBe('true')
    expect(await panel.getByTestId('control-threshold').inputValue()).toBe('2')
    await ui.shot('control')

    await panel.getByTestId('control-enabled').uncheck()
    await panel.getByTestId('control-apply').click()
    await expect.poll(async () => (await control()).settings.enabled, { timeout: STEP_MS }).toBe(false)
    await expect.poll(() => panel.getAttribute('data-enabled'), { timeout: STEP_MS }).toBe('false')
    await expect.poll(() => loop.getAttribute('data-state'), { timeout: STEP_MS }).toBe('off')

    await panel.getByTestId('control-threshold').fill('5')
    await panel.getByTestId('control-apply').click()
    await expect.poll(async () => (await control()).settings.threshold, { timeout: STEP_MS }).toBe(0.05)
    expect((await control()).settings.enabled).toBe(false)
    expect(await panel.getByTestId('control-threshold').inputValue()).toBe('5')

    // min > max: the console refuses it and says why; nothing changes.
    await panel.getByTestId('control-min-rate').fill('600')
    await panel.getByTestId('control-max-rate').fill('500')
    await panel.getByTestId('control-apply').click()
    await expect.poll(() => panel.getByTestId('control-error').textContent(), { timeout: STEP_MS }).toMatch(/minRate must not exceed maxRate/)
    expect((await control()).settings).toMatchObject({ minRate: 50, maxRate: 500, threshold: 0.05 })
    await ui.shot('control-refused')

    // Back as it was for the next steps: the form reverted, the control on again.
    await panel.getByTestId('control-revert').click()
    expect(await panel.getByTestId('control-error').count()).toBe(0)
    expect(await panel.getByTestId('control-min-rate').inputValue()).toBe('50')
    await panel.getByTestId('control-enabled').check()
    await panel.getByTestId('control-apply').click()
    await expect.poll(async () => (await control()).settings.enabled, { timeout: STEP_MS }).toBe(true)
  })

  it("shows the gateway panel and changes a virtual sensor's link", async () => {
    await page.getByTestId('nav-gateway').click()
    await page.getByTestId('view-gateway').waitFor({ timeout: STEP_MS })
    await expect.poll(() => page.getByTestId('gateway-state').getAttribute('data-running'), { timeout: STEP_MS }).toBe('true')
    const sensorRow = page.locator(`[data-testid="sensor-row"][data-address="${ecgAddress}"]`)
    await sensorRow.waitFor({ timeout: STEP_MS })
    expect(await sensorRow.locator(`[data-testid="sensor-twin"][data-object-id="${ecgObject}"]`).count()).toBe(1)
    await expect.poll(() => sensorRow.getByTestId('sensor-rssi').textContent(), { timeout: STEP_MS }).toMatch(/-\d+ dBm/)

    const virtualId = gateway.virtualSensors?.find((v) => v.address === ecgAddress)?.id
    expect(virtualId).toBeDefined()
    const link = page.locator(`[data-testid="virtual-row"][data-sensor="${virtualId}"]`)
    await link.getByTestId('virtual-interference').fill('0.3')
    await link.getByTestId('virtual-interference').press('Enter')
    await expect.poll(async () => (await api<GatewayStatus>('GET', '/gateway')).virtualSensors?.find((v) => v.id === virtualId)?.interference, { timeout: STEP_MS }).toBe(0.3)
    // The demo's links retry notifications at the link layer until the box is cleared.
    const retries = link.getByTestId('virtual-retries')
    expect(await retries.isChecked()).toBe(true)
    await retries.uncheck()
    await expect.poll(async () => (await api<GatewayStatus>('GET', '/gateway')).virtualSensors?.find((v) => v.id === virtualId)?.linkLayerRetries, { timeout: STEP_MS }).toBe(false)
    expect(await page.getByTestId('gateway-op-error').count()).toBe(0)
    await ui.shot('gateway')
  })

  it('disconnects a sensor in the gateway panel, and its twins leave the tree', async () => {
    const sensorRow = page.locator(`[data-testid="sensor-row"][data-address="${ecgAddress}"]`)
    await sensorRow.getByTestId('sensor-disconnect').click()
    await expect.poll(() => sensorRow.count(), { timeout: STEP_MS }).toBe(0)
    expect(await page.getByTestId('gateway-op-error').count()).toBe(0)
    await ui.shot('gateway-disconnected')

    await page.goto(`${base}/#/clients/${encodeURIComponent(gateway.endpoint)}`)
    await page.getByTestId('view-client').waitFor({ timeout: STEP_MS })
    const hr = twinOf(gateway, 'Heart Rate')
    await ui.treeRow(`/${hr.objectId}`).waitFor({ timeout: STEP_MS })
    await expect.poll(() => ui.treeRow(`/${ecgObject}`).count(), { timeout: STEP_MS }).toBe(0)
    await ui.shot('tree-after-disconnect')
  })

  it('logs the gateway and the CoAP exchanges', async () => {
    await page.getByTestId('nav-events').click()
    await page.getByTestId('view-events').waitFor({ timeout: STEP_MS })
    await page.getByTestId('events-kind').selectOption('gateway')
    await page.locator('[data-testid="event-row"][data-kind="gateway"]').first().waitFor({ timeout: STEP_MS })
    await ui.shot('event-log')
    await page.getByTestId('nav-wire').click()
    await page.locator('[data-testid="wire-row"]').first().waitFor({ timeout: STEP_MS })
    await ui.shot('wire-log')
    expect(pageErrors).toEqual([])
  })
})
