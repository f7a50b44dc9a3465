import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

/**
 * The GitHub Actions pipelines, parsed as YAML: CI runs `npm test` on Linux, Windows and macOS with
 * Node 24; a v* tag drafts a release, builds the installers of every platform in a fail-fast: false
 * matrix (signing and notarizing only with secrets) and attaches the gateway tarball.
 */

interface Step {
  name?: string
  uses?: string
  run?: string
  if?: string
  with?: Record<string, unknown>
  env?: Record<string, string>
}
interface Job {
  'runs-on': string
  needs?: string | string[]
  strategy?: { 'fail-fast'?: boolean; matrix: Record<string, unknown> & { include?: Array<Record<string, string>> } }
  env?: Record<string, string>
  steps: Step[]
}
interface Workflow {
  name: string
  on: Record<string, unknown>
  permissions?: Record<string, string>
  jobs: Record<string, Job>
}

const workflow = (name: string): Workflow => parse(readFileSync(join(import.meta.dirname, '../../.github/workflows', name), 'utf8')) as Workflow
const job = (w: Workflow, name: string): Job => {
  const found = w.jobs[name]
  if (!found) throw new Error(`no job ${name}`)
  return found
}
const runs = (j: Job): string => j.steps.map((s) => s.run ?? '').join('\n')
const usesNode24 = (j: Job): boolean => j.steps.some((s) => s.uses?.startsWith('actions/setup-node@') && String(s.with?.['node-version']) === '24')

describe('ci.yml', () => {
  const ci = workflow('ci.yml')
  const test = job(ci, 'test')

  it('runs on every push and pull request', () => {
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push'])
  })

  it('runs npm ci and npm test with Node 24 on Ubuntu, Windows and macOS, without the Electron binary', () => {
    expect(test['runs-on']).toBe('${{ matrix.os }}')
    expect(test.strategy?.matrix['os']).toEqual(['ubuntu-latest', 'windows-latest', 'macos-latest'])
    expect(test.strategy?.['fail-fast']).toBe(false)
    expect(usesNode24(test)).toBe(true)
    expect(test.env?.['ELECTRON_SKIP_BINARY_DOWNLOAD']).toBe('1')
    const commands = test.steps.map((s) => s.run?.trim()).filter(Boolean)
    expect(commands.indexOf('npm ci --no-audit --no-fund')).toBeGreaterThanOrEqual(0)
    expect(commands.indexOf('npm test')).toBeGreaterThan(commands.indexOf('npm ci --no-audit --no-fund'))
  })

  it('installs the tools the tests use on Linux only', () => {
    const tools = test.steps.find((s) => s.run?.includes('apt-get install'))
    expect(tools?.if).toBe("runner.os == 'Linux'")
    for (const pkg of ['libcoap3-bin', 'socat', 'mosquitto', 'mosquitto-clients', 'openssl']) expect(tools?.run).toMatch(new RegExp(`\\s${pkg}(\\s|$)`))
    expect(test.env?.['CHROMIUM_PATH']).toContain('google-chrome')
  })
})

describe('release.yml', () => {
  const release = workflow('release.yml')
  const draft = job(release, 'draft')
  const build = job(release, 'build')
  const gateway = job(release, 'gateway')

  it('runs on v* tags, may write releases, and drafts the release before anything uploads to it', () => {
    expect(release.on).toEqual({ push: { tags: ['v*'] } })
    expect(release.permissions).toEqual({ contents: 'write' })
    expect(runs(draft)).toMatch(/gh release create "\$GITHUB_REF_NAME" --draft/)
    expect(runs(draft)).toMatch(/does not match package\.json version/)
    expect(build.needs).toBe('draft')
    expect(gateway.needs).toBe('draft')
  })

  it('builds the installers of each platform in a fail-fast: false matrix and publishes them with the update metadata', () => {
    expect(build.strategy?.['fail-fast']).toBe(false)
    const rows = build.strategy?.matrix.include ?? []
    expect(rows.map((r) => [r['platform'], r['os']])).toEqual([['linux', 'ubuntu-latest'], ['win', 'windows-latest'], ['mac', 'macos-latest']])
    expect(usesNode24(build)).toBe(true)
    expect(runs(build)).toContain('npx electron-builder --config build/electron-builder.yml --${{ matrix.platform }} --publish always')
    const publish = build.steps.find((s) => s.run?.includes('electron-builder'))
    expect(publish?.env?.['GH_TOKEN']).toBe('${{ secrets.GITHUB_TOKEN }}')
    const upload = build.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))
    const paths = String(upload?.with?.['path']).split('\n').map((p) => p.trim())
    expect(paths).toEqual(expect.arrayContaining(['dist/*.exe', 'dist/*.dmg', 'dist/*.zip', 'dist/*.AppImage', 'dist/*.deb', 'dist/latest*.yml']))
  })

  it('signs and notarizes only when the secrets exist, and says so when they do not', () => {
    const signing = build.steps.find((s) => s.env?.['CSC_LINK'] !== undefined)
    expect(signing?.env).toMatchObject({
      CSC_LINK: '${{ secrets.CSC_LINK }}',
      CSC_KEY_PASSWORD: '${{ secrets.CSC_KEY_PASSWORD }}',
      APPLE_ID: '${{ secrets.APPLE_ID }}',
      APPLE_APP_SPECIFIC_PASSWORD: '${{ secrets.APPLE_APP_SPECIFIC_PASSWORD }}',
      APPLE_TEAM_ID: '${{ secrets.APPLE_TEAM_ID }}',
    })
    expect(signing?.run).toContain('CSC_IDENTITY_AUTO_DISCOVERY=false')
    expect(signing?.run).toContain('::warning::no CSC_LINK secret')
    // Secrets never reach the build as empty variables: only what exists is exported.
    expect(build.steps.find((s) => s.run?.includes('electron-builder'))?.env?.['CSC_LINK']).toBeUndefined()
  })

  it('packs the gateway tarball with its lockfile and attaches it to the release', () => {
    const commands = runs(gateway)
    expect(commands).toContain('cp package-lock.json npm-shrinkwrap.json')
    expect(commands).toMatch(/npm pack/)
    expect(commands).toMatch(/gh release upload "\$GITHUB_REF_NAME" objecttwin-gateway-\*\.tgz/)
  })
})
