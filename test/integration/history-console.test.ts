import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dispatchApi } from '../../electron/console/api-dispatch.ts'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { startHttpApi } from '../../electron/console/http-api.ts'
import { createHttpTransport } from '../../renderer/src/api/http-transport.ts'
import { HISTORY_CSV_MAX_SAMPLES, type HistoryResult } from '../../shared/api/history-schemas.ts'
import type { Result } from '../../shared/api/result.ts'
import { parsePath } from '../../shared/lwm2m/path.ts'
import type { Lwm2mRecord } from '../../shared/lwm2m/values.ts'
import { useTestClients, waitFor } from '../support/server-harness.ts'
import type { TestClient } from '../support/test-client.ts'

/** The history end to end: a real device observed by the real console, its samples read back over the API, REST and CSV. */
let dir: string
let service: ConsoleService
let app: FastifyInstance
let base: string
const { registered } = useTestClients(() => ({ port: service.coapPort }))

const EP = 'hist-ecg'
const ECG = '/1031/0/1'
/** Device time of the first sample, seconds (2026-01-01T00:01:40Z). */
const T0 = 1_767_225_700

function ecgBatch(first: number, count: number, spikeAt = -1): Lwm2mRecord[] {
  const path = parsePath(ECG)
  return Array.from({ length: count }, (_, j) => {
    const i = first + j
    return { path, value: i === spikeAt ? 4000 : (i % 40) * 10 - 200, type: 'integer' as const, time: T0 + i / 250 }
  })
}

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`)
  return r.value
}

async function get(path: string): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(base + path)
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() }
}

let device: TestClient
let observedAt: number
const SAMPLES = 2500
const SPIKE = 1234

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ot-history-console-'))
  service = await ConsoleService.create({ coapPort: 0, requestTimeoutMs: 3000, dataDir: dir })
  const http = await startHttpApi(service, { host: '127.0.0.1', port: 0, rendererDir: null })
  app = http.app
  base = `http://127.0.0.1:${http.port}`
})

