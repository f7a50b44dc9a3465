import { describe, expect, it } from 'vitest'
import { runObjecttwin } from '../support/run-objecttwin.ts'

describe('objecttwin bench store', () => {
  it('inserts and queries on a short run and ends with the summary keys', async () => {
    const r = await runObjecttwin(['bench', 'store', '--patients', '2', '--rate', '250', '--duration', '0.3', '--hour-rate', '25', '--queries', '2'], 60_000)
    expect(r.stderr).not.toMatch(/Error|^objecttwin: /m)
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^measure\s+value\s+detail$/)
    // One hour of 25 Hz, every sample counted and decimated to 2,000 points.
    expect(r.stdout).toMatch(/^hour query\s+[\d.]+ ms\s+90,000 samples \(25 Hz\) → 2,000 points/m)
    const last = lines.at(-1) ?? ''
    expect(last).toMatch(/^summary: /)
    const pairs = new Map(last.slice('summary: '.length).split(' ').map((pair) => pair.split('=') as [string, string]))
    for (const key of ['insert_per_s', 'hour_query_ms', 'bytes_per_sample']) expect(pairs.get(key), `${key} is a plain number`).toMatch(/^\d+(\.\d+)?$/)
    expect(Number(pairs.get('insert_per_s'))).toBeGreaterThan(0)
  }, 90_000)

  it('refuses a bad option with a one-line reason', async () => {
    const r = await runObjecttwin(['bench', 'store', '--rate', 'fast'], 20_000)
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toBe('objecttwin: --rate must be a whole number of at least 1, not "fast"')
  })
})
