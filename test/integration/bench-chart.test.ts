import { describe, expect, it } from 'vitest'
import { runObjecttwin } from '../support/run-objecttwin.ts'
import { hostLacks } from '../support/host-tools.ts'

describe.skipIf(hostLacks('chromium'))('objecttwin bench chart', () => {
  it('measures the ECG wall on a short run, with samples flowing, and ends with the summary keys', async () => {
    const r = await runObjecttwin(['bench', 'chart', '--seconds', '2', '--warmup', '0.5', '--sensors', '2', '--rate', '250'], 120_000)
    expect(r.stderr).not.toMatch(/Error|^objecttwin: /m)
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^measure\s+median\s+p95\s+over 33 ms\s+target$/)
    const last = lines.at(-1) ?? ''
    expect(last).toMatch(/^summary: /)
    const pairs = new Map(last.slice('summary: '.length).split(' ').map((pair) => pair.split('=') as [string, string]))
    for (const key of ['median_frame_ms', 'p95_frame_ms', 'over33_pct', 'renderer_cpu_pct', 'samples_per_s']) {
      expect(pairs.get(key), `${key} is a plain number`).toMatch(/^\d+(\.\d+)?$/)
    }
    // The page drew frames, and the monitors took samples from the streaming sensors.
    expect(Number(pairs.get('frames'))).toBeGreaterThan(0)
    expect(Number(pairs.get('samples_per_s'))).toBeGreaterThan(0)
    expect(pairs.get('patients')).toBe('2')
  }, 150_000)

  it('refuses a window the wall does not offer, with a one-line reason', async () => {
    const r = await runObjecttwin(['bench', 'chart', '--window', '7'], 20_000)
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toBe('objecttwin: --window must be 6, 10 or 20 seconds, not "7"')
  })
})
