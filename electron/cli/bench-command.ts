import type { Command } from 'commander'
import type { BenchReport, ServerBenchOptions } from '../../bench/server-bench.ts'
import { CliError, type CliIo } from './program.ts'

function count(value: string, name: string, min = 1): number {
  if (!/^\d+$/.test(value) || Number(value) < min) throw new CliError(`${name} must be a whole number of at least ${min}, not "${value}"`)
  return Number(value)
}

/** Runs one bench and prints its table, then the summary line; a failure names the bench and its cause. */
async function printReport(io: CliIo, name: string, run: (progress: (line: string) => void) => Promise<BenchReport>): Promise<void> {
  const { formatTable, summaryLine } = await import('../../bench/stats.ts')
  let report: BenchReport
  try {
    report = await run((line) => io.err(line))
  } catch (e) {
    throw new CliError(`bench ${name}: ${(e as Error).message}`)
  }
  io.out(formatTable(report.rows))
  io.out(summaryLine(report.summary))
}

function seconds(value: string, name: string): number {
  const n = Number(value)
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0) throw new CliError(`${name} must be a positive number of seconds, not "${value}"`)
  return n
}

const SERVER_DEFAULTS: ServerBenchOptions = {
  clients: 1000,
  durationS: 10,
  concurrency: 100,
  registerConcurrency: 64,
  streams: 120,
  batch: 25,
  rssClients: 10_000,
  nodelib: true,
}

interface ServerCliOptions {
  clients: string
  duration: string
  concurrency: string
  registerConcurrency: string
  streams: string
  batch: string
  rssClients: string
  nodelib: boolean
}

/**
 * `bench <name>`: each bench prints a table (progress goes to stderr), then one last line
 * `summary: key=value …`. Benches are subcommands so each keeps its own options.
 */
