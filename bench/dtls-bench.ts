import { Worker } from 'node:worker_threads'
import { ConsoleService } from '../electron/console/console-service.ts'
import { connectDtls } from './dtls-client-socket.ts'
import type { HandshakeJob, HandshakeOutcome } from './dtls-handshake-worker.ts'
import { BATTERY_PATH, Fleet, type Peer } from './fleet.ts'
import { closedLoop, failures, perSecond, type BenchReport, type LoopResult } from './server-bench.ts'
import { Latencies, readable } from './stats.ts'

export interface DtlsBenchOptions {
  /** Seconds per phase (handshakes, DTLS reads, CoAP reads). */
  readonly durationS: number
  /** Handshakes in flight. */
  readonly handshakeConcurrency: number
  /** Clients per transport that answer the reads. */
  readonly clients: number
  /** Reads in flight. */
  readonly concurrency: number
  readonly cipher: HandshakeJob['cipher']
}

export const DTLS_SUMMARY_KEYS: readonly string[] = ['handshakes_per_s', 'handshake_p99_ms', 'dtls_reads_per_s', 'dtls_read_p99_ms', 'coap_reads_per_s', 'coap_read_p99_ms']

const LOOPBACK = '127.0.0.1'
const keyOf = (endpoint: string): Buffer => Buffer.from(`${endpoint}-bench-key`)

/** Handshakes from a worker thread against the server in this one: the two sides do not share a core. */
function handshakesFromWorker(job: HandshakeJob): Promise<HandshakeOutcome> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./dtls-handshake-worker.ts', import.meta.url), { workerData: job })
    worker.once('message', (outcome: HandshakeOutcome) => {
      resolve(outcome)
      void worker.terminate()
    })
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`the handshake worker exited with code ${code} before reporting`)))
  })
}

/** Reads of one resource, round-robin over the fleet's registered clients; a short unmeasured run warms up first. */
async function measureReads(service: ConsoleService, fleet: Fleet, options: DtlsBenchOptions): Promise<LoopResult> {
  const endpoints = fleet.clients.filter((c) => c.location).map((c) => c.endpoint)
  const read = async (endpoint: string): Promise<void> => {
    const r = await service.read(endpoint, BATTERY_PATH, { timeoutMs: 5000 })
    if (!r.ok) throw new Error(r.error.message)
    if (!r.value.success || r.value.records?.[0]?.value !== 87) throw new Error(`read answered ${r.value.code}`)
  }
  await closedLoop(endpoints, options.concurrency, Math.min(1000, (options.durationS * 1000) / 5), read)
  return closedLoop(endpoints, options.concurrency, options.durationS * 1000, read)
}

/**
 * `bench dtls`: DTLS handshakes per second the server completes (node-dtls-client in a worker thread), then
 * read round-trips per second over DTLS and over plain CoAP, against fleets of the same size in the same run.
 */
