/**
 * A process that appends ECG samples to a HistoryStore until it is killed (the crash test). 500 Hz in
 * ticks of 25 samples every 50 ms; sample i has the value i at T0 + 2·i ms, so the survivor can check
 * that what was kept is a gap-free prefix. After each tick it prints `generated=<n> stored=<n>`.
 * Usage: node test/support/history-writer.ts <database file>
 */
import { openDatabase } from '../../electron/store/database.ts'
import { HistoryStore } from '../../electron/store/history-store.ts'

export const WRITER_T0 = Date.UTC(2026, 0, 1)
export const WRITER_HZ = 500
const PER_TICK = 25

const file = process.argv[2]
if (file !== undefined) {
  const store = new HistoryStore(openDatabase(file), { retentionIntervalMs: 0 })
  let generated = 0
  setInterval(() => {
    for (let k = 0; k < PER_TICK; k++, generated++) store.append('crash', '/1031/0/1', WRITER_T0 + (generated * 1000) / WRITER_HZ, generated, 'integer')
    process.stdout.write(`generated=${generated} stored=${store.stats().storedSamples}\n`)
  }, (PER_TICK * 1000) / WRITER_HZ)
}