export function registerBenchCommand(program: Command, io: CliIo): void {
  const bench = program.command('bench').description('measure the engine: prints a table, then a "summary: key=value …" line')
  const d = SERVER_DEFAULTS
  bench
    .command('server')
    .description('LwM2M server: registrations, reads, ECG notifications and memory, against a simulated fleet over loopback UDP; and lwm2m-node-lib for comparison')
    .option('--clients <n>', 'simulated clients (one UDP socket each)', String(d.clients))
    .option('--duration <s>', 'seconds per throughput phase', String(d.durationS))
    .option('--concurrency <n>', 'reads in flight', String(d.concurrency))
    .option('--register-concurrency <n>', 'registrations in flight', String(d.registerConcurrency))
    .option('--streams <n>', 'observed clients streaming ECG at 250 samples/s each', String(d.streams))
    .option('--batch <n>', 'samples per notification', String(d.batch))
    .option('--rss-clients <n>', 'registrations held when measuring the serve process memory (also measured at a tenth)', String(d.rssClients))
    .option('--no-nodelib', 'skip lwm2m-node-lib')
    .action(async (o: ServerCliOptions) => {
      const options: ServerBenchOptions = {
        clients: count(o.clients, '--clients'),
        durationS: seconds(o.duration, '--duration'),
        concurrency: count(o.concurrency, '--concurrency'),
        registerConcurrency: count(o.registerConcurrency, '--register-concurrency'),
        streams: count(o.streams, '--streams', 0),
        batch: count(o.batch, '--batch'),
        rssClients: count(o.rssClients, '--rss-clients', 2),
        nodelib: o.nodelib,
      }
      // Loaded on demand: the bench pulls in the whole engine and a simulated fleet.
      const { runServerBench } = await import('../../bench/server-bench.ts')
      await printReport(io, 'server', (progress) => runServerBench(options, progress))
    })
  bench
    .command('dtls')
    .description('the DTLS 1.2 PSK server: handshakes/s it completes, and read round-trips/s over DTLS and over plain CoAP in the same run')
    .option('--duration <s>', 'seconds per phase', '5')
    .option('--handshake-concurrency <n>', 'handshakes in flight', '16')
    .option('--clients <n>', 'clients per transport answering the reads', '50')
    .option('--concurrency <n>', 'reads in flight', '50')
    .option('--cipher <suite>', 'ccm8 (TLS_PSK_WITH_AES_128_CCM_8) or cbc (TLS_PSK_WITH_AES_128_CBC_SHA256)', 'ccm8')
    .action(async (o: { duration: string; handshakeConcurrency: string; clients: string; concurrency: string; cipher: string }) => {
      const ciphers = { ccm8: 'TLS_PSK_WITH_AES_128_CCM_8', cbc: 'TLS_PSK_WITH_AES_128_CBC_SHA256' } as const
      if (o.cipher !== 'ccm8' && o.cipher !== 'cbc') throw new CliError(`--cipher must be ccm8 or cbc, not "${o.cipher}"`)
      const options = {
        durationS: seconds(o.duration, '--duration'),
        handshakeConcurrency: count(o.handshakeConcurrency, '--handshake-concurrency'),
        clients: count(o.clients, '--clients'),
        concurrency: count(o.concurrency, '--concurrency'),
        cipher: ciphers[o.cipher],
      }
      const { runDtlsBench } = await import('../../bench/dtls-bench.ts')
      await printReport(io, 'dtls', (progress) => runDtlsBench(options, progress))
    })
  bench
    .command('pipeline')
    .description('simulated ECG sensors → gateway → embedded server → API event: latency, samples lost, gateway CPU and memory, for 4×150 Hz and 8×500 Hz')
    .option('--duration <s>', 'seconds measured per scenario', '10')
    .option('--warmup <s>', 'seconds before measuring', '2')
    .option('--scenarios <list>', 'sensors×rate pairs, e.g. 4x150,8x500', '4x150,8x500')
    .option('--no-processes', 'skip the three-process run (gateway CPU and memory)')
    .action(async (o: { duration: string; warmup: string; scenarios: string; processes: boolean }) => {
      const scenarios = o.scenarios.split(',').map((s) => {
        const m = /^(\d+)x(\d+)$/.exec(s.trim())
        if (!m || Number(m[1]) < 1 || Number(m[2]) < 25 || Number(m[2]) > 1000) throw new CliError(`--scenarios takes SENSORSxHZ pairs (e.g. 4x150, rate 25..1000), not "${s}"`)
        return { sensors: Number(m[1]), rateHz: Number(m[2]) }
      })
      const options = { scenarios, durationS: seconds(o.duration, '--duration'), warmupS: seconds(o.warmup, '--warmup'), processes: o.processes }
      const { runPipelineBench } = await import('../../bench/pipeline-bench.ts')
      await printReport(io, 'pipeline', (progress) => runPipelineBench(options, progress))
    })
  bench
    .command('store')
    .description('value history on a temporary database: sustained insert rate of ECG notifications, and one hour of 250 Hz decimated to 2,000 points')
    .option('--patients <n>', 'patients streaming at once', '8')
    .option('--rate <hz>', 'samples per second per patient', '500')
    .option('--batch <n>', 'samples per notification', '25')
    .option('--duration <s>', 'seconds spent inserting', '5')
    .option('--hour-rate <hz>', 'samples per second of the hour queried back', '250')
    .option('--queries <n>', 'times the hour is queried (the median is reported)', '5')
    .action(async (o: { patients: string; rate: string; batch: string; duration: string; hourRate: string; queries: string }) => {
      const options = {
        patients: count(o.patients, '--patients'),
        rateHz: count(o.rate, '--rate'),
        batch: count(o.batch, '--batch'),
        durationS: seconds(o.duration, '--duration'),
        hourRateHz: count(o.hourRate, '--hour-rate'),
        queries: count(o.queries, '--queries'),
      }
      const { runStoreBench } = await import('../../bench/store-bench.ts')
      const { formatTable, summaryLine } = await import('../../bench/stats.ts')
      let report: Awaited<ReturnType<typeof runStoreBench>>
      try {
        report = await runStoreBench(options, (line) => io.err(line))
      } catch (e) {
        throw new CliError(`bench store: ${(e as Error).message}`)
      }
      io.out(formatTable(report.rows))
      io.out(summaryLine(report.summary))
    })
  bench
    .command('chart')
    .description('the ECG wall in headless Chromium (needs the built UI): frame times and renderer CPU with ECG sensors streaming through the console')
    .option('--seconds <s>', 'seconds measured', '20')
    .option('--warmup <s>', 'seconds before measuring', '3')
    .option('--sensors <n>', 'ECG sensors (patients on the wall)', '4')
    .option('--rate <hz>', 'sampling rate written to each ECG twin', '500')
    .option('--window <s>', 'seconds per screen on the wall (6, 10 or 20)', '10')
    .action(async (o: { seconds: string; warmup: string; sensors: string; rate: string; window: string }) => {
      if (!['6', '10', '20'].includes(o.window)) throw new CliError(`--window must be 6, 10 or 20 seconds, not "${o.window}"`)
      const rateHz = count(o.rate, '--rate', 25)
      if (rateHz > 1000) throw new CliError(`--rate must be at most 1000 Hz, not ${rateHz}`)
      const { CHART_BENCH_DEFAULTS, runChartBench } = await import('../../bench/chart-bench.ts')
      const options = {
        ...CHART_BENCH_DEFAULTS,
        seconds: seconds(o.seconds, '--seconds'),
        warmupS: seconds(o.warmup, '--warmup'),
        sensors: count(o.sensors, '--sensors'),
        rateHz,
        windowS: Number(o.window),
      }
      await printReport(io, 'chart', (progress) => runChartBench(options, progress))
    })
}