afterAll(async () => {
  await app.close()
  await service.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('history of an observed ECG resource', () => {
  it('stores the first observed value and every sample of every notification at its device time', async () => {
    device = await registered({ endpoint: EP })
    observedAt = Date.now()
    expect(value(await service.observe(EP, [ECG]))).toMatchObject({ code: '2.05', records: [{ value: 0 }] })
    // The observe answer carries no time: it is filed at the time it came.
    expect(value(service.history(EP, ECG, { from: observedAt, to: Date.now() }))).toMatchObject({ total: 1, values: [0] })
    // Ten seconds of 250 Hz in batches of 25, as the gateway sends them.
    for (let first = 0; first < SAMPLES; first += 25) expect(device.notify(ECG, ecgBatch(first, 25, SPIKE))).toBe(1)
    const all = await waitFor(() => {
      const r = value(service.history(EP, ECG, { from: T0 * 1000, to: T0 * 1000 + 10_000, maxPoints: 5000 }))
      return r.total === SAMPLES ? r : undefined
    }, `${SAMPLES} samples in the history`)
    expect(all.decimated).toBe(false)
    expect(all.type).toBe('integer')
    expect(all.times).toEqual(Array.from({ length: SAMPLES }, (_, i) => T0 * 1000 + i * 4))
    expect(all.values).toEqual(ecgBatch(0, SAMPLES, SPIKE).map((r) => r.value))
    expect(service.historySeries(EP)).toEqual([{ endpoint: EP, path: ECG, type: 'integer', firstTime: T0 * 1000, lastTime: expect.any(Number) }])
    expect(service.historySeries(EP)[0]?.lastTime).toBeGreaterThanOrEqual(observedAt)
  })

  it('stores values a device Sends, at the receive time when they carry none', async () => {
    const sender = await registered({ endpoint: 'hist-send' })
    const before = Date.now()
    expect((await sender.send([{ path: parsePath('/3303/0/5700'), value: 36.6, type: 'float' }])).code).toBe('2.04')
    const r = await waitFor(() => {
      const h = value(service.history('hist-send', '/3303/0/5700', { from: before - 1, to: Date.now() + 1 }))
      return h.total === 1 ? h : undefined
    }, 'the sent value in the history')
    expect(r.values).toEqual([36.6])
    expect(r.times[0]).toBeGreaterThanOrEqual(before)
  })
})

describe('REST', () => {
  const url = `/api/clients/${EP}${ECG}/history`

  it('answers a decimated range with the spike, times in ms or ISO', async () => {
    const from = new Date(T0 * 1000).toISOString()
    const r = await get(`${url}?from=${from}&to=${T0 * 1000 + 10_000}&maxPoints=100`)
    expect(r.status).toBe(200)
    const body = JSON.parse(r.text) as HistoryResult
    expect(body).toMatchObject({ endpoint: EP, path: ECG, from: T0 * 1000, total: SAMPLES, decimated: true, bucketMs: 200 })
    expect(body.times.length).toBeLessThanOrEqual(100)
    expect(body.times[body.values.indexOf(4000)]).toBe(T0 * 1000 + SPIKE * 4)
  })

  it('answers 400 naming the cause for a bad range, point count or path', async () => {
    for (const [query, message] of [
      ['from=yesterday', /from must be milliseconds since the epoch or an ISO 8601 time/],
      ['to=2026-13-45T00:00:00Z', /to must be/],
      [`from=${T0 * 1000 + 5}&to=${T0 * 1000}`, /is after to/],
      ['maxPoints=many', /maxPoints must be a whole number/],
      ['maxPoints=1', /maxPoints must be a whole number from 2 to 100000/],
      ['maxPoints=100001', /maxPoints/],
    ] as const) {
      const r = await get(`${url}?${query}`)
      expect(r.status, query).toBe(400)
      expect(JSON.parse(r.text), query).toMatchObject({ error: { code: 'invalid_input', message: expect.stringMatching(message) } })
    }
    const object = await get(`/api/clients/${EP}/1031/history`)
    expect(object.status).toBe(400)
    expect(object.text).toContain('not a resource path')
    // Nothing stored yet is an empty history, not a failure.
    expect(JSON.parse((await get(`/api/clients/nobody${ECG}/history`)).text)).toMatchObject({ total: 0, times: [] })
  })

  it('lists the series with stored values', async () => {
    const r = await get(`/api/history?endpoint=${EP}`)
    expect(JSON.parse(r.text)).toEqual(service.historySeries(EP))
    expect(JSON.parse(r.text)).toMatchObject([{ endpoint: EP, path: ECG, type: 'integer', firstTime: T0 * 1000 }])
    const all = JSON.parse((await get('/api/history')).text) as { endpoint: string }[]
    expect(all.map((s) => s.endpoint)).toEqual([EP, 'hist-send'])
  })

  it('exports the raw samples of a range as CSV', async () => {
    const range = `from=${T0 * 1000}&to=${T0 * 1000 + 1000}`
    for (const path of [`/api/clients/${EP}${ECG}/history.csv?${range}`, `${url}?${range}&format=csv`]) {
      const r = await get(path)
      expect(r.status).toBe(200)
      expect(r.type).toMatch(/^text\/csv/)
      const lines = r.text.trimEnd().split('\n')
      expect(lines[0]).toBe('time,value')
      // Both ends are inclusive: 0 … 1000 ms at 4 ms.
      expect(lines).toHaveLength(1 + 251)
      expect(lines[1]).toBe(`${new Date(T0 * 1000).toISOString()},-200`)
      expect(lines[251]).toBe(`${new Date(T0 * 1000 + 1000).toISOString()},${(250 % 40) * 10 - 200}`)
    }
    const whole = await get(`/api/clients/${EP}${ECG}/history.csv?from=${T0 * 1000}&to=${T0 * 1000 + 10_000}`)
    expect(whole.text.trimEnd().split('\n')).toHaveLength(1 + SAMPLES)
    expect((await get(`/api/clients/${EP}${ECG}/history.csv?from=soon`)).status).toBe(400)
  })

  it('is what the renderer\'s HTTP transport calls', async () => {
    const api = createHttpTransport({ baseUrl: base })
    try {
      const r = value(await api.history({ endpoint: EP, path: ECG, from: T0 * 1000, to: T0 * 1000 + 10_000, maxPoints: 500 }))
      expect(r).toMatchObject({ total: SAMPLES, decimated: true })
      expect(r.values).toContain(4000)
      expect(value(await api.historySeries({ endpoint: EP })).map((s) => s.path)).toEqual([ECG])
      expect(await api.history({ endpoint: EP, path: ECG, maxPoints: 1 })).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
    } finally {
      api.close()
    }
  })
})

describe('CSV export as one answer (exportHistoryCsv, what the desktop app saves)', () => {
  const range = { from: T0 * 1000, to: T0 * 1000 + 1000 }

  it('answers the streamed route\'s CSV, through the API dispatch (the IPC bridge) and over HTTP alike', async () => {
    const dispatched = value(await dispatchApi(service, 'exportHistoryCsv', { endpoint: EP, path: ECG, ...range }))
    const streamed = await get(`/api/clients/${EP}${ECG}/history.csv?from=${range.from}&to=${range.to}`)
    expect(streamed.type).toMatch(/^text\/csv/)
    expect(dispatched).toEqual({ filename: 'hist-ecg_1031_0_1.csv', samples: 251, csv: streamed.text })
    const api = createHttpTransport({ baseUrl: base })
    try {
      expect(value(await api.exportHistoryCsv({ endpoint: EP, path: ECG, ...range }))).toEqual(dispatched)
    } finally {
      api.close()
    }
    expect(await dispatchApi(service, 'exportHistoryCsv', { endpoint: EP, path: '/1031' })).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringContaining('not a resource path') } })
    expect(await dispatchApi(service, 'exportHistoryCsv', { endpoint: EP, path: ECG, maxPoints: 10 })).toMatchObject({ ok: true })
  })

  it(`refuses more than ${HISTORY_CSV_MAX_SAMPLES} samples, naming the way out, where the streamed route carries them all`, async () => {
    const ep = 'hist-bulk'
    const from = T0 * 1000
    // One sample per ms: [from, from + MAX] holds one more than the ceiling.
    for (let i = 0; i <= HISTORY_CSV_MAX_SAMPLES; i++) service.historyStore.append(ep, ECG, from + i, i % 1000, 'integer')
    const input = { endpoint: ep, path: ECG, from, to: from + HISTORY_CSV_MAX_SAMPLES }
    const refused = await dispatchApi(service, 'exportHistoryCsv', input)
    expect(refused).toEqual({ ok: false, error: { code: 'invalid_input', message: expect.stringMatching(/has more than 200,000 samples in this range.*narrow the range/) } })
    const api = createHttpTransport({ baseUrl: base })
    try {
      expect(await api.exportHistoryCsv(input)).toEqual(refused)
    } finally {
      api.close()
    }
    expect(value(await dispatchApi(service, 'exportHistoryCsv', { ...input, to: input.to - 1 })).samples).toBe(HISTORY_CSV_MAX_SAMPLES)
    const streamed = await get(`/api/clients/${ep}${ECG}/history.csv?from=${from}&to=${input.to}`)
    expect(streamed.text.trimEnd().split('\n')).toHaveLength(1 + HISTORY_CSV_MAX_SAMPLES + 1)
  })
})
