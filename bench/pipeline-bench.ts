import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { GattServerApi } from '../electron/ble/virtual/gatt-table.ts'
import { normalizeUuid } from '../electron/ble/virtual/gatt-table.ts'
import { createSensor, sensorAddress } from '../electron/ble/virtual/sensors/index.ts'
import type { SimulatedSensorHandle } from '../electron/ble/virtual/sensors/index.ts'
import { VirtualRadio } from '../electron/ble/virtual/virtual-radio.ts'
import { ConsoleService } from '../electron/console/console-service.ts'
import { BleLwm2mGateway } from '../electron/gateway/gateway.ts'
import { BLE_GATEWAY_OBJECT_ID, GatewayResource } from '../electron/gateway/gateway-objects.ts'
import type { ConsoleEvent } from '../shared/api/events.ts'
import { readEcgPayload } from '../shared/ble/ecg-payload.ts'
import { ECG_SERVICE_UUID, ECG_VALUE_UUID } from '../shared/ble/uuids.ts'
import { ContentFormat } from '../shared/lwm2m/content-format.ts'
import { parsePath } from '../shared/lwm2m/path.ts'
import { nowMs } from './fleet.ts'
import type { BenchReport } from './server-bench.ts'
import { Latencies, readable } from './stats.ts'

/**
 * `bench pipeline` (issue 5): simulated ECG sensors on the virtual radio → gateway (noble, ObjectTwins, LwM2M
 * client) → embedded LwM2M server → API event.
 *
 * - In one process: the latency from the moment a sensor hands a sample to its BLE link to the server's
 *   notification event (the sensor's own send time is known exactly), and the samples lost on the way.
 * - In three processes, as deployed: `objecttwin sim` (sensors and virtual controller, HCI over a pty) →
 *   `objecttwin gateway --adapter uart:PTY` → the server here. The gateway process's CPU and its memory per
 *   connected sensor are measured on its own; the sensors are connected by Execute on /33000/0/3 and set to
 *   the rate by LwM2M Writes, as a remote server would.
 */

export interface PipelineScenario {
  readonly sensors: number
  readonly rateHz: number
}

export interface PipelineBenchOptions {
  readonly scenarios: readonly PipelineScenario[]
  /** Seconds measured per scenario (after the warm-up). */
  readonly durationS: number
  readonly warmupS: number
  /** Also run the three-process measurement (gateway CPU and memory). */
  readonly processes: boolean
}

const ENDPOINT = 'bench-gw'
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function waitUntil(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(20)
  }
}

// ---- one process ---------------------------------------------------------------------------------------------

/** A full garbage collection (V8's gc exposed at run time), so heap figures compare live data. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
  gc()
}

/** Live JS heap plus buffers, KB, after a full collection. */
function liveKb(): number {
  collectGarbage()
  const m = process.memoryUsage()
  return (m.heapUsed + m.external) / 1024
}

interface InProcessResult {
  readonly kbPerSensor: number
  readonly latencies: Latencies
  readonly sent: number
  readonly received: number
  readonly lost: number
  readonly notifications: number
  readonly processCpuPct: number
}

/** Every ECG packet the sensor's link accepted: timestamp → wall-clock send time. */
function tapSends(sensor: SimulatedSensorHandle, sent: Map<number, number>, order: number[]): void {
  const hooks = sensor.definition.hooks
  const onConnect = hooks?.onConnect
  if (!hooks || !onConnect) throw new Error('the ECG sensor has no onConnect hook to tap')
  const payload = { seq: 0, sample: 0, timestampMs: undefined as number | undefined }
  hooks.onConnect = (api) => {
    const tapped = Object.create(api) as GattServerApi
    tapped.notify = (uuid, value) => {
      const accepted = api.notify(uuid, value)
      if (accepted && normalizeUuid(uuid) === ECG_VALUE_UUID) {
        readEcgPayload(value, payload)
        sent.set(payload.timestampMs as number, nowMs())
        if (order.length === 0) order.push(payload.timestampMs as number)
      }
      return accepted
    }
    onConnect.call(hooks, tapped)
  }
}

