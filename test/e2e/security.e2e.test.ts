/**
 * The Security tab end to end: the real `objecttwin serve`, the built UI in Chromium. An identity is added with a
 * generated key (shown once, then gone from the page), listed without its key, replaced and deleted; the NoSec
 * policy toggles; and the key the page generated is the one the console's DTLS server now accepts.
 */
import { type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkBrowserPrerequisites, ConsolePage, launchChromium, STEP_MS } from '../support/console-page.ts'
import { jsonRequest } from '../support/http-client.ts'
import { startObjecttwin, type RunningObjecttwin } from '../support/run-objecttwin.ts'
import { hostLacks } from '../support/host-tools.ts'
import { Lwm2mClient, type ClientEvent } from '../../electron/client/lwm2m-client.ts'

let serve: RunningObjecttwin | undefined
let browser: Browser | undefined
let page: Page
let ui: ConsolePage
let base = ''
let coapsPort = 0
const pageErrors: string[] = []

describe.skipIf(hostLacks('chromium', 'posix-signals'))('Security tab (objecttwin serve + Chromium)', () => {
  beforeAll(async () => {
    checkBrowserPrerequisites()
    serve = startObjecttwin(['serve', '--memory', '--http-port', '0', '--coap-port', '0'])
    const [, httpPort, , securePort] = await serve.line(/listening http=(\d+) coap=(\d+) coaps=(\d+)/, 20_000)
    base = `http://127.0.0.1:${httpPort}`
    coapsPort = Number(securePort)
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, colorScheme: 'light' })
    ui = new ConsolePage(page, 'security')
    page.on('pageerror', (e) => pageErrors.push(e.message))
    page.on('dialog', (dialog) => void dialog.accept())
    await page.goto(`${base}/#/security`)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await serve?.stop('SIGTERM', 5000)
  })

  it('adds an identity with a generated key, shown once, and the gateway registers over DTLS with it', async () => {
    await page.getByTestId('view-security').waitFor({ timeout: STEP_MS })
    await page.getByTestId('security-empty').waitFor({ timeout: STEP_MS })
    await page.getByTestId('security-endpoint').fill('ecg-ward-3')
    await page.getByTestId('security-identity').fill('ecg-ward-3-id')
    await page.getByTestId('security-generate').click()
    const key = (await page.getByTestId('security-generated-key').textContent()) ?? ''
    expect(key).toMatch(/^[0-9a-f]{32}$/)
    await ui.shot('generated-key')
    await page.getByTestId('security-save').click()

    await page.getByTestId('security-row-ecg-ward-3').waitFor({ timeout: STEP_MS })
    expect(await page.getByTestId('security-row-ecg-ward-3').textContent()).toContain('ecg-ward-3-id')
    // Write-only: after saving, the key is nowhere on the page, and the API never returns it.
    expect(await page.getByTestId('security-generated-key').count()).toBe(0)
    expect(await page.content()).not.toContain(key)
    expect(JSON.stringify((await jsonRequest('GET', `${base}/api/security`)).json)).not.toContain(key)
    await ui.shot('listed')

    const client = new Lwm2mClient({ endpoint: 'ecg-ward-3', serverUri: `coaps://127.0.0.1:${coapsPort}`, psk: { identity: 'ecg-ward-3-id', key: Buffer.from(key, 'hex') }, requestTimeoutMs: 3000, retryInitialMs: 60_000 })
    const seen: ClientEvent[] = []
    client.onEvent((e) => seen.push(e))
    try {
      await client.start()
      expect(client.state, JSON.stringify(seen)).toBe('registered')
    } finally {
      await client.stop()
    }
  })

  it('says what is wrong with an entry, toggles the NoSec policy, replaces and deletes', async () => {
    await page.getByTestId('security-endpoint').fill('bad-key')
    await page.getByTestId('security-identity').fill('bad-key-id')
    await page.getByTestId('security-key').fill('0011')
    await page.getByTestId('security-save').click()
    await expect.poll(() => page.getByTestId('security-error').textContent(), { timeout: STEP_MS }).toBe('key: key must be at least 8 bytes (16 hex digits)')
    await page.getByTestId('security-clear').click()

    await page.getByTestId('security-refuse-nosec').check()
    await expect.poll(async () => ((await jsonRequest('GET', `${base}/api/security-policy`)).json as { refuseNoSec: boolean }).refuseNoSec, { timeout: STEP_MS }).toBe(true)
    await page.getByTestId('security-refuse-nosec').uncheck()
    await expect.poll(async () => ((await jsonRequest('GET', `${base}/api/security-policy`)).json as { refuseNoSec: boolean }).refuseNoSec, { timeout: STEP_MS }).toBe(false)

    const row = page.getByTestId('security-row-ecg-ward-3')
    await row.getByTestId('security-replace').click()
    expect(await page.getByTestId('security-endpoint').inputValue()).toBe('ecg-ward-3')
    expect(await page.getByTestId('security-key').inputValue()).toBe('')
    await page.getByTestId('security-mode').selectOption('nosec')
    await page.getByTestId('security-save').click()
    await expect.poll(() => row.textContent(), { timeout: STEP_MS }).toContain('NoSec')

    await row.getByTestId('security-delete').click()
    await page.getByTestId('security-empty').waitFor({ timeout: STEP_MS })
    expect(pageErrors).toEqual([])
  })
})
