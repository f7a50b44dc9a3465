import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../../electron/store/database.ts'
import { HistoryStore } from '../../electron/store/history-store.ts'
import { WRITER_HZ, WRITER_T0 } from '../support/history-writer.ts'

const WRITER = fileURLToPath(new URL('../support/history-writer.ts', import.meta.url))

let dir: string | undefined

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

/** Runs the writer until it reports `stored` samples committed, then kills it with SIGKILL right after its next report. */
function writeUntilKilled(file: string, stored: number): Promise<{ generated: number; stored: number; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, file], { stdio: ['ignore', 'pipe', 'pipe'] })
    let last = { generated: 0, stored: 0 }
    let stderr = ''
    let buffer = ''
    let killed = false
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the writer did not commit ${stored} samples in time; stderr: ${stderr}`))
    }, 60_000)
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8')
      let end: number
      while ((end = buffer.indexOf('\n')) !== -1) {
        const m = /^generated=(\d+) stored=(\d+)$/.exec(buffer.slice(0, end))
        buffer = buffer.slice(end + 1)
        if (!m || killed) continue
        last = { generated: Number(m[1]), stored: Number(m[2]) }
        if (last.stored >= stored) {
          killed = true
          child.kill('SIGKILL')
        }
      }
    })
    child.on('error', reject)
    child.on('exit', (_code, signal) => {
      clearTimeout(timer)
      resolve({ ...last, signal })
    })
  })
}

describe('history after a crash', () => {
  it('opens clean after kill -9 and keeps everything but at most the last second', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ot-history-crash-'))
    const file = join(dir, 'objecttwin.db')
    const seen = await writeUntilKilled(file, 3 * WRITER_HZ)
    expect(seen.signal).toBe('SIGKILL')

    const db = openDatabase(file)
    const store = new HistoryStore(db, { retentionIntervalMs: 0 })
    try {
      expect(db.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' })
      const kept = [...store.samples('crash', '/1031/0/1', WRITER_T0, WRITER_T0 + 3_600_000)]
      const values = kept.flatMap((p) => p.values)
      const times = kept.flatMap((p) => p.times)
      // A gap-free prefix of what was generated, each sample at its time.
      expect(values).toEqual(Array.from({ length: values.length }, (_, i) => i))
      expect(times).toEqual(values.map((i) => WRITER_T0 + ((i as number) * 1000) / WRITER_HZ))
      // Everything reported committed survived; at most one second of samples (500) was lost.
      expect(values.length).toBeGreaterThanOrEqual(seen.stored)
      expect(values.length).toBeGreaterThanOrEqual(seen.generated - WRITER_HZ)
      expect(store.stats().storedSamples).toBe(values.length)

      // And the database takes new samples as before.
      store.append('crash', '/1031/0/1', WRITER_T0 + 3_600_000, -1)
      expect(store.query('crash', '/1031/0/1', { from: WRITER_T0 + 3_600_000, to: WRITER_T0 + 3_600_000 })).toMatchObject({ ok: true, value: { values: [-1] } })
    } finally {
      store.close()
      db.close()
    }
  })
})
