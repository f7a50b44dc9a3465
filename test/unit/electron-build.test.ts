import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * The electron-vite output (`npm test` builds before it runs vitest): the main bundle keeps native and
 * heavy modules external, loads noble lazily and does not need the HTTP server; the sandboxed preload
 * is one file that requires nothing but `electron`.
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
  it('keeps node:sqlite, coap and electron external, and never imports noble or fastify in main', () => {
    const code = readFileSync(main, 'utf8')
    const imports = staticImports(code)
    expect(imports).toEqual(expect.arrayContaining(['electron', 'electron-log/main', 'node:sqlite', 'coap']))
    expect(imports.filter((s) => s.includes('noble') || s.includes('fastify'))).toEqual([])
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