export async function runDtlsBench(options: DtlsBenchOptions, progress: (line: string) => void): Promise<BenchReport> {
  // All bench clients come from 127.0.0.1: the per-address handshake limit would throttle them.
  const service = await ConsoleService.create({ coapPort: 0, dtls: { maxHandshakes: 10_000, maxHandshakesPerAddress: 10_000 } })
  let dtlsFleet: Fleet | undefined
  let coapFleet: Fleet | undefined
  try {
    const secure: Peer = { address: LOOPBACK, port: service.coapsPort }
    service.setSecurity({ endpoint: 'handshaker', identity: 'handshaker', key: keyOf('handshaker').toString('hex') })
    progress(`handshakes: ${options.handshakeConcurrency} in flight for ${options.durationS} s, ${options.cipher}`)
    const job = { port: secure.port, identity: 'handshaker', keyHex: keyOf('handshaker').toString('hex'), cipher: options.cipher, concurrency: options.handshakeConcurrency }
    await handshakesFromWorker({ ...job, durationMs: Math.min(1000, (options.durationS * 1000) / 5) })
    const completedBefore = service.dtlsStats().handshakesCompleted
    const handshakes = await handshakesFromWorker({ ...job, durationMs: options.durationS * 1000 })
    const completedByServer = service.dtlsStats().handshakesCompleted - completedBefore

    progress(`registering ${options.clients} DTLS clients and ${options.clients} plain CoAP clients`)
    const names = Array.from({ length: options.clients }, (_, i) => `dtls-bench-${String(i + 1).padStart(6, '0')}`)
    for (const endpoint of names) service.setSecurity({ endpoint, identity: endpoint, key: keyOf(endpoint).toString('hex') })
    dtlsFleet = await Fleet.open(options.clients, { endpointPrefix: 'dtls-bench', openSocket: (endpoint) => connectDtls(secure, { identity: endpoint, key: keyOf(endpoint), cipher: options.cipher }) })
    coapFleet = await Fleet.open(options.clients, { endpointPrefix: 'coap-bench' })
    const dtlsReg = await dtlsFleet.registerAll(dtlsFleet.clients, secure, 32)
    const coapReg = await coapFleet.registerAll(coapFleet.clients, { address: LOOPBACK, port: service.coapPort }, 32)
    if (dtlsReg.failed > 0 || coapReg.failed > 0) throw new Error(`registration failed: ${dtlsReg.firstError ?? coapReg.firstError ?? 'unknown'}`)

    progress(`reads over DTLS: ${options.concurrency} in flight for ${options.durationS} s`)
    const dtlsReads = await measureReads(service, dtlsFleet, options)
    progress(`reads over plain CoAP: ${options.concurrency} in flight for ${options.durationS} s`)
    const coapReads = await measureReads(service, coapFleet, options)
    return report(options, handshakes, completedByServer, dtlsReads, coapReads)
  } finally {
    await dtlsFleet?.close()
    await coapFleet?.close()
    await service.close()
  }
}

function report(options: DtlsBenchOptions, handshakes: HandshakeOutcome, completedByServer: number, dtlsReads: LoopResult, coapReads: LoopResult): BenchReport {
  const handshakeTimes = new Latencies()
  for (const ms of handshakes.latencies) handshakeTimes.add(ms)
  const summary: Record<string, number> = {
    handshakes_per_s: perSecond(handshakes.ok, handshakes.elapsedMs),
    handshake_p99_ms: handshakeTimes.percentile(99),
    dtls_reads_per_s: perSecond(dtlsReads.ok, dtlsReads.elapsedMs),
    dtls_read_p99_ms: dtlsReads.latencies.percentile(99),
    coap_reads_per_s: perSecond(coapReads.ok, coapReads.elapsedMs),
    coap_read_p99_ms: coapReads.latencies.percentile(99),
  }
  const reads = (r: LoopResult): string => `${BATTERY_PATH}, ${options.concurrency} in flight over ${options.clients} clients for ${options.durationS} s${failures(r.failed, r.firstError)}`
  const rows: string[][] = [
    ['measure', 'value', 'detail'],
    ['DTLS handshakes/s', readable(summary.handshakes_per_s ?? 0), `${options.cipher}, ${options.handshakeConcurrency} in flight, node-dtls-client in a worker thread; the server completed ${completedByServer}${failures(handshakes.failed, handshakes.firstError)}`],
    ['handshake p50 / p99', `${readable(handshakeTimes.percentile(50))} / ${readable(summary.handshake_p99_ms ?? 0)} ms`, 'ClientHello to the server Finished, cookie exchange included'],
    ['reads/s over DTLS', readable(summary.dtls_reads_per_s ?? 0), reads(dtlsReads)],
    ['DTLS read p50 / p99', `${readable(dtlsReads.latencies.percentile(50))} / ${readable(summary.dtls_read_p99_ms ?? 0)} ms`, `${dtlsReads.ok} reads; client and server in this process`],
    ['reads/s over CoAP', readable(summary.coap_reads_per_s ?? 0), reads(coapReads)],
    ['CoAP read p50 / p99', `${readable(coapReads.latencies.percentile(50))} / ${readable(summary.coap_read_p99_ms ?? 0)} ms`, `${coapReads.ok} reads`],
    ['DTLS ÷ CoAP', `${readable((summary.dtls_reads_per_s ?? 0) / Math.max(1e-9, summary.coap_reads_per_s ?? 0))}×`, 'reads/s, same fleet size and concurrency'],
  ]
  return { rows, summary }
}