async function runInProcess(sc: PipelineScenario, options: PipelineBenchOptions, progress: (line: string) => void): Promise<InProcessResult> {
  // The scenario's sampling rate throughout: no adaptive sampling.
  const service = await ConsoleService.create({ requestTimeoutMs: 10_000, adaptiveSampling: { enabled: false } })
  const radio = new VirtualRadio()
  const sensors = Array.from({ length: sc.sensors }, (_, i) => createSensor('ecg', { index: i + 1, seed: 11 + i, samplingRateHz: sc.rateHz, timestamping: true }))
  const sends = sensors.map(() => new Map<number, number>())
  const firsts = sensors.map((): number[] => [])
  sensors.forEach((s, i) => {
    tapSends(s, sends[i] as Map<number, number>, firsts[i] as number[])
    radio.addPeripheral(s.definition, { seed: 50 + i })
  })
  const gateway = new BleLwm2mGateway({ serverUri: `coap://127.0.0.1:${service.coapPort}`, endpoint: ENDPOINT, adapter: { radio }, autoConnect: false, client: { lifetime: 120 } })
  const latencies = new Latencies()
  let received = 0
  let notifications = 0
  let windowStart = Number.POSITIVE_INFINITY
  let windowEnd = Number.POSITIVE_INFINITY
  const anchors = new Map<string, { index: number; anchorMs: number | undefined }>()
  const off = service.onEvent((e: ConsoleEvent) => {
    if (e.kind !== 'notification' || e.endpoint !== ENDPOINT) return
    const at = nowMs()
    let counted = false
    for (const rec of e.records) {
      const a = anchors.get(rec.path)
      if (!a || rec.time === undefined) continue
      const ms = rec.time * 1000
      // The gateway anchors each sensor's clock at its first sample; undo it to find the sensor's timestamp.
      a.anchorMs ??= ms - (firsts[a.index]?.[0] as number)
      const ts = Math.round(ms - a.anchorMs)
      const sentAt = sends[a.index]?.get(ts)
      if (sentAt === undefined || sentAt < windowStart || sentAt > windowEnd) continue
      received++
      latencies.add(at - sentAt)
      if (!counted) notifications++
      counted = true
    }
  })
  const cleanup = async (): Promise<void> => {
    off()
    await gateway.stop()
    for (const s of sensors) s.dispose()
    await radio.close()
    await service.close()
  }
  try {
    progress(`pipeline ${sc.sensors}×${sc.rateHz} Hz, one process — connecting ${sc.sensors} sensors`)
    await gateway.start()
    const paths: string[] = []
    const connect = async (i: number): Promise<void> => {
      const address = sensorAddress(0x01, i + 1)
      await gateway.connectSensor(address)
      await waitUntil(`the ECG twin of ${address}`, () => gateway.twins.twinsOf(address).some((t) => t.serviceUuid === ECG_SERVICE_UUID), 20_000)
      const twin = gateway.twins.twinsOf(address).find((t) => t.serviceUuid === ECG_SERVICE_UUID)
      const rid = twin?.resources.find((r) => r.uuid === ECG_VALUE_UUID)?.resourceId
      const path = `/${twin?.objectId}/0/${rid}`
      anchors.set(path, { index: i, anchorMs: undefined })
      paths.push(path)
    }
    // Memory per sensor, connected with its twins: the first sensor pays for what is allocated once (code, caches).
    await connect(0)
    await sleep(200)
    const kb0 = liveKb()
    for (let i = 1; i < sc.sensors; i++) await connect(i)
    await sleep(200)
    const kb1 = liveKb()
    for (const path of paths) {
      const obs = await service.server.observe(ENDPOINT, [path], { format: ContentFormat.SENML_CBOR })
      if (!obs.ok || obs.value.code !== '2.05') throw new Error(`observe ${path} failed: ${obs.ok ? obs.value.code : obs.error.message}`)
    }
    progress(`pipeline ${sc.sensors}×${sc.rateHz} Hz, one process — warm-up ${options.warmupS} s, then ${options.durationS} s measured`)
    await sleep(options.warmupS * 1000)
    const cpu0 = process.cpuUsage()
    windowStart = nowMs()
    await sleep(options.durationS * 1000)
    windowEnd = nowMs()
    const cpu = process.cpuUsage(cpu0)
    const processCpuPct = ((cpu.user + cpu.system) / 1000 / (windowEnd - windowStart)) * 100
    let sent = 0
    for (const m of sends) for (const at of m.values()) if (at >= windowStart && at <= windowEnd) sent++
    // What was sent in the window has arrived once nothing is missing (or 5 s passed).
    await waitUntil('the window to drain', () => received >= sent, 5000).catch(() => undefined)
    return { kbPerSensor: sc.sensors > 1 ? (kb1 - kb0) / (sc.sensors - 1) : Number.NaN, latencies, sent, received, lost: sent - received, notifications, processCpuPct }
  } finally {
    await cleanup()
  }
}

