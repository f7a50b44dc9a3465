import { existsSync, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { chromium, type Browser, type Locator, type Page } from 'playwright-core'
import { expect } from 'vitest'

/**
 * Driving the built console UI in Debian's Chromium (playwright-core): the checks before a browser
 * test, the launch, and the selectors of the client view that several e2e tests share.
 */

const ROOT = resolve(import.meta.dirname, '../..')
export const RENDERER_INDEX = resolve(ROOT, 'out/renderer/index.html')
export const RESULTS_DIR = resolve(ROOT, 'test-results')
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
/** Generous: a cold child process and a first browser start on a loaded 2-core machine. */
export const STEP_MS = 20_000

/** Fails with what to do when the UI is not built or Chromium is missing; makes test-results/. */
export function checkBrowserPrerequisites(): void {
  if (!existsSync(RENDERER_INDEX)) {
    throw new Error(`the built UI is missing (${RENDERER_INDEX}): run \`npm run build\` first (\`npm test\` builds before running vitest)`)
  }
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`)
  mkdirSync(RESULTS_DIR, { recursive: true })
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
}

/** The console's client view in one page. */
export class ConsolePage {
  readonly page: Page
  readonly shotPrefix: string

  constructor(page: Page, shotPrefix: string) {
    this.page = page
    this.shotPrefix = shotPrefix
  }

  /** Saves test-results/<prefix>-<name>.png. */
  async shot(name: string): Promise<void> {
    await this.page.screenshot({ path: resolve(RESULTS_DIR, `${this.shotPrefix}-${name}.png`), fullPage: true })
  }

  treeRow(path: string): Locator {
    return this.page.locator(`[data-testid="tree-node"][data-path="${path}"]`)
  }

  /** Selects a tree row and waits for the operations panel to show it. */
  async selectNode(path: string): Promise<Locator> {
    await this.treeRow(path).click()
    const panel = this.page.locator(`[data-testid="operations-panel"][data-path="${path}"]`)
    await panel.waitFor({ timeout: STEP_MS })
    return panel
  }

  /** Waits for an operation's result to finish and returns its LwM2M code (or summary). */
  async resultCode(panel: Locator, testid: string): Promise<string> {
    const code = panel.locator(`[data-testid="${testid}"] [data-testid="${testid}-code"]`)
    await code.waitFor({ timeout: STEP_MS })
    return ((await code.textContent()) ?? '').trim()
  }

  async expandIfClosed(path: string): Promise<void> {
    const row = this.treeRow(path)
    if ((await row.getAttribute('aria-expanded')) === 'false') await row.locator('[data-testid="tree-toggle"]').click()
    await expect.poll(() => row.getAttribute('aria-expanded'), { timeout: STEP_MS }).toBe('true')
  }
}
