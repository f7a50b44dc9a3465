import { describe, expect, it } from 'vitest'
import { runObjecttwin } from '../support/run-objecttwin.ts'

const KEYS = ['latency_p50_ms', 'latency_p99_ms', 'lost_samples', 'kb_per_sensor', 'gateway_cpu_pct']

describe('objecttwin bench pipeline', () => {
  it('streams two ECG sensors through the gateway in one and in three processes, and ends with the summary keys', async () => {
    const r = await runObjecttwin(['bench', 'pipeline', '--scenarios', '2x150', '--duration', '2', '--warmup', '0.5'], 120_000)
    expect(r.stderr).not.toMatch(/Error|^objecttwin: /m)
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^scenario\s+measure\s+value\s+detail$/)
    expect(r.stdout).toMatch(/^2×150 Hz\s+gateway CPU\s+[\d.]+ %/m)
    const last = lines.at(-1) ?? ''
    expect(last).toMatch(/^summary: /)
    const pairs = new Map(last.slice('summary: '.length).split(' ').map((pair) => pair.split('=') as [string, string]))
    for (const key of KEYS) expect(pairs.get(key), `${key} is a plain number`).toMatch(/^\d+(\.\d+)?$/)
    // A clean link loses nothing.
    expect(pairs.get('lost_samples')).toBe('0')
    expect(pairs.get('lost_samples_processes')).toBe('0')
  }, 150_000)

  it('refuses a bad scenario with a one-line reason', async () => {
    const r = await runObjecttwin(['bench', 'pipeline', '--scenarios', '4by150'], 20_000)
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toBe('objecttwin: --scenarios takes SENSORSxHZ pairs (e.g. 4x150, rate 25..1000), not "4by150"')
  })
})
