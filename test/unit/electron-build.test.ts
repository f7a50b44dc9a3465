import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * The electron-vite output (`npm test` builds before it runs vitest), which the installers pack: the
 * main bundle keeps native and heavy modules external, loads noble and electron-updater lazily and does
 * not need the HTTP server; the sandboxed preload is one file that requires nothing but `electron`; and
 * the main bundle starts under plain Node with a stand-in for `electron` (test/support/electron-stub).
 */

const root = join(import.meta.dirname, '../..')
const main = join(root, 'out/main/index.js')
const preload = join(root, 'out/preload/index.cjs')
const built = existsSync(main) && existsSync(preload)

/** Module specifiers of the static imports of an ES module. */
function staticImports(code: string): string[] {
  return [...code.matchAll(/^import\s+(?:[^'"]*?\s+from\s+)?["']([^"']+)["'];?$/gm)].map((m) => m[1] as string)
}

describe.skipIf(!built)('electron-vite build output', () => {
  it('keeps node:sqlite, coap and electron external, and never imports noble, fastify or node-dtls-client in main', () => {
    const code = readFileSync(main, 'utf8')
    const imports = staticImports(code)
    expect(imports).toEqual(expect.arrayContaining(['electron', 'electron-log/main', 'node:sqlite', 'coap']))
    // node-dtls-client needs a native module under Electron: loaded only when a coaps:// connection is made.
    expect(imports.filter((s) => s.includes('noble') || s.includes('fastify') || s.includes('electron-updater') || s.includes('node-dtls-client'))).toEqual([])
    // noble is native: required at first use through createRequire, from node_modules.
    expect(code).toMatch(/createRequire\(import\.meta\.url\)\("@stoprocent\/noble\/lib\/resolve-bindings\.js"\)/)
  })

  it('bundles the preload into one CommonJS file that requires only electron', () => {
    const code = readFileSync(preload, 'utf8')
    expect([...new Set([...code.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]))]).toEqual(['electron'])
    expect(code).toContain('exposeInMainWorld("objecttwin"')
    expect(code).not.toMatch(/^import\s/m)
  })
})

/** Runs `node --import <stub> out/main/index.js` until it exits; its output and exit code. */
function runMainBundle(userData: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', pathToFileURL(join(root, 'test/support/electron-stub/register.mjs')).href, main], {
    cwd: root,
    env: { ...process.env, OBJECTTWIN_STUB_USER_DATA: userData, OBJECTTWIN_COAP_PORT: '0', ELECTRON_RENDERER_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  // A bundle that hangs instead of quitting fails the test with its output, and is not left behind.
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000)
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

describe.skipIf(!built)('the main bundle under plain Node, with a stubbed electron', () => {
  it('starts the console engine, opens the window on the built page and preload, and quits cleanly', async () => {
    const userData = mkdtempSync(join(tmpdir(), 'ot-smoke-'))
    try {
      const { code, output } = await runMainBundle(userData)
      expect(output).toMatch(/LwM2M server listening on 127\.0\.0\.1 \(CoAP\/UDP IPv4 \d+/)
      expect(output).toContain(`data in ${userData}`)
      const window = /stub: window preload=(\S+) sandbox=true contextIsolation=true/.exec(output)
      expect(window?.[1]).toBe(preload)
      const page = /stub: window loadFile (\S+)/.exec(output)?.[1]
      expect(page && existsSync(page), `the page the window loads (${page}) is built`).toBe(true)
      expect(output).toContain('quitting: closing the console')
      expect(output).toContain('stub: app.exit 0')
      expect(code, output).toBe(0)
      expect(existsSync(join(userData, 'objecttwin.db'))).toBe(true)
    } finally {
      rmSync(userData, { recursive: true, force: true })
    }
  }, 60_000)
})
