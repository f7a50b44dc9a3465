import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ConsoleService } from '../electron/console/console-service.ts'
import { BATTERY_PATH, ECG_PATH, ECG_SAMPLE_RATE_HZ, Fleet, nowMs, type FleetClient, type Peer, type RegisterResult } from './fleet.ts'
import { NodeLibServer } from './nodelib-server.ts'
import { Latencies, readable } from './stats.ts'

export interface ServerBenchOptions {
  /** Fleet size for registrations, reads and notifications. */
  readonly clients: number
  /** Seconds each throughput phase runs. */
  readonly durationS: number
  /** Reads in flight at once. */
  readonly concurrency: number
  readonly registerConcurrency: number
  /** Observed clients streaming ECG, each 250 samples/s. */
  readonly streams: number
  /** Samples per notification. */
  readonly batch: number
  /** Registrations held by the `serve` process whose memory is measured (a tenth of them for the first mark). */
  readonly rssClients: number
  /** Measure lwm2m-node-lib too. */
  readonly nodelib: boolean
}

export interface BenchReport {
  /** Header first. */
  readonly rows: string[][]
  readonly summary: Record<string, number>
}

const LOOPBACK = '127.0.0.1'
const HEADER = ['server', 'measure', 'value', 'detail']
const OURS = 'objecttwin'
const NODELIB = 'lwm2m-node-lib'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!predicate() && performance.now() < deadline) await sleep(10)
}

// ---- measurements --------------------------------------------------------------------------------

export interface LoopResult {
  readonly ok: number
  readonly failed: number
  readonly elapsedMs: number
  readonly latencies: Latencies
  readonly firstError?: string
}

/** Keeps `concurrency` operations in flight for `durationMs`, round-robin over the targets. */
export async function closedLoop<T>(targets: readonly T[], concurrency: number, durationMs: number, operation: (target: T) => Promise<void>): Promise<LoopResult> {
  const latencies = new Latencies()
  let ok = 0
  let failed = 0
  let firstError: string | undefined
  let next = 0
  const started = performance.now()
  const end = started + durationMs
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const target = targets[next++ % targets.length] as T
      const t0 = performance.now()
      try {
        await operation(target)
        latencies.add(performance.now() - t0)
        ok++
      } catch (e) {
        failed++
        firstError ??= (e as Error).message
      }
    }
  }
  await Promise.all(Array.from({ length: targets.length === 0 ? 0 : concurrency }, worker))
  return { ok, failed, elapsedMs: performance.now() - started, latencies, ...(firstError ? { firstError } : {}) }
}

/** A short unmeasured run first, so JIT warm-up does not count against either server. */
async function measureReads<T>(targets: readonly T[], options: ServerBenchOptions, operation: (target: T) => Promise<void>): Promise<LoopResult> {
  await closedLoop(targets, options.concurrency, Math.min(1000, (options.durationS * 1000) / 5), operation)
  return closedLoop(targets, options.concurrency, options.durationS * 1000, operation)
}

/** The fleet has a few clients more than measured: they register first, unmeasured, to warm up the JIT. */
function splitWarmup(clients: readonly FleetClient[], options: ServerBenchOptions): { warmup: FleetClient[]; measured: FleetClient[] } {
  const warmup = clients.length - options.clients
  return { warmup: clients.slice(0, warmup), measured: clients.slice(warmup) }
}

const warmupClients = (clients: number): number => Math.min(200, Math.ceil(clients / 5))

export const perSecond = (count: number, elapsedMs: number): number => (elapsedMs > 0 ? (count * 1000) / elapsedMs : 0)

export const failures = (failed: number, firstError?: string): string => (failed > 0 ? `, ${failed} failed (${firstError ?? 'unknown'})` : '')

// ---- file descriptors and memory -------------------------------------------------------------------

/** The soft limit on open files (`ulimit -n`), or undefined where /proc is not available. */
function openFileLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    if (!match) return undefined
    return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1])
  } catch {
    return undefined
  }
}

/** Resident set size of a process in MB. */
function rssMb(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    if (match) return Number(match[1]) / 1024
  } catch {
    // not Linux: ask ps
  }
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) / 1024
}

interface ServeChild {
  readonly child: ChildProcess
  readonly coapPort: number
}

