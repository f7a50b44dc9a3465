import { describe, expect, it } from 'vitest'
import { HistoryCsv } from '../../shared/api/history-schemas.ts'
import type { SamplePage } from '../store/history-store.ts'
import { csvChunks, csvFileName, historyCsv } from './history-csv.ts'

const T = Date.UTC(2026, 0, 1)
const PAGES: SamplePage[] = [
  { times: [T, T + 4], values: [1, -2.5] },
  { times: [T + 8, T + 12, T + 16], values: ['a "b"', '=SUM(A1)', true] },
]

describe('history CSV', () => {
  it('writes one time,value line per sample: ISO times, strings quoted, formulas defused', () => {
    const text = [...csvChunks(PAGES)].join('')
    expect(text).toBe(
      'time,value\n' +
        '2026-01-01T00:00:00.000Z,1\n2026-01-01T00:00:00.004Z,-2.5\n' +
        '2026-01-01T00:00:00.008Z,"a ""b"""\n2026-01-01T00:00:00.012Z,"\'=SUM(A1)"\n2026-01-01T00:00:00.016Z,true\n',
    )
  })

  it('answers the same text as one string, with its file name and sample count', () => {
    const r = historyCsv('ecg 7', '/1031/0/1', PAGES)
    expect(r).toEqual({ ok: true, value: { filename: 'ecg-7_1031_0_1.csv', samples: 5, csv: [...csvChunks(PAGES)].join('') } })
    expect(r.ok && HistoryCsv.safeParse(r.value).success).toBe(true)
    expect(historyCsv('ep', '/3/0/9', [])).toEqual({ ok: true, value: { filename: 'ep_3_0_9.csv', samples: 0, csv: 'time,value\n' } })
  })

  it('takes up to the ceiling and refuses one sample more, telling the user to narrow the range', () => {
    expect(historyCsv('ep', '/1031/0/1', PAGES, 5)).toMatchObject({ ok: true, value: { samples: 5 } })
    const over = historyCsv('ep', '/1031/0/1', PAGES, 4)
    expect(over).toEqual({ ok: false, error: { code: 'invalid_input', message: expect.stringMatching(/^exportHistoryCsv: ep \/1031\/0\/1 has more than 4 samples in this range.*narrow the range/) } })
  })

  it('names files safely', () => {
    expect(csvFileName('a/b"c', '/1/0/1')).toBe('a-b-c_1_0_1.csv')
  })
})