// ---- three processes -----------------------------------------------------------------------------------------

interface ProcessesResult {
  readonly gatewayCpuPct: number
  readonly kbPerSensor: number
  readonly received: number
  /** Gaps in the sensors' timestamps at the server: samples that did not arrive. */
  readonly lost: number
  readonly latencies: Latencies
}

const ENTRY = fileURLToPath(new URL('../electron/cli/objecttwin.ts', import.meta.url))
const TS_FLAGS = process.features.typescript ? [] : ['--experimental-strip-types', '--disable-warning=ExperimentalWarning']

interface Child {
  readonly child: ChildProcess
  output(): string
  stop(): Promise<void>
}

/** `objecttwin <args>` run directly (not through bin/), so that its PID is the process measured. */
function startChild(args: string[]): Child {
  const child = spawn(process.execPath, [...TS_FLAGS, ENTRY, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let text = ''
  const keep = (chunk: Buffer): void => {
    text = (text + chunk.toString('utf8')).slice(-4000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    child,
    output: () => text,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
      process.kill(child.pid, 'SIGTERM')
      const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}

async function waitForLine(c: Child, pattern: RegExp, timeoutMs: number): Promise<void> {
  const lines = createInterface({ input: c.child.stdout as NodeJS.ReadableStream })
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms: ${c.output().trim()}`)), timeoutMs)
      if (pattern.test(c.output())) {
        clearTimeout(timer)
        resolve()
        return
      }
      lines.on('line', (line) => {
        if (!pattern.test(line)) return
        clearTimeout(timer)
        resolve()
      })
      c.child.once('exit', () => {
        clearTimeout(timer)
        reject(new Error(`the process exited: ${c.output().trim()}`))
      })
    })
  } finally {
    lines.close()
  }
}

/** user + system CPU of a process in ms (Linux /proc). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // Fields 14 and 15 (utime, stime) in clock ticks of 10 ms (USER_HZ = 100 on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10
}

function rssKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Number(match[1]) : 0
}

async function runProcesses(sc: PipelineScenario, options: PipelineBenchOptions, progress: (line: string) => void): Promise<ProcessesResult> {
  // The scenario's sampling rate throughout: no adaptive sampling.
  const service = await ConsoleService.create({ requestTimeoutMs: 10_000, adaptiveSampling: { enabled: false } })
  const dir = mkdtempSync(join(tmpdir(), 'objecttwin-bench-'))
  const pty = join(dir, 'ttyHCI')
  const children: Child[] = []
  try {
    progress(`pipeline ${sc.sensors}×${sc.rateHz} Hz, three processes — objecttwin sim on a pty, objecttwin gateway --adapter uart`)
    const sim = startChild(['sim', '--pty', pty, '--peripherals', Array.from({ length: sc.sensors }, () => 'ecg').join(',')])
    children.push(sim)
    await waitForLine(sim, /^serving /, 20_000)
    const gw = startChild(['gateway', '--server', `coap://127.0.0.1:${service.coapPort}`, '--endpoint', ENDPOINT, '--adapter', `uart:${pty}`, '--data-dir', join(dir, 'gw')])
    children.push(gw)
    const pid = gw.child.pid as number
    await waitUntil('the gateway to register', () => service.server.getClient(ENDPOINT) !== undefined, 30_000)
    await waitUntil('the adapter', async () => {
      const res = await service.server.read(ENDPOINT, `/${BLE_GATEWAY_OBJECT_ID}/0/${GatewayResource.adapterState}`)
      return res.ok && res.value.records?.[0]?.value === 'poweredOn'
    }, 20_000)
    await sleep(500)
    const rss0 = rssKb(pid)
    // Connect the sensors as a remote server does: Execute on the BLE Gateway object.
    for (let i = 1; i <= sc.sensors; i++) {
      const res = await service.server.execute(ENDPOINT, `/${BLE_GATEWAY_OBJECT_ID}/0/${GatewayResource.connect}`, `0='${sensorAddress(0x01, i)}'`)
      if (!res.ok || res.value.code !== '2.04') throw new Error(`Execute connect failed: ${res.ok ? res.value.code : res.error.message}`)
    }
    await waitUntil(`${sc.sensors * 3} twins`, () => (service.server.getClient(ENDPOINT)?.objects.filter((o) => o.objectId >= 1031 && o.objectId < 33000).length ?? 0) >= sc.sensors * 3, 30_000)
    // Find the ECG twins by their service description, set rate and timestamping, observe the value.
    const ecgPaths: string[] = []
    const ids = (service.server.getClient(ENDPOINT)?.objects ?? []).map((o) => o.objectId).filter((id) => id >= 1031 && id < 33000)
    for (const id of ids) {
      const desc = await service.server.read(ENDPOINT, `/${id}/0/0`)
      if (!desc.ok || !String(desc.value.records?.[0]?.value).startsWith('ECG service')) continue
      for (const [rid, value, type] of [[2, sc.rateHz, 'integer'], [3, true, 'boolean']] as const) {
        const w = await service.server.write(ENDPOINT, `/${id}/0/${rid}`, [{ path: parsePath(`/${id}/0/${rid}`), value, type }])
        if (!w.ok || w.value.code !== '2.04') throw new Error(`write /${id}/0/${rid} failed: ${w.ok ? `${w.value.code} ${w.value.diagnostic ?? ''}` : w.error.message}`)
      }
      const path = `/${id}/0/1`
      const obs = await service.server.observe(ENDPOINT, [path], { format: ContentFormat.SENML_CBOR })
      if (!obs.ok || obs.value.code !== '2.05') throw new Error(`observe ${path} failed`)
      ecgPaths.push(path)
    }
    if (ecgPaths.length !== sc.sensors) throw new Error(`found ${ecgPaths.length} ECG twins, expected ${sc.sensors}`)
    const latencies = new Latencies()
    const lastTs = new Map<string, number>()
    const periodMs = 1000 / sc.rateHz
    let measuring = false
    let received = 0
    let lost = 0
    const off = service.onEvent((e: ConsoleEvent) => {
      if (e.kind !== 'notification' || e.endpoint !== ENDPOINT) return
      const at = nowMs()
      for (const rec of e.records) {
        if (rec.time === undefined) continue
        const ms = rec.time * 1000
        const prev = lastTs.get(rec.path)
        lastTs.set(rec.path, ms)
        if (!measuring) continue
        received++
        // Timestamps advance by one period per sample: a longer step means samples missing in between.
        if (prev !== undefined) lost += Math.max(0, Math.round((ms - prev) / periodMs) - 1)
        // Anchored at the first sample's arrival: a lower bound of the sensor-to-server latency.
        latencies.add(at - ms)
      }
    })
    progress(`pipeline ${sc.sensors}×${sc.rateHz} Hz, three processes — warm-up ${options.warmupS} s, then ${options.durationS} s measured`)
    await sleep(options.warmupS * 1000)
    measuring = true
    const c0 = cpuMs(pid)
    const t0 = performance.now()
    await sleep(options.durationS * 1000)
    const gatewayCpuPct = ((cpuMs(pid) - c0) / (performance.now() - t0)) * 100
    measuring = false
    const rss1 = rssKb(pid)
    off()
    return { gatewayCpuPct, kbPerSensor: (rss1 - rss0) / sc.sensors, received, lost, latencies }
  } finally {
    for (const c of children.reverse()) await c.stop()
    await service.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

// ---- report --------------------------------------------------------------------------------------------------

export async function runPipelineBench(options: PipelineBenchOptions, progress: (line: string) => void): Promise<BenchReport> {
  const rows: string[][] = [['scenario', 'measure', 'value', 'detail']]
  const summary: Record<string, number> = {}
  for (const [i, sc] of options.scenarios.entries()) {
    const name = `${sc.sensors}×${sc.rateHz} Hz`
    const suffix = i === 0 ? '' : `_${sc.sensors}x${sc.rateHz}`
    const one = await runInProcess(sc, options, progress)
    rows.push([name, 'latency p50', `${readable(one.latencies.percentile(50))} ms`, 'sensor hands the sample to its link → server notification event, one process'])
    rows.push([name, 'latency p99', `${readable(one.latencies.percentile(99))} ms`, `${readable(one.latencies.count)} samples`])
    rows.push([name, 'samples lost', String(one.lost), `${readable(one.sent)} sent in ${options.durationS} s, ${readable(one.received)} at the server`])
    rows.push([name, 'samples per notification', readable(one.received / Math.max(1, one.notifications)), `${readable(one.notifications)} notifications`])
    rows.push([name, 'CPU, whole process', `${readable(one.processCpuPct)} %`, 'sensors + virtual controller + noble + gateway + server'])
    rows.push([name, 'memory per sensor', `${readable(one.kbPerSensor)} KB`, 'live heap + buffers after a full GC, per sensor connected with its twins, after the first (BLE stack and server share included)'])
    summary[`latency_p50_ms${suffix}`] = one.latencies.percentile(50)
    summary[`latency_p99_ms${suffix}`] = one.latencies.percentile(99)
    summary[`lost_samples${suffix}`] = one.lost
    // Per sensor after the first: needs two sensors or more.
    if (Number.isFinite(one.kbPerSensor)) summary[`kb_per_sensor${suffix}`] = one.kbPerSensor
    if (options.processes) {
      const three = await runProcesses(sc, options, progress)
      rows.push([name, 'gateway CPU', `${readable(three.gatewayCpuPct)} %`, 'of one core: the gateway process alone (noble over HCI UART, twins, LwM2M client)'])
      rows.push([name, 'gateway RSS growth', `${readable(three.kbPerSensor)} KB/sensor`, 'RSS of the gateway process, streaming vs idle (heap growth and JIT included)'])
      rows.push([name, 'samples lost (processes)', String(three.lost), `${readable(three.received)} received; gaps in the sensor timestamps`])
      rows.push([name, 'latency p99 (processes)', `${readable(three.latencies.percentile(99))} ms`, "from the gateway's anchor of the sensor clock (a lower bound)"])
      summary[`gateway_cpu_pct${suffix}`] = three.gatewayCpuPct
      summary[`lost_samples_processes${suffix}`] = three.lost
    }
  }
  return { rows, summary }
}