/** `objecttwin serve --memory` on free ports, run directly (not through bin/) so its PID is the server's. */
async function startServe(): Promise<ServeChild> {
  const entry = fileURLToPath(new URL('../electron/cli/objecttwin.ts', import.meta.url))
  const flags = process.features.typescript ? [] : ['--experimental-strip-types', '--disable-warning=ExperimentalWarning']
  const child = spawn(process.execPath, [...flags, entry, 'serve', '--memory', '--http-port', '0', '--coap-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)))
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  try {
    const coapPort = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`objecttwin serve did not print its listening line within 20 s: ${stderr.trim()}`)), 20_000)
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`objecttwin serve exited with code ${code ?? 'null'} before listening: ${stderr.trim()}`))
      })
      lines.on('line', (line) => {
        const match = /^listening http=\d+ coap=(\d+)/.exec(line)
        if (!match) return
        clearTimeout(timer)
        resolve(Number(match[1]))
      })
    })
    return { child, coapPort }
  } catch (e) {
    await stopChild(child)
    throw e
  } finally {
    lines.close()
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  process.kill(child.pid, 'SIGTERM')
  const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

// ---- the phases -------------------------------------------------------------------------------------

interface OursResult {
  readonly registration: RegisterResult
  readonly reads: LoopResult
  readonly observed: number
  readonly observeFailed: number
  readonly offeredSamples: number
  readonly ingestedSamples: number
  readonly streamMs: number
  readonly notify: Latencies
}

async function benchOurs(fleet: Fleet, options: ServerBenchOptions, progress: (line: string) => void): Promise<OursResult> {
  const service = await ConsoleService.create({ coapPort: 0 })
  let counting = false
  let ingestedSamples = 0
  const notify = new Latencies()
  // A listener is always attached, as in the console with its UI open (wire log included).
  service.onEvent((event) => {
    if (event.kind !== 'notification' || !counting) return
    const arrived = nowMs()
    let last = 0
    for (const r of event.records) if (r.time !== undefined && r.time > last) last = r.time
    ingestedSamples += event.records.length
    if (last > 0) notify.add(arrived - last * 1000)
  })
  try {
    const server: Peer = { address: LOOPBACK, port: service.coapPort }
    const { warmup, measured } = splitWarmup(fleet.clients, options)
    progress(`${OURS} — registering ${measured.length} clients (after ${warmup.length} unmeasured)`)
    await fleet.registerAll(warmup, server, options.registerConcurrency)
    const registration = await fleet.registerAll(measured, server, options.registerConcurrency)

    const endpoints = fleet.clients.filter((c) => c.location).map((c) => c.endpoint)
    progress(`${OURS} — reading ${BATTERY_PATH} for ${options.durationS} s, ${options.concurrency} in flight`)
    const reads = await measureReads(endpoints, options, async (endpoint) => {
      const r = await service.read(endpoint, BATTERY_PATH, { timeoutMs: 5000 })
      if (!r.ok) throw new Error(r.error.message)
      if (!r.value.success || r.value.records?.[0]?.value !== 87) throw new Error(`read answered ${r.value.code} ${JSON.stringify(r.value.records ?? r.value.decodeError ?? '')}`)
    })

    const streamers = fleet.clients.filter((c) => c.location).slice(0, options.streams)
    progress(`${OURS} — observing ${ECG_PATH} on ${streamers.length} clients`)
    let observeFailed = 0
    const observed: FleetClient[] = []
    for (let i = 0; i < streamers.length; i += 32) {
      await Promise.all(
        streamers.slice(i, i + 32).map(async (c) => {
          const r = await service.observe(c.endpoint, [ECG_PATH], { timeoutMs: 5000 })
          if (r.ok && r.value.success && c.observation) observed.push(c)
          else observeFailed++
        }),
      )
    }
    const offeredRate = observed.length * ECG_SAMPLE_RATE_HZ
    progress(`${OURS} — ${observed.length} ECG streams, ${offeredRate} samples/s in batches of ${options.batch}, for ${options.durationS} s`)
    counting = true
    const stream = await fleet.stream(observed, options.batch, options.durationS * 1000)
    await waitUntil(() => ingestedSamples >= stream.samples, 2000)
    counting = false
    return { registration, reads, observed: observed.length, observeFailed, offeredSamples: stream.samples, ingestedSamples, streamMs: stream.elapsedMs, notify }
  } finally {
    await service.close()
  }
}

interface NodeLibResult {
  readonly registration: RegisterResult
  readonly reads: LoopResult
}

async function benchNodeLib(fleet: Fleet, options: ServerBenchOptions, progress: (line: string) => void): Promise<NodeLibResult> {
  const nodelib = await NodeLibServer.start()
  try {
    const { warmup, measured } = splitWarmup(fleet.clients, options)
    progress(`${NODELIB} — registering ${measured.length} clients (after ${warmup.length} unmeasured)`)
    for (const c of fleet.clients) c.location = undefined
    const server: Peer = { address: LOOPBACK, port: nodelib.port }
    await fleet.registerAll(warmup, server, options.registerConcurrency)
    const registration = await fleet.registerAll(measured, server, options.registerConcurrency)
    const deviceIds: number[] = []
    for (const c of fleet.clients) if (c.location) deviceIds.push(await nodelib.deviceId(c.endpoint))
    progress(`${NODELIB} — reading ${BATTERY_PATH} for ${options.durationS} s, ${options.concurrency} in flight`)
    const reads = await measureReads(deviceIds, options, async (deviceId) => {
      const value = await nodelib.read(deviceId, 3, 0, 9)
      if (value !== '87') throw new Error(`read answered "${value}"`)
    })
    return { registration, reads }
  } finally {
    await nodelib.stop()
  }
}

interface RssResult {
  readonly idleMb: number
  readonly marks: readonly { readonly clients: number; readonly rssMb: number; readonly registration: RegisterResult }[]
  readonly rolling: boolean
}

async function benchRss(options: ServerBenchOptions, progress: (line: string) => void): Promise<RssResult> {
  const total = options.rssClients
  const first = Math.max(1, Math.round(total / 10))
  const limit = openFileLimit()
  // Keep every client's socket open when the fd limit allows; else open, register and close each in turn.
  const rolling = limit !== undefined && limit < total + 256
  progress(`rss — starting objecttwin serve --memory${rolling ? `; the fd limit (${limit}) is below ${total + 256}, so each client's socket closes once it is registered` : ''}`)
  const { child, coapPort } = await startServe()
  const fleet = rolling ? undefined : await Fleet.open(total, { endpointPrefix: 'rss' })
  const roller = rolling ? await Fleet.open(0) : undefined
  try {
    const server: Peer = { address: LOOPBACK, port: coapPort }
    const pid = child.pid as number
    await sleep(500)
    const idleMb = rssMb(pid)
    const marks: { clients: number; rssMb: number; registration: RegisterResult }[] = []
    let done = 0
    for (const mark of [first, total]) {
      progress(`rss — registering clients ${done + 1}–${mark}`)
      const registration = fleet
        ? await fleet.registerAll(fleet.clients.slice(done, mark), server, options.registerConcurrency)
        : await (roller as Fleet).registerRolling(
            Array.from({ length: mark - done }, (_, i) => `rss-${String(done + i + 1).padStart(6, '0')}`),
            server,
            options.registerConcurrency,
          )
      done = mark
      await sleep(1000) // let the server settle (sweep, GC) before reading its memory
      marks.push({ clients: mark, rssMb: rssMb(pid), registration })
    }
    return { idleMb, marks, rolling }
  } finally {
    await stopChild(child)
    await fleet?.close()
    await roller?.close()
  }
}

// ---- the report ----------------------------------------------------------------------------------------

export async function runServerBench(options: ServerBenchOptions, progress: (line: string) => void = () => undefined): Promise<BenchReport> {
  const limit = openFileLimit()
  const needed = options.clients + warmupClients(options.clients) + options.concurrency + 128
  if (limit !== undefined && limit < needed) {
    throw new Error(`--clients ${options.clients} needs about ${needed} open files, but the limit is ${limit}: raise it (ulimit -n ${needed}) or pass fewer --clients`)
  }

  const fleetSize = options.clients + warmupClients(options.clients)
  progress(`fleet — opening ${fleetSize} client sockets`)
  const fleet = await Fleet.open(fleetSize)
  let ours: OursResult
  let nodelib: NodeLibResult | undefined
  try {
    ours = await benchOurs(fleet, options, progress)
    if (options.nodelib) nodelib = await benchNodeLib(fleet, options, progress)
  } finally {
    await fleet.close()
  }
  const rss = await benchRss(options, progress)

  const rows: string[][] = [HEADER]
  const summary: Record<string, number> = {}

  const reg = ours.registration
  summary.registrations_per_s = perSecond(reg.registered, reg.elapsedMs)
  rows.push([OURS, 'registrations/s', readable(summary.registrations_per_s), `${reg.registered} clients, ${options.registerConcurrency} in flight${failures(reg.failed, reg.firstError)}`])

  const reads = ours.reads
  summary.reads_per_s = perSecond(reads.ok, reads.elapsedMs)
  summary.read_p50_ms = reads.latencies.percentile(50)
  summary.read_p99_ms = reads.latencies.percentile(99)
  rows.push([OURS, 'reads/s', readable(summary.reads_per_s), `${BATTERY_PATH}, ${options.concurrency} in flight for ${options.durationS} s, SenML CBOR${failures(reads.failed, reads.firstError)}`])
  rows.push([OURS, 'read latency p50 / p99', `${readable(summary.read_p50_ms)} / ${readable(summary.read_p99_ms)} ms`, `${reads.ok} reads`])

  summary.samples_per_s = perSecond(ours.ingestedSamples, ours.streamMs)
  summary.notify_p50_ms = ours.notify.percentile(50)
  summary.notify_p99_ms = ours.notify.percentile(99)
  const lost = ours.offeredSamples - ours.ingestedSamples
  rows.push([
    OURS,
    'samples/s ingested',
    readable(summary.samples_per_s),
    `${ours.observed} streams × ${ECG_SAMPLE_RATE_HZ} Hz, SenML CBOR batches of ${options.batch}; offered ${readable(perSecond(ours.offeredSamples, ours.streamMs))}/s, ${lost} lost${ours.observeFailed > 0 ? `, ${ours.observeFailed} observes failed` : ''}`,
  ])
  rows.push([OURS, 'notify latency p50 / p99', `${readable(summary.notify_p50_ms)} / ${readable(summary.notify_p99_ms)} ms`, `client send → notification event, ${ours.notify.count} notifications`])

  if (nodelib) {
    const nreg = nodelib.registration
    summary.nodelib_registrations_per_s = perSecond(nreg.registered, nreg.elapsedMs)
    rows.push([NODELIB, 'registrations/s', readable(summary.nodelib_registrations_per_s), `${nreg.registered} clients, ${options.registerConcurrency} in flight${failures(nreg.failed, nreg.firstError)}`])
    const nreads = nodelib.reads
    summary.nodelib_reads_per_s = perSecond(nreads.ok, nreads.elapsedMs)
    summary.nodelib_read_p99_ms = nreads.latencies.percentile(99)
    rows.push([NODELIB, 'reads/s', readable(summary.nodelib_reads_per_s), `${BATTERY_PATH}, ${options.concurrency} in flight for ${options.durationS} s, text/plain${failures(nreads.failed, nreads.firstError)}`])
    rows.push([NODELIB, 'read latency p50 / p99', `${readable(nreads.latencies.percentile(50))} / ${readable(summary.nodelib_read_p99_ms)} ms`, `${nreads.ok} reads`])
    summary.x_nodelib = summary.nodelib_reads_per_s > 0 ? summary.reads_per_s / summary.nodelib_reads_per_s : 0
    rows.push(['ratio', 'reads/s objecttwin ÷ lwm2m-node-lib', `${readable(summary.x_nodelib)}×`, 'same fleet, same concurrency'])
  }

  const serve = `${OURS} serve`
  rows.push([serve, 'RSS idle', `${readable(rss.idleMb)} MB`, 'serve --memory, own process'])
  for (const [i, mark] of rss.marks.entries()) {
    rows.push([serve, `RSS ${mark.clients} clients`, `${readable(mark.rssMb)} MB`, `registered at ${readable(perSecond(mark.registration.registered, mark.registration.elapsedMs))}/s${rss.rolling ? ' (sockets closed after registering)' : ''}${failures(mark.registration.failed, mark.registration.firstError)}`])
    summary[i === 0 ? 'rss_1k_mb' : 'rss_10k_mb'] = mark.rssMb
  }
  return { rows, summary: orderSummary(summary, options.nodelib) }
}

/** The keys of the summary line, in order (the nodelib ones only when lwm2m-node-lib was measured). */
export const SUMMARY_KEYS: readonly string[] = [
  'registrations_per_s',
  'reads_per_s',
  'read_p50_ms',
  'read_p99_ms',
  'samples_per_s',
  'notify_p50_ms',
  'notify_p99_ms',
  'rss_1k_mb',
  'rss_10k_mb',
  'nodelib_registrations_per_s',
  'nodelib_reads_per_s',
  'nodelib_read_p99_ms',
  'x_nodelib',
]

function orderSummary(summary: Record<string, number>, nodelib: boolean): Record<string, number> {
  const out: Record<string, number> = {}
  for (const key of SUMMARY_KEYS) if (key in summary || !key.includes('nodelib') || nodelib) out[key] = summary[key] ?? 0
  return out
}
