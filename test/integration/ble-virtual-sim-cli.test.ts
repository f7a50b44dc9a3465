/**
 * `objecttwin sim --pty PATH`: a separate process serves the virtual radio with the default sensors (ECG, heart
 * rate, thermometer) on a pseudo-terminal; noble's UART driver in this process opens PATH like a USB dongle.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Noble, Peripheral } from '@stoprocent/noble'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, type CliIo } from '../../electron/cli/program.ts'
import { createUartNoble } from '../../electron/ble/virtual/virtual-radio.ts'
import { ECG_VALUE_UUID } from '../../shared/ble/uuids.ts'
import { alive, collect, disconnected, stopNoble, until, within } from '../support/ble-virtual-helpers.ts'
import { hostLacks } from '../support/host-tools.ts'

const ROOT = join(import.meta.dirname, '../..')
const PATH = join(tmpdir(), `objecttwin-test-sim-${process.pid}`)

let child: ChildProcess
let output = ''
let socatPid = 0
let noble: Noble | undefined

beforeAll(async () => {
  child = spawn(process.execPath, [join(ROOT, 'bin/objecttwin.js'), 'sim', '--pty', PATH, '--seed', '5'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout?.setEncoding('utf8')
  child.stderr?.setEncoding('utf8')
  child.stdout?.on('data', (t: string) => (output += t))
  child.stderr?.on('data', (t: string) => (output += t))
  await until(() => /serving .* socat pid \d+/.test(output) || child.exitCode !== null, 20_000, `sim start (output: ${output})`)
  socatPid = Number(/socat pid (\d+)/.exec(output)?.[1] ?? 0)
})

afterAll(async () => {
  await stopNoble(noble)
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await within(exited, 10_000, 'sim exit')
  }
  if (socatPid && alive(socatPid)) process.kill(socatPid, 'SIGKILL')
})

describe.skipIf(hostLacks('socat', 'posix-signals'))('objecttwin sim --pty', () => {
  it('announces the default sensors and the pty', () => {
    expect(child.exitCode).toBe(null)
    expect(output).toMatch(/sensor ecg "ObjectTwin ECG 1"/)
    expect(output).toMatch(/sensor hr "ObjectTwin HR 1"/)
    expect(output).toMatch(/sensor thermometer "ObjectTwin Thermo/)
    expect(existsSync(PATH)).toBe(true)
    expect(socatPid).toBeGreaterThan(0)
  })

  it('noble (UART driver) sees the three sensors advertising at once and streams ECG', async () => {
    noble = createUartNoble(PATH)
    await noble.waitForPoweredOnAsync(15_000)
    const seen = new Map<string, Peripheral>()
    noble.on('discover', (p: Peripheral) => seen.set(p.advertisement.localName, p))
    await noble.startScanningAsync([], false)
    await until(() => seen.size >= 3, 10_000, 'three sensors discovered')
    await noble.stopScanningAsync()
    const names = [...seen.keys()].sort()
    expect(names[0]).toBe('ObjectTwin ECG 1')
    expect(names[1]).toBe('ObjectTwin HR 1')
    expect(names[2]).toMatch(/^ObjectTwin Thermo/)
    const ecg = seen.get('ObjectTwin ECG 1') as Peripheral
    await within(ecg.connectAsync(), 10_000, 'connect ECG')
    const { characteristics } = await within(ecg.discoverAllServicesAndCharacteristicsAsync(), 10_000, 'discover ECG')
    const value = characteristics.find((c) => c.uuid === ECG_VALUE_UUID)
    expect(value?.properties).toContain('notify')
    const samples = collect(value!, 30)
    await within(value!.subscribeAsync(), 5000, 'subscribe ECG')
    expect((await samples).length).toBe(30)
    await until(() => output.includes('connected ecg'), 5000, 'sim logs the connection')
    const gone = disconnected(ecg)
    await within(ecg.disconnectAsync(), 5000, 'disconnect')
    await gone
  })

  it('stops on SIGTERM, with socat and the link gone', async () => {
    await stopNoble(noble)
    noble = undefined
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    child.kill('SIGTERM')
    expect(await within(exited, 10_000, 'sim exit')).toBe(0)
    expect(output).toMatch(/stopped/)
    await until(() => !alive(socatPid), 5000, 'socat gone')
    expect(existsSync(PATH)).toBe(false)
  })
})

describe.skipIf(hostLacks('socat'))('objecttwin sim: usage errors', () => {
  const io = (): CliIo & { text: string } => {
    const o = { text: '', out: (t: string) => (o.text += t + '\n'), err: (t: string) => (o.text += t + '\n') }
    return o
  }

  it('rejects an unknown sensor kind', async () => {
    const o = io()
    expect(await runCli(['sim', '--peripherals', 'ecg,toaster'], o)).toBe(1)
    expect(o.text).toMatch(/unknown sensor kind 'toaster'/)
  })

  it('rejects an interference outside 0..1 and a pty path socat cannot take', async () => {
    const a = io()
    expect(await runCli(['sim', '--interference', '2'], a)).toBe(1)
    expect(a.text).toMatch(/--interference must be a number from 0 to 1/)
    const b = io()
    expect(await runCli(['sim', '--pty', '/tmp/a,b'], b)).toBe(1)
    expect(b.text).toMatch(/pty path must not contain/)
  })
})
