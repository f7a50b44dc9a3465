import type { z } from 'zod'
import {
  API_METHODS,
  describeIssues,
  parseConsoleEvent,
  type ApiMethodName,
  type CancelObservationInput,
  type ConnectionState,
  type ConsoleApi,
  type CreateInput,
  type DeleteInput,
  type DiscoverInput,
  type ExecuteInput,
  type ExportHistoryCsvInput,
  type GetClientInput,
  type HistoryInput,
  type HistorySeriesInput,
  type ListObservationsInput,
  type ObserveInput,
  type ReadInput,
  type SubscribeOptions,
  type Unsubscribe,
  type WriteAttributesInput,
  type WriteInput,
} from '../../../shared/api/console-api.ts'
import { EVENT_KINDS, type ConsoleEvent } from '../../../shared/api/events.ts'
import type { ScanInput, SensorInput, SettingsPatch, VirtualLinkInput } from '../../../shared/api/gateway-schemas.ts'
import type { MqttConfigureInput } from '../../../shared/api/mqtt-schemas.ts'
import type { ConfigureControlInput, ControlInput } from '../../../shared/api/control-schemas.ts'
import type { UpdatePreferences } from '../../../shared/api/update-schemas.ts'
import type { DeleteSecurityInput, SecurityPolicyInput, SetSecurityInput } from '../../../shared/api/security-schemas.ts'
import { fail, isErrorCode, ok, type ErrorCode, type Result } from '../../../shared/api/result.ts'
import type { ObservationInfo } from '../../../shared/api/schemas.ts'

/** The part of `EventSource` the transport uses (injectable for tests). */
export interface EventSourceLike {
  readonly readyState: number
  onopen: ((this: EventSourceLike, ev: Event) => unknown) | null
  onerror: ((this: EventSourceLike, ev: Event) => unknown) | null
  addEventListener(type: string, listener: (ev: MessageEvent) => void): void
  close(): void
}

export type EventSourceFactory = (url: string) => EventSourceLike

export interface HttpTransportOptions {
  /** Origin and prefix of the console, e.g. "http://127.0.0.1:8080"; empty means this page's origin. */
  readonly baseUrl?: string
  /** Bearer token (`objecttwin serve --token`): sent as Authorization, and as ?token= on the event stream. */
  readonly token?: string
  readonly fetch?: (url: string, init?: RequestInit) => Promise<Response>
  readonly eventSource?: EventSourceFactory
  /** Delay before the n-th reconnect of a closed event stream (n from 1). */
  readonly reconnectDelayMs?: (attempt: number) => number
}

/** EventSource.CLOSED, spelled out so the module loads where EventSource is absent (Node tests). */
const CLOSED = 2

function validate<M extends ApiMethodName>(method: M, input: unknown): Result<z.infer<(typeof API_METHODS)[M]['input']>> {
  const parsed = API_METHODS[method].input.safeParse(input)
  return parsed.success ? ok(parsed.data as z.infer<(typeof API_METHODS)[M]['input']>) : fail('invalid_input', `${method}: ${describeIssues(parsed.error)}`)
}

/** `/api/clients/<ep>` followed by an LwM2M path ("/3/0/1" → "/3/0/1", "/" → "/"). */
function clientUrl(endpoint: string, path = ''): string {
  return `/api/clients/${encodeURIComponent(endpoint)}${path === '/' ? '/' : path}`
}

function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const parts: string[] = []
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue
    parts.push(`${encodeURIComponent(key)}=${value === null ? '' : encodeURIComponent(String(value))}`)
  }
  return parts.length > 0 ? `?${parts.join('&')}` : ''
}

function dmQuery(input: { format?: string | undefined; timeoutMs?: number | undefined }, extra: Record<string, string | number | boolean | null | undefined> = {}): string {
  return query({ format: input.format, timeout: input.timeoutMs, ...extra })
}

/** Where a browser downloads a resource's raw samples as CSV: a plain link, so the token (if any) rides in the query like the event stream's. */
export function historyCsvUrl(input: { endpoint: string; path: string; from: number; to: number }, token?: string): string {
  return clientUrl(input.endpoint, input.path.replace(/\/$/, '')) + '/history.csv' + query({ from: Math.floor(input.from), to: Math.ceil(input.to), token })
}

/** Default backoff: 1 s, 2 s, 4 s … capped at 15 s. */
export function defaultReconnectDelay(attempt: number): number {
  return Math.min(15_000, 1000 * 2 ** Math.max(0, attempt - 1))
}

