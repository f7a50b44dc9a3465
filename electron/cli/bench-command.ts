import type { Command } from 'commander'
import type { ServerBenchOptions } from '../../bench/server-bench.ts'
import { CliError, type CliIo } from './program.ts'

function count(value: string, name: string, min = 1): number {
  if (!/^\d+$/.test(value) || Number(value) < min) throw new CliError(`${name} must be a whole number of at least ${min}, not "${value}"`)
  return Number(value)
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
      const { formatTable, summaryLine } = await import('../../bench/stats.ts')
      let report: Awaited<ReturnType<typeof runServerBench>>
      try {
        report = await runServerBench(options, (line) => io.err(line))
      } catch (e) {
        throw new CliError(`bench server: ${(e as Error).message}`)
      }
      io.out(formatTable(report.rows))
      io.out(summaryLine(report.summary))
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
      const { runPipelineBench } = await import('../../bench/pipeline-bench.ts')
      const { formatTable, summaryLine } = await import('../../bench/stats.ts')
      let report: Awaited<ReturnType<typeof runPipelineBench>>
      try {
        report = await runPipelineBench({ scenarios, durationS: seconds(o.duration, '--duration'), warmupS: seconds(o.warmup, '--warmup'), processes: o.processes }, (line) => io.err(line))
      } catch (e) {
        throw new CliError(`bench pipeline: ${(e as Error).message}`)
      }
      io.out(formatTable(report.rows))
      io.out(summaryLine(report.summary))
    })
}
