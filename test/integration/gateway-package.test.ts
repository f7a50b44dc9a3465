import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConsoleService } from '../../electron/console/console-service.ts'

/**
 * The headless gateway for a Raspberry Pi as it ships: the `npm pack` tarball (package.json "files")
 * holds the CLI and the sources it runs, the install script and the systemd unit, and no tests. Unpacked
 * next to the project's dependencies, its `objecttwin gateway` registers with a real console and
 * exposes the simulated sensors' twins.
 */

const root = join(import.meta.dirname, '../..')
const work = mkdtempSync(join(tmpdir(), 'ot-gateway-package-'))
const children: ChildProcess[] = []
let service: ConsoleService | undefined

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await service?.close()
  rmSync(work, { recursive: true, force: true })
})

const npm = (args: string[]): string => execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd: root, encoding: 'utf8', shell: process.platform === 'win32', stdio: ['ignore', 'pipe', 'ignore'] })

describe('the gateway package (npm pack)', () => {
  it('holds the CLI, its sources, the browser console, the install script, the unit and the docs, and no tests', () => {
    const [pack] = JSON.parse(npm(['pack', '--dry-run', '--json'])) as Array<{ files: Array<{ path: string }> }>
    const files = pack?.files.map((f) => f.path) ?? []
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'bin/objecttwin.js',
        'electron/cli/objecttwin.ts',
        'electron/cli/gateway-command.ts',
        'electron/gateway/gateway.ts',
        'electron/ble/adapter/ble-adapter.ts',
        'shared/lwm2m/tlv.ts',
        'scripts/install-gateway.sh',
        'scripts/objecttwin-gateway.service',
        'docs/raspberry-pi.md',
      ]),
    )
    if (existsSync(join(root, 'out/renderer/index.html'))) expect(files).toContain('out/renderer/index.html')
    expect(files.filter((f) => /\.test(-helper)?\.ts$/.test(f) || /^(test|bench|renderer|build|\.github)\//.test(f))).toEqual([])
    // The Electron shell imports `electron`, which the gateway never installs.
    expect(files.filter((f) => /^electron\/(main|preload)\//.test(f))).toEqual([])
    expect(files.filter((f) => f.endsWith('.ts')).every((f) => f.startsWith('electron/') || f.startsWith('shared/'))).toBe(true)
  })

  it('runs its gateway from the unpacked tarball: registers with a console and exposes the twins', async () => {
    const tarball = npm(['pack', '--silent', '--pack-destination', work]).trim().split('\n').at(-1) as string
    mkdirSync(join(work, 'unpacked'))
    execFileSync('tar', ['-xzf', join(work, tarball), '-C', join(work, 'unpacked')])
    const app = join(work, 'unpacked/package')
    // The production dependencies, as `npm install --omit=dev` on the Pi would provide them.
    symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'), process.platform === 'win32' ? 'junction' : 'dir')

    service = await ConsoleService.create({ coapPort: 0, onWarning: () => {} })
    const gateway = spawn(process.execPath, [join(app, 'bin/objecttwin.js'), 'gateway', '--server', `coap://127.0.0.1:${service.coapPort}`, '--endpoint', 'packed-gw', '--adapter', 'virtual', '--data-dir', join(work, 'data')], {
      cwd: app,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.push(gateway)
    let output = ''
    gateway.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    gateway.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const deadline = Date.now() + 25_000
    const twins = (): number[] => (service?.listClients().find((c) => c.endpoint === 'packed-gw')?.objects ?? []).map((o) => o.objectId).filter((id) => id >= 1031 && id < 33000)
    while (twins().length < 3 && gateway.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
    expect(twins().length, `the packed gateway's twins at the console (its output: ${output})`).toBeGreaterThanOrEqual(3)
    expect(output).toMatch(/^registered \/rd\/[0-9a-f]+ lwm2m=1\.1$/m)
  }, 60_000)
})

describe('the install script and the systemd unit', () => {
  const script = join(root, 'scripts/install-gateway.sh')
  const unit = readFileSync(join(root, 'scripts/objecttwin-gateway.service'), 'utf8')

  it('the script is valid bash and explains itself', () => {
    expect(spawnSync('bash', ['-n', script]).status).toBe(0)
    // --help only: the script itself installs system-wide and is not run here.
    const help = spawnSync('bash', [script, '--help'], { encoding: 'utf8' })
    expect(help.status).toBe(0)
    expect(help.stdout).toMatch(/^usage: sudo .* --server coap:\/\/HOST:PORT/)
    expect(spawnSync('bash', [script, '--bogus'], { encoding: 'utf8' }).stderr).toContain('install-gateway: unknown option --bogus')
  })

  it('the unit runs the packed CLI as its own user with just the raw-HCI capabilities', () => {
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/env node bin\/objecttwin\.js gateway --server \$\{OBJECTTWIN_SERVER\} /m)
    expect(unit).toMatch(/^WorkingDirectory=\/opt\/objecttwin\/gateway$/m)
    expect(unit).toMatch(/^User=objecttwin$/m)
    expect(unit).toMatch(/^AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN$/m)
    expect(unit).toMatch(/^CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN$/m)
    expect(unit).toMatch(/^EnvironmentFile=\/etc\/objecttwin\/gateway\.env$/m)
    // The install script writes the settings and installs the unit the service reads.
    const installer = readFileSync(script, 'utf8')
    expect(installer).toContain('APP_DIR=/opt/objecttwin/gateway')
    expect(installer).toContain('install -m 0644 "$APP_DIR/scripts/objecttwin-gateway.service" "$UNIT"')
    // docs/raspberry-pi.md shows the unit as it ships.
    expect(readFileSync(join(root, 'docs/raspberry-pi.md'), 'utf8')).toContain(unit.trimEnd())
  })

  const analyze = spawnSync('systemd-analyze', ['--version'])
  it.skipIf(analyze.status !== 0)('the unit passes systemd-analyze verify without a warning (needs systemd-analyze)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ot-unit-'))
    try {
      const file = join(dir, 'objecttwin-gateway.service')
      execFileSync('cp', [join(root, 'scripts/objecttwin-gateway.service'), file])
      const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' })
      expect(verify.stdout + verify.stderr).toBe('')
      expect(verify.status).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