/**
 * The console API over REST + Server-Sent Events (DESIGN.md "REST"). One shared EventSource feeds
 * every subscriber; when the browser gives up on it (a 401, a restarted server) it is reopened with
 * backoff, and `onConnection` listeners see `open` again so they can resynchronise.
 */
export function createHttpTransport(options: HttpTransportOptions = {}): ConsoleApi {
  const base = (options.baseUrl ?? '').replace(/\/$/, '')
  const doFetch = options.fetch ?? ((url: string, init?: RequestInit) => fetch(url, init))
  const openEventSource = options.eventSource ?? ((url: string) => new EventSource(url) as unknown as EventSourceLike)
  const reconnectDelay = options.reconnectDelayMs ?? defaultReconnectDelay

  async function call<M extends ApiMethodName>(method: M, httpMethod: string, url: string, body?: unknown): Promise<Result<z.infer<(typeof API_METHODS)[M]['result']>>> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (options.token) headers['authorization'] = `Bearer ${options.token}`
    let response: Response
    try {
      response = await doFetch(base + url, { method: httpMethod, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    } catch (e) {
      return fail('unreachable', `cannot reach the console at ${base || 'this origin'}: ${(e as Error).message}`)
    }
    const text = await response.text().catch(() => '')
    let json: unknown
    try {
      json = text === '' ? undefined : JSON.parse(text)
    } catch {
      return fail(response.ok ? 'internal' : statusCode(response.status), `${httpMethod} ${url}: HTTP ${response.status}, not JSON: ${text.slice(0, 120)}`)
    }
    if (!response.ok) {
      const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error
      const given = error?.code
      const code = isErrorCode(given) ? given : statusCode(response.status)
      return fail(code, typeof error?.message === 'string' ? error.message : `${httpMethod} ${url}: HTTP ${response.status}`)
    }
    const parsed = API_METHODS[method].result.safeParse(json)
    if (!parsed.success) return fail('internal', `${method}: the console answered an unexpected shape (${describeIssues(parsed.error)})`)
    return ok(parsed.data as z.infer<(typeof API_METHODS)[M]['result']>)
  }

  // ---- the event stream -------------------------------------------------------------------------

  const subscribers = new Set<{ listener: (e: ConsoleEvent) => void; kinds?: ReadonlySet<string> }>()
  const connectionListeners = new Set<(state: ConnectionState) => void>()
  let source: EventSourceLike | undefined
  let state: ConnectionState = 'closed'
  let attempts = 0
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined
  let closed = false

  const setState = (next: ConnectionState): void => {
    if (next === state) return
    state = next
    for (const l of [...connectionListeners]) l(next)
  }

  const dispatch = (ev: MessageEvent): void => {
    let json: unknown
    try {
      json = JSON.parse(String(ev.data))
    } catch {
      return
    }
    const event = parseConsoleEvent(json)
    if (!event) return
    for (const s of [...subscribers]) if (!s.kinds || s.kinds.has(event.kind)) s.listener(event)
  }

  const open = (): void => {
    if (closed || source) return
    setState('connecting')
    const es = openEventSource(`${base}/api/events${options.token ? query({ token: options.token }) : ''}`)
    source = es
    for (const kind of EVENT_KINDS) es.addEventListener(kind, dispatch)
    es.onopen = () => {
      attempts = 0
      setState('open')
    }
    es.onerror = () => {
      if (source !== es) return
      if (es.readyState !== CLOSED) {
        // The browser retries by itself.
        setState('connecting')
        return
      }
      es.close()
      source = undefined
      setState('closed')
      if (closed) return
      attempts++
      reconnectTimer = setTimeout(() => {
        reconnectTimer = undefined
        open()
      }, reconnectDelay(attempts))
    }
  }

  const ensureOpen = (): void => {
    if (!source && reconnectTimer === undefined) open()
  }

  return {
    listClients: async () => call('listClients', 'GET', '/api/clients'),
    getClient: async (input: GetClientInput) => {
      const v = validate('getClient', input)
      return v.ok ? call('getClient', 'GET', clientUrl(v.value.endpoint)) : v
    },
    clientModels: async (input: GetClientInput) => {
      const v = validate('clientModels', input)
      return v.ok ? call('clientModels', 'GET', clientUrl(v.value.endpoint, '/models')) : v
    },
    read: async (input: ReadInput) => {
      const v = validate('read', input)
      return v.ok ? call('read', 'GET', clientUrl(v.value.endpoint, v.value.path) + dmQuery(v.value)) : v
    },
    discover: async (input: DiscoverInput) => {
      const v = validate('discover', input)
      return v.ok ? call('discover', 'GET', clientUrl(v.value.endpoint, v.value.path.replace(/\/$/, '')) + '/discover' + dmQuery(v.value)) : v
    },
    write: async (input: WriteInput) => {
      const v = validate('write', input)
      return v.ok ? call('write', 'PUT', clientUrl(v.value.endpoint, v.value.path) + dmQuery(v.value, { replace: v.value.replace }), v.value.records) : v
    },
    execute: async (input: ExecuteInput) => {
      const v = validate('execute', input)
      if (!v.ok) return v
      const args = v.value.args
      return call('execute', 'POST', clientUrl(v.value.endpoint, v.value.path) + '/execute' + dmQuery(v.value), args ? { args } : {})
    },
    writeAttributes: async (input: WriteAttributesInput) => {
      const v = validate('writeAttributes', input)
      if (!v.ok) return v
      const a = v.value.attributes
      const attrs = query({ pmin: a.pmin, pmax: a.pmax, gt: a.gt, lt: a.lt, st: a.st, epmin: a.epmin, epmax: a.epmax })
      if (attrs === '') return fail('invalid_input', 'writeAttributes: no attribute to write')
      const rest = dmQuery(v.value)
      return call('writeAttributes', 'PUT', clientUrl(v.value.endpoint, v.value.path) + '/attributes' + attrs + (rest ? '&' + rest.slice(1) : ''))
    },
    create: async (input: CreateInput) => {
      const v = validate('create', input)
      return v.ok ? call('create', 'POST', clientUrl(v.value.endpoint, `/${v.value.objectId}`) + dmQuery(v.value), v.value.records) : v
    },
    delete: async (input: DeleteInput) => {
      const v = validate('delete', input)
      return v.ok ? call('delete', 'DELETE', clientUrl(v.value.endpoint, v.value.path) + dmQuery(v.value)) : v
    },
    observe: async (input: ObserveInput) => {
      const v = validate('observe', input)
      if (!v.ok) return v
      const first = v.value.paths[0] as string
      return call('observe', 'POST', clientUrl(v.value.endpoint, first === '/' ? '' : first) + '/observe' + dmQuery(v.value), { paths: v.value.paths })
    },
    cancelObservation: async (input: CancelObservationInput) => {
      const v = validate('cancelObservation', input)
      if (!v.ok) return v
      const path = v.value.path === undefined || v.value.path === '/' ? '' : v.value.path
      return call('cancelObservation', 'DELETE', clientUrl(v.value.endpoint, path) + '/observe' + query({ passive: v.value.passive ? true : undefined }))
    },
    listObservations: async (input: ListObservationsInput) => {
      const v = validate('listObservations', input)
      if (!v.ok) return v
      if (v.value.endpoint !== undefined) return call('listObservations', 'GET', clientUrl(v.value.endpoint) + '/observations')
      const clients = await call('listClients', 'GET', '/api/clients')
      if (!clients.ok) return clients
      const all: ObservationInfo[] = []
      for (const c of clients.value) {
        const list = await call('listObservations', 'GET', clientUrl(c.endpoint) + '/observations')
        if (list.ok) all.push(...list.value)
      }
      return ok(all)
    },
    health: async () => call('health', 'GET', '/api/health'),
    gatewayStatus: async () => call('gatewayStatus', 'GET', '/api/gateway'),
    gatewayScan: async (input: ScanInput) => {
      const v = validate('gatewayScan', input)
      return v.ok ? call('gatewayScan', 'POST', '/api/gateway/scan', v.value) : v
    },
    gatewayConnect: async (input: SensorInput) => {
      const v = validate('gatewayConnect', input)
      return v.ok ? call('gatewayConnect', 'POST', `/api/gateway/sensors/${encodeURIComponent(v.value.address)}/connect`) : v
    },
    gatewayDisconnect: async (input: SensorInput) => {
      const v = validate('gatewayDisconnect', input)
      return v.ok ? call('gatewayDisconnect', 'POST', `/api/gateway/sensors/${encodeURIComponent(v.value.address)}/disconnect`) : v
    },
    setVirtualLink: async (input: VirtualLinkInput) => {
      const v = validate('setVirtualLink', input)
      if (!v.ok) return v
      const { sensor, ...link } = v.value
      return call('setVirtualLink', 'PUT', `/api/gateway/virtual/${encodeURIComponent(sensor)}/link`, link)
    },
    getSettings: async () => call('getSettings', 'GET', '/api/settings'),
    updateSettings: async (input: SettingsPatch) => {
      const v = validate('updateSettings', input)
      return v.ok ? call('updateSettings', 'PATCH', '/api/settings', v.value) : v
    },
    history: async (input: HistoryInput) => {
      const v = validate('history', input)
      if (!v.ok) return v
      return call('history', 'GET', clientUrl(v.value.endpoint, v.value.path.replace(/\/$/, '')) + '/history' + query({ from: v.value.from, to: v.value.to, maxPoints: v.value.maxPoints }))
    },
    exportHistoryCsv: async (input: ExportHistoryCsvInput) => {
      const v = validate('exportHistoryCsv', input)
      if (!v.ok) return v
      // call() asks for JSON, which the CSV route answers with the same capped export the IPC bridge gives.
      return call('exportHistoryCsv', 'GET', clientUrl(v.value.endpoint, v.value.path.replace(/\/$/, '')) + '/history.csv' + query({ from: v.value.from, to: v.value.to }))
    },
    historySeries: async (input: HistorySeriesInput) => {
      const v = validate('historySeries', input)
      return v.ok ? call('historySeries', 'GET', '/api/history' + query({ endpoint: v.value.endpoint })) : v
    },
    mqttStatus: async () => call('mqttStatus', 'GET', '/api/mqtt'),
    configureMqtt: async (input: MqttConfigureInput) => {
      const v = validate('configureMqtt', input)
      return v.ok ? call('configureMqtt', 'PUT', '/api/mqtt', v.value) : v
    },
    getControl: async (input: ControlInput) => {
      const v = validate('getControl', input)
      return v.ok ? call('getControl', 'GET', clientUrl(v.value.endpoint, '/control')) : v
    },
    configureControl: async (input: ConfigureControlInput) => {
      const v = validate('configureControl', input)
      if (!v.ok) return v
      const { endpoint, ...settings } = v.value
      return call('configureControl', 'PUT', clientUrl(endpoint, '/control'), settings)
    },
    listSecurity: async () => call('listSecurity', 'GET', '/api/security'),
    setSecurity: async (input: SetSecurityInput) => {
      const v = validate('setSecurity', input)
      if (!v.ok) return v
      const { endpoint, ...entry } = v.value
      return call('setSecurity', 'PUT', `/api/security/${encodeURIComponent(endpoint)}`, entry)
    },
    deleteSecurity: async (input: DeleteSecurityInput) => {
      const v = validate('deleteSecurity', input)
      return v.ok ? call('deleteSecurity', 'DELETE', `/api/security/${encodeURIComponent(v.value.endpoint)}`) : v
    },
    getSecurityPolicy: async () => call('getSecurityPolicy', 'GET', '/api/security-policy'),
    setSecurityPolicy: async (input: SecurityPolicyInput) => {
      const v = validate('setSecurityPolicy', input)
      return v.ok ? call('setSecurityPolicy', 'PUT', '/api/security-policy', v.value) : v
    },
    // Only the desktop app updates itself: a console served over HTTP answers these with `unavailable`.
    updateStatus: async () => call('updateStatus', 'GET', '/api/update'),
    checkForUpdates: async () => call('checkForUpdates', 'POST', '/api/update/check'),
    downloadUpdate: async () => call('downloadUpdate', 'POST', '/api/update/download'),
    installUpdate: async () => call('installUpdate', 'POST', '/api/update/install'),
    configureUpdates: async (input: UpdatePreferences) => {
      const v = validate('configureUpdates', input)
      return v.ok ? call('configureUpdates', 'PUT', '/api/update/preferences', v.value) : v
    },
    subscribe: (listener: (event: ConsoleEvent) => void, subscribeOptions?: SubscribeOptions): Unsubscribe => {
      const entry = { listener, ...(subscribeOptions?.kinds ? { kinds: new Set<string>(subscribeOptions.kinds) } : {}) }
      subscribers.add(entry)
      ensureOpen()
      return () => {
        subscribers.delete(entry)
      }
    },
    onConnection: (listener: (state: ConnectionState) => void): Unsubscribe => {
      ensureOpen()
      listener(state)
      connectionListeners.add(listener)
      return () => {
        connectionListeners.delete(listener)
      }
    },
    close: () => {
      closed = true
      if (reconnectTimer !== undefined) clearTimeout(reconnectTimer)
      reconnectTimer = undefined
      source?.close()
      source = undefined
      setState('closed')
    },
  }
}

function statusCode(status: number): ErrorCode {
  if (status === 400) return 'invalid_input'
  if (status === 401 || status === 403) return 'unauthorized'
  if (status === 404) return 'not_found'
  if (status === 409) return 'conflict'
  if (status === 415) return 'unsupported'
  if (status === 429) return 'rate_limited'
  if (status === 502 || status === 503) return 'unreachable'
  if (status === 504) return 'timeout'
  return 'internal'
}
