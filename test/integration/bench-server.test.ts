import { describe, expect, it } from 'vitest'
import { runObjecttwin } from '../support/run-objecttwin.ts'
import { SUMMARY_KEYS } from '../../bench/server-bench.ts'

describe('objecttwin bench server', () => {
  it('runs a tiny fleet against both servers and ends with a summary line holding every key', async () => {
    const r = await runObjecttwin(['bench', 'server', '--clients', '20', '--duration', '1', '--concurrency', '10', '--streams', '5', '--rss-clients', '40'], 120_000)
    expect(r.stderr).not.toMatch(/Error|^objecttwin: /m)
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^server\s+measure\s+value\s+detail$/)
    expect(r.stdout).toMatch(/^lwm2m-node-lib\s+reads\/s/m)
    const last = lines.at(-1) ?? ''
    expect(last).toMatch(/^summary: /)
    const pairs = new Map(
      last
        .slice('summary: '.length)
        .split(' ')
        .map((pair) => pair.split('=') as [string, string]),
    )
    for (const key of SUMMARY_KEYS) {
      expect(pairs.has(key), `summary has ${key}`).toBe(true)
      expect(pairs.get(key), `${key} is a plain number`).toMatch(/^-?\d+(\.\d+)?$/)
    }
  }, 150_000)

  it('refuses a bad option with a one-line reason and a non-zero exit', async () => {
    const r = await runObjecttwin(['bench', 'server', '--clients', 'many'], 20_000)
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toBe('objecttwin: --clients must be a whole number of at least 1, not "many"')
    expect(r.stdout).toBe('')
  })

  it('lists the server bench under bench --help', async () => {
    const r = await runObjecttwin(['bench', '--help'], 20_000)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^\s+server \[options\]/m)
  })
})
