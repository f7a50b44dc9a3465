import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ConnectionState } from '../../../shared/api/console-api.ts'
import type { ConsoleEvent } from '../../../shared/api/events.ts'
import { createHttpTransport, defaultReconnectDelay, type EventSourceLike } from './http-transport.ts'

/** A stand-in EventSource the test drives by hand. */
class FakeSource implements EventSourceLike {
  readyState = 0
  onopen: EventSourceLike['onopen'] = null
  onerror: EventSourceLike['onerror'] = null
  readonly listeners = new Map<string, ((ev: MessageEvent) => void)[]>()
  closed = false
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (ev: MessageEvent) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener])
  }
  close(): void {
    this.closed = true
    this.readyState = 2
  }
  open(): void {
    this.readyState = 1
    this.onopen?.call(this, new Event('open'))
  }
  fail(permanently: boolean): void {
    this.readyState = permanently ? 2 : 0
    this.onerror?.call(this, new Event('error'))
  }
  emit(kind: string, data: unknown): void {
    for (const l of this.listeners.get(kind) ?? []) l(new MessageEvent(kind, { data: typeof data === 'string' ? data : JSON.stringify(data) }))
  }
}

describe('HTTP transport event stream', () => {
  let sources: FakeSource[]
  beforeEach(() => {
    sources = []
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  const make = (token?: string) =>
    createHttpTransport({
      baseUrl: 'http://console.test/',
      ...(token ? { token } : {}),
      fetch: () => Promise.reject(new Error('no network in this test')),
      eventSource: (url) => {
        const s = new FakeSource(url)
        sources.push(s)
        return s
      },
    })

  it('opens one stream for all subscribers, carries the token, filters kinds and drops malformed events', () => {
    const api = make('t k')
    const all: ConsoleEvent[] = []
    const sleepy: ConsoleEvent[] = []
    api.subscribe((e) => all.push(e))
    api.subscribe((e) => sleepy.push(e), { kinds: ['sleeping'] })
    expect(sources).toHaveLength(1)
    expect(sources[0]?.url).toBe('http://console.test/api/events?token=t%20k')
    const s = sources[0] as FakeSource
    s.open()
    s.emit('sleeping', { kind: 'sleeping', time: 1, endpoint: 'q' })
    s.emit('awake', { kind: 'awake', time: 2, endpoint: 'q', queuedRequests: 0 })
    s.emit('awake', '{not json')
    s.emit('awake', { kind: 'awake', time: 'yesterday' })
    expect(all.map((e) => e.kind)).toEqual(['sleeping', 'awake'])
    expect(sleepy.map((e) => e.kind)).toEqual(['sleeping'])
    api.close()
  })

  it('reports its state and reopens a closed stream with backoff', () => {
    const api = make()
    const states: ConnectionState[] = []
    api.onConnection((s) => states.push(s))
    sources[0]?.open()
    sources[0]?.fail(false) // the browser retries by itself
    expect(sources).toHaveLength(1)
    sources[0]?.fail(true) // the browser gave up: we reopen after the backoff
    expect(sources[0]?.closed).toBe(true)
    vi.advanceTimersByTime(defaultReconnectDelay(1) - 1)
    expect(sources).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(sources).toHaveLength(2)
    sources[1]?.fail(true)
    vi.advanceTimersByTime(defaultReconnectDelay(2))
    expect(sources).toHaveLength(3)
    sources[2]?.open()
    expect(states).toEqual(['connecting', 'open', 'connecting', 'closed', 'connecting', 'closed', 'connecting', 'open'])
    api.close()
    expect(sources[2]?.closed).toBe(true)
    expect(states.at(-1)).toBe('closed')
  })

  it('stops reconnecting once closed', () => {
    const api = make()
    api.subscribe(() => undefined)
    sources[0]?.fail(true)
    api.close()
    vi.advanceTimersByTime(60_000)
    expect(sources).toHaveLength(1)
  })

  it('backs off up to 15 s', () => {
    expect([1, 2, 3, 4, 5, 10].map(defaultReconnectDelay)).toEqual([1000, 2000, 4000, 8000, 15_000, 15_000])
  })
})

describe('HTTP transport requests', () => {
  it('validates input before sending, and maps HTTP failures to API errors', async () => {
    const calls: { url: string; init?: RequestInit }[] = []
    const answers: Response[] = [
      new Response(JSON.stringify({ error: { code: 'not_registered', message: 'no client named x is registered' } }), { status: 404 }),
      new Response('<html>proxy error</html>', { status: 502 }),
      new Response(JSON.stringify({ unexpected: true }), { status: 200 }),
    ]
    const api = createHttpTransport({
      token: 'tok',
      fetch: (url, init) => {
        calls.push({ url, ...(init ? { init } : {}) })
        return Promise.resolve(answers.shift() as Response)
      },
      eventSource: () => new FakeSource(''),
    })
    expect(await api.read({ endpoint: '', path: '/3' })).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringMatching(/endpoint/) } })
    expect(await api.write({ endpoint: 'x', path: '/3/0/1', records: [] })).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringMatching(/nothing to write/) } })
    expect(calls).toHaveLength(0)

    expect(await api.read({ endpoint: 'x y', path: '/3/0/1', format: 'tlv', timeoutMs: 500 })).toEqual({ ok: false, error: { code: 'not_registered', message: 'no client named x is registered' } })
    expect(calls[0]?.url).toBe('/api/clients/x%20y/3/0/1?format=tlv&timeout=500')
    expect((calls[0]?.init?.headers as Record<string, string>)['authorization']).toBe('Bearer tok')
    expect(await api.execute({ endpoint: 'x', path: '/3/0/4' })).toMatchObject({ ok: false, error: { code: 'unreachable', message: expect.stringMatching(/HTTP 502, not JSON/) } })
    expect(calls[1]).toMatchObject({ url: '/api/clients/x/3/0/4/execute', init: { method: 'POST', body: '{}' } })
    expect(await api.health()).toMatchObject({ ok: false, error: { code: 'internal', message: expect.stringMatching(/unexpected shape/) } })
  })

  it('builds the routes of every operation', async () => {
    const calls: string[] = []
    const api = createHttpTransport({
      fetch: (url, init) => {
        calls.push(`${init?.method} ${url}${init?.body ? ' ' + String(init.body) : ''}`)
        return Promise.resolve(new Response(JSON.stringify({ code: '2.04', success: true, durationMs: 1, cancelled: 0 }), { status: 200 }))
      },
      eventSource: () => new FakeSource(''),
    })
    await api.write({ endpoint: 'e', path: '/3/0/13', records: [{ path: '/3/0/13', value: 5, type: 'time' }], replace: false })
    await api.discover({ endpoint: 'e', path: '/3/0' })
    await api.writeAttributes({ endpoint: 'e', path: '/3/0/9', attributes: { pmin: 1, gt: null } })
    await api.observe({ endpoint: 'e', paths: ['/3/0/9', '/3/0/10'] })
    await api.cancelObservation({ endpoint: 'e', path: '/3/0/9', passive: true })
    await api.cancelObservation({ endpoint: 'e' })
    await api.create({ endpoint: 'e', objectId: 3303, records: [] })
    await api.delete({ endpoint: 'e', path: '/3303/1' })
    expect(calls).toEqual([
      'PUT /api/clients/e/3/0/13?replace=false [{"path":"/3/0/13","value":5,"type":"time"}]',
      'GET /api/clients/e/3/0/discover',
      'PUT /api/clients/e/3/0/9/attributes?pmin=1&gt=',
      'POST /api/clients/e/3/0/9/observe {"paths":["/3/0/9","/3/0/10"]}',
      'DELETE /api/clients/e/3/0/9/observe?passive=true',
      'DELETE /api/clients/e/observe',
      'POST /api/clients/e/3303 []',
      'DELETE /api/clients/e/3303/1',
    ])
  })

  it('reads and configures a device’s adaptive sampling at /api/clients/:ep/control', async () => {
    const calls: string[] = []
    const status = { endpoint: 'gw 1', settings: { enabled: false, threshold: 0.02, step: 10, windowS: 5, minRate: 50, maxRate: 500 }, configured: true, loops: [] }
    const api = createHttpTransport({
      fetch: (url, init) => {
        calls.push(`${init?.method} ${url}${init?.body ? ' ' + String(init.body) : ''}`)
        return Promise.resolve(new Response(JSON.stringify(status), { status: 200 }))
      },
      eventSource: () => new FakeSource(''),
    })
    expect(await api.getControl({ endpoint: 'gw 1' })).toEqual({ ok: true, value: status })
    expect((await api.configureControl({ endpoint: 'gw 1', enabled: false, step: 10 })).ok).toBe(true)
    expect(await api.configureControl({ endpoint: 'gw 1', minRate: 300, maxRate: 200 })).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
    expect(calls).toEqual(['GET /api/clients/gw%201/control', 'PUT /api/clients/gw%201/control {"enabled":false,"step":10}'])
  })
})
