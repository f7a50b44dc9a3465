/**
 * The MQTT tab end to end: the real `objecttwin serve`, a real Mosquitto, the built UI in Chromium. The bridge is
 * off at first; the form turns it on with a user name and password, the status shows it connected and counting,
 * and the password never comes back to the page.
 */
import { type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkBrowserPrerequisites, ConsolePage, launchChromium, STEP_MS } from '../support/console-page.ts'
import { startBroker, type Broker } from '../support/mosquitto.ts'
import { startObjecttwin, type RunningObjecttwin } from '../support/run-objecttwin.ts'
import { hostLacks } from '../support/host-tools.ts'

const PASSWORD = 'e2e-broker-secret'

let broker: Broker | undefined
let serve: RunningObjecttwin | undefined
let browser: Browser | undefined
let page: Page
let ui: ConsolePage
let base = ''
const pageErrors: string[] = []

describe.skipIf(hostLacks('chromium', 'mosquitto', 'posix-signals'))('MQTT tab (objecttwin serve + Mosquitto + Chromium)', () => {
  beforeAll(async () => {
    checkBrowserPrerequisites()
    broker = await startBroker({ users: { console: PASSWORD } })
    serve = startObjecttwin(['serve', '--memory', '--http-port', '0', '--coap-port', '0'])
    const [, httpPort] = await serve.line(/listening http=(\d+)/, 20_000)
    base = `http://127.0.0.1:${httpPort}`
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, colorScheme: 'light' })
    ui = new ConsolePage(page, 'mqtt')
    page.on('pageerror', (e) => pageErrors.push(e.message))
    await page.goto(`${base}/#/mqtt`)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await serve?.stop('SIGTERM', 5000)
    await broker?.close()
  })

  it('shows the bridge off, then connects it from the form', async () => {
    await page.getByTestId('view-mqtt').waitFor({ timeout: STEP_MS })
    await expect.poll(() => page.getByTestId('mqtt-state').textContent(), { timeout: STEP_MS }).toBe('off')

    await page.getByTestId('mqtt-enabled').check()
    await page.getByTestId('mqtt-url').fill(broker?.url ?? '')
    await page.getByTestId('mqtt-username').fill('console')
    await page.getByTestId('mqtt-password').fill(PASSWORD)
    await page.getByTestId('mqtt-apply').click()

    await expect.poll(() => page.getByTestId('mqtt-state').getAttribute('data-state'), { timeout: STEP_MS }).toBe('connected')
    await expect.poll(async () => Number(await page.getByTestId('mqtt-published').textContent()), { timeout: STEP_MS }).toBeGreaterThan(0)
    // Write-only: the field is empty again, the page only knows that a password is set.
    expect(await page.getByTestId('mqtt-password').inputValue()).toBe('')
    expect(await page.getByTestId('mqtt-password').getAttribute('placeholder')).toContain('set')
    expect(await page.content()).not.toContain(PASSWORD)
    await ui.shot('connected')
  })

  it('shows why a setting is refused', async () => {
    await page.getByTestId('mqtt-url').fill('http://nowhere')
    await page.getByTestId('mqtt-apply').click()
    await expect.poll(() => page.getByTestId('mqtt-save-error').textContent(), { timeout: STEP_MS }).toMatch(/url must look like mqtt:\/\//)
    await page.getByTestId('mqtt-revert').click()
    expect(await page.getByTestId('mqtt-url').inputValue()).toBe(broker?.url)
    expect(pageErrors).toEqual([])
  })
})
