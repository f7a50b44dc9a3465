/**
 * `objecttwin gateway --server coap://HOST:PORT --adapter virtual` as a real process (DESIGN.md contract): it
 * registers with the embedded server in this process, connects its simulated ECG, heart-rate and thermometer
 * sensors by itself, exposes their twins, and de-registers on SIGTERM. Bad options exit 1 with one line.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startServer, waitFor } from '../support/server-harness.ts'
import type { ServerHarness } from '../support/server-harness.ts'
import { hostLacks } from '../support/host-tools.ts'

const ROOT = join(import.meta.dirname, '../..')

interface Run {
  child: ChildProcess
  out: () => string
  exited: Promise<number | null>
}

const cleanups: Array<() => Promise<void> | void> = []

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function run(args: string[]): Run {
  const child = spawn(process.execPath, [join(ROOT, 'bin/objecttwin.js'), 'gateway', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let text = ''
  child.stdout?.setEncoding('utf8')
  child.stderr?.setEncoding('utf8')
  child.stdout?.on('data', (t: string) => (text += t))
  child.stderr?.on('data', (t: string) => (text += t))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGKILL')
      await exited
    }
  })
  return { child, out: () => text, exited }
}

describe('objecttwin gateway', () => {
  it.skipIf(hostLacks('posix-signals'))('runs a standalone gateway on the virtual radio: registers, exposes the twins, de-registers on SIGTERM', async () => {
    const server: ServerHarness = await startServer()
    cleanups.push(() => server.close())
    const dataDir = mkdtempSync(join(tmpdir(), 'objecttwin-gw-cli-'))
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
    const gw = run(['--server', `coap://127.0.0.1:${server.port}`, '--endpoint', 'pi-ward-3', '--adapter', 'virtual', '--data-dir', dataDir])

    // Three sensors × (their own service, Battery, Device Information), from 1031 in connection order.
    const twins = [1031, 1032, 1033, 1034, 1035, 1036, 1037, 1038, 1039]
    const client = await waitFor(() => {
      const c = server.server.getClient('pi-ward-3')
      return c && twins.every((id) => c.objects.some((o) => o.objectId === id)) ? c : undefined
    }, `the nine twins at the server (output: ${gw.out()})`, 20_000)
    expect(client.objects.map((o) => o.objectId)).toEqual([1, 3, ...twins, 33000, 33001])
    expect(client.objects.find((o) => o.objectId === 33001)?.instances).toEqual([0, 1, 2])
    // The ECG sensor connects first: its service is 1031, as in the paper's Fig. 5.
    const rate = await server.server.read('pi-ward-3', '/1031/0/2')
    expect(rate.ok && rate.value.records?.[0]?.value).toBe(150)
    const out = gw.out()
    expect(out).toMatch(/^gateway pi-ward-3 adapter virtual server coap:\/\/127\.0\.0\.1:\d+ data /m)
    expect(out).toMatch(/^registered \/rd\/[0-9a-f]+ lwm2m=1\.1$/m)
    expect(out).toContain('twin /1031 ECG (ObjectTwin ECG 1) (c0:07:01:00:00:01 service f001000000001000800000805f9b34fb) new id')
    expect(out).toContain('connected c0:07:02:00:00:01 "ObjectTwin HR 1"')

    gw.child.kill('SIGTERM')
    expect(await gw.exited).toBe(0)
    expect(gw.out()).toMatch(/^deregistered 2\.02$/m)
    expect(gw.out()).toMatch(/^stopped$/m)
    await waitFor(() => server.log.of('deregistered').some((e) => e.endpoint === 'pi-ward-3'), 'the de-registration at the server')
  })

  it('exits 1 with a one-line reason on bad options', async () => {
    const bad = run(['--server', 'coap://127.0.0.1:5683', '--adapter', 'bluetooth'])
    expect(await bad.exited).toBe(1)
    expect(bad.out().trim()).toBe('objecttwin: --adapter must be hci, hci:N, uart:PATH, default or virtual, not "bluetooth"')
    const dtls = run(['--server', 'coaps://127.0.0.1:5684', '--adapter', 'virtual'])
    expect(await dtls.exited).toBe(1)
    expect(dtls.out().trim()).toBe('objecttwin: a coaps:// server needs --psk-identity and --psk-key (or --psk-key-file)')
    const plainWithKey = run(['--server', 'coap://127.0.0.1:5683', '--psk-identity', 'gw', '--psk-key', '0011223344556677', '--adapter', 'virtual'])
    expect(await plainWithKey.exited).toBe(1)
    expect(plainWithKey.out().trim()).toBe('objecttwin: --psk-identity, --psk-key and --psk-key-file need a coaps:// server')
    const badKey = run(['--server', 'coaps://127.0.0.1:5684', '--psk-identity', 'gw', '--psk-key', 'not-hex', '--adapter', 'virtual'])
    expect(await badKey.exited).toBe(1)
    expect(badKey.out().trim()).toBe('objecttwin: --psk-key must be hex digits, two per byte')
    const noFile = run(['--server', 'coaps://127.0.0.1:5684', '--psk-identity', 'gw', '--psk-key-file', '/nonexistent/gw.key', '--adapter', 'virtual'])
    expect(await noFile.exited).toBe(1)
    expect(noFile.out().trim()).toBe('objecttwin: --psk-key-file: cannot read /nonexistent/gw.key: ENOENT')
    const missing = run(['--adapter', 'virtual'])
    expect(await missing.exited).toBe(1)
    expect(missing.out()).toContain("required option '--server <uri>' not specified")
  })
})
