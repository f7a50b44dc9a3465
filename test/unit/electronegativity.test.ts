import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

/**
 * Electronegativity (Doyensec's Electron security scanner) over the Electron shell: the main process and preload
 * sources and the page's CSP. No HIGH finding may be left. It runs offline: its CLI no longer starts with this
 * repo's commander, so its runner is called directly, and the two downloads it would make (fresh translations,
 * the list of Electron releases) are answered "not found" from here.
 */

const ROOT = resolve(import.meta.dirname, '../..')
const require = createRequire(import.meta.url)

interface Finding {
  readonly id: string
  readonly file: string
  readonly location?: { readonly line: number }
  readonly severity: { readonly name: string }
  readonly confidence: { readonly name: string }
}
interface ScanResult {
  readonly issues: readonly Finding[]
  readonly errors: ReadonlyArray<{ readonly file: string; readonly message: string; readonly tolerable: boolean }>
  readonly atomicChecks: number
  readonly globalChecks: number
}
type Runner = (options: Record<string, unknown>) => Promise<ScanResult>

function loadScanner(): Runner {
  const root = dirname(require.resolve('@doyensec/electronegativity/package.json'))
  for (const from of ['dist/locales', 'dist/finder/checks/GlobalChecks']) {
    const got = require.resolve('got', { paths: [join(root, from)] })
    require.cache[got] = { id: got, filename: got, loaded: true, exports: () => Promise.resolve({ statusCode: 404, body: '' }) } as unknown as NodeJS.Module
  }
  return require(join(root, 'dist/runner.js')) as Runner
}

const scan = loadScanner()
const electronVersion = (JSON.parse(readFileSync(join(ROOT, 'node_modules/electron/package.json'), 'utf8')) as { version: string }).version
const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** Scans a copy of `files` (repo paths) laid out in one folder, as the scanner wants a single input. */
async function scanCopy(files: Record<string, string>): Promise<ScanResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ot-eng-'))
  dirs.push(dir)
  for (const [to, from] of Object.entries(files)) cpSync(join(ROOT, from), join(dir, to), { recursive: true })
  return scan({
    input: dir,
    isRelative: true,
    electronVersionOverride: electronVersion,
    // Whether a newer Electron has security fixes needs the internet; electron-updater keeps the app current.
    excludeFromScan: ['availablesecurityfixesglobalcheck'],
  })
}

const describeFinding = (f: Finding): string => `${f.severity.name} ${f.id} ${f.file}:${f.location?.line ?? 0}`

describe('Electronegativity', () => {
  it('finds no HIGH issue in the main process, the preload and the page', async () => {
    const result = await scanCopy({ main: 'electron/main', preload: 'electron/preload', 'index.html': 'renderer/index.html' })
    expect(result.atomicChecks).toBeGreaterThan(20)
    // Every file was parsed: a file the scanner could not read would hide its findings.
    expect(result.errors.filter((e) => !e.tolerable)).toEqual([])
    expect(result.issues.filter((f) => f.severity.name === 'HIGH').map(describeFinding)).toEqual([])
  }, 60_000)

  it('reports HIGH for a window without context isolation and unlimited navigation (the scan is not blind)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ot-eng-bad-'))
    dirs.push(dir)
    writeFileSync(join(dir, 'main.js'), "const { BrowserWindow } = require('electron')\nnew BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false } })\n")
    const result = await scan({ input: dir, isRelative: true, electronVersionOverride: electronVersion, excludeFromScan: ['availablesecurityfixesglobalcheck'] })
    expect(result.issues.filter((f) => f.severity.name === 'HIGH').map((f) => f.id)).toEqual(expect.arrayContaining(['CONTEXT_ISOLATION_JS_CHECK', 'LIMIT_NAVIGATION_GLOBAL_CHECK']))
  }, 60_000)
})
