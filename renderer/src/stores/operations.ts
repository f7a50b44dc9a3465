import { defineStore } from 'pinia'
import { markRaw, shallowRef } from 'vue'
import type { CancelResult, ObserveResult, WriteRecord } from '../../../shared/api/console-api.ts'
import type { ApiError, Result } from '../../../shared/api/result.ts'
import type { Attributes, DmResult } from '../../../shared/api/schemas.ts'
import { useApi } from '../api/api-context.ts'
import { RingBuffer } from '../model/ring-buffer.ts'
import { useObservationsStore } from './observations.ts'
import { useValuesStore } from './values.ts'

export type OperationKind = 'read' | 'write' | 'execute' | 'discover' | 'attributes' | 'observe' | 'cancel' | 'create' | 'delete'

export interface OperationRecord {
  readonly id: number
  readonly kind: OperationKind
  readonly endpoint: string
  readonly path: string
  /** What was asked, in a few words ("read as tlv", "write 120"). */
  readonly summary: string
  readonly status: 'running' | 'done' | 'failed'
  readonly startedAt: number
  readonly finishedAt?: number
  /** Round trip seen by the console UI, ms. */
  readonly elapsedMs?: number
  readonly result?: DmResult | ObserveResult | CancelResult
  /** A transport or input failure (not a device answer: those are in `result.code`). */
  readonly error?: ApiError
}

/**
 * Runs the device-management operations the views ask for and keeps each one's progress and result:
 * the latest per client + path + kind (what a panel shows) and a bounded history. Successful reads
 * and observes feed the values store; discover feeds the discovered paths; delete forgets values.
 */
export const useOperationsStore = defineStore('operations', () => {
  const latest = shallowRef<ReadonlyMap<string, OperationRecord>>(new Map())
  const history = markRaw(new RingBuffer<OperationRecord>(200))
  const version = shallowRef(0)
  let nextId = 1

  const key = (endpoint: string, path: string, kind: OperationKind): string => `${endpoint}\u0000${path}\u0000${kind}`

  function put(record: OperationRecord): void {
    const next = new Map(latest.value)
    next.set(key(record.endpoint, record.path, record.kind), record)
    latest.value = next
    if (record.status !== 'running') history.push(record)
    version.value++
  }

  function lastOf(endpoint: string, path: string, kind: OperationKind): OperationRecord | undefined {
    return latest.value.get(key(endpoint, path, kind))
  }

  function running(endpoint: string, path: string, kind: OperationKind): boolean {
    return lastOf(endpoint, path, kind)?.status === 'running'
  }

  async function run<T extends DmResult | ObserveResult | CancelResult>(kind: OperationKind, endpoint: string, path: string, summary: string, call: () => Promise<Result<T>>): Promise<OperationRecord> {
    const id = nextId++
    const startedAt = Date.now()
    const t0 = performance.now()
    put({ id, kind, endpoint, path, summary, status: 'running', startedAt })
    let result: Result<T>
    try {
      result = await call()
    } catch (e) {
      result = { ok: false, error: { code: 'internal', message: (e as Error).message } }
    }
    const done = { id, kind, endpoint, path, summary, startedAt, finishedAt: Date.now(), elapsedMs: Math.round(performance.now() - t0) }
    const record: OperationRecord = result.ok
      ? { ...done, status: 'success' in result.value && !result.value.success ? 'failed' : 'done', result: result.value }
      : { ...done, status: 'failed', error: result.error }
    // Only the newest run of an operation may overwrite what the panel shows.
    if ((lastOf(endpoint, path, kind)?.id ?? 0) <= id) put(record)
    else history.push(record)
    return record
  }

  function feedValues(endpoint: string, r: DmResult): void {
    if (r.success && r.records && r.records.length > 0) useValuesStore().apply(endpoint, r.records, 'read')
  }

  async function read(endpoint: string, path: string, format?: string): Promise<OperationRecord> {
    const api = useApi()
    const rec = await run('read', endpoint, path, format ? `read as ${format}` : 'read', () => api.read({ endpoint, path, ...(format ? { format } : {}) }))
    if (rec.result && 'code' in rec.result) feedValues(endpoint, rec.result)
    return rec
  }

  async function write(endpoint: string, path: string, records: WriteRecord[], replace: boolean, format?: string): Promise<OperationRecord> {
    const shown = records.length === 1 ? `write ${JSON.stringify(records[0]?.value)}` : `write ${records.length} values`
    return run('write', endpoint, path, shown + (replace ? '' : ' (partial update)'), () => useApi().write({ endpoint, path, records, replace, ...(format ? { format } : {}) }))
  }

  async function execute(endpoint: string, path: string, args?: string): Promise<OperationRecord> {
    return run('execute', endpoint, path, args ? `execute with ${args}` : 'execute', () => useApi().execute({ endpoint, path, ...(args ? { args } : {}) }))
  }

  async function discover(endpoint: string, path: string): Promise<OperationRecord> {
    const rec = await run('discover', endpoint, path, 'discover', () => useApi().discover({ endpoint, path }))
    if (rec.result && 'links' in rec.result && rec.result.links) useValuesStore().applyDiscover(endpoint, rec.result.links)
    return rec
  }

  async function writeAttributes(endpoint: string, path: string, attributes: Attributes): Promise<OperationRecord> {
    const text = Object.entries(attributes)
      .map(([k, v]) => (v === null ? `${k} unset` : `${k}=${v}`))
      .join(', ')
    return run('attributes', endpoint, path, `write attributes ${text}`, () => useApi().writeAttributes({ endpoint, path, attributes }))
  }

  async function observe(endpoint: string, path: string, format?: string): Promise<OperationRecord> {
    const rec = await run('observe', endpoint, path, format ? `observe as ${format}` : 'observe', () => useApi().observe({ endpoint, paths: [path], ...(format ? { format } : {}) }))
    if (rec.result && 'code' in rec.result) feedValues(endpoint, rec.result)
    await useObservationsStore().refresh(endpoint)
    return rec
  }

  async function cancel(endpoint: string, path: string, passive: boolean): Promise<OperationRecord> {
    const rec = await run('cancel', endpoint, path, passive ? 'cancel observation (passive)' : 'cancel observation (active)', () => useApi().cancelObservation({ endpoint, path, passive }))
    await useObservationsStore().refresh(endpoint)
    return rec
  }

  async function create(endpoint: string, objectId: number, records: WriteRecord[]): Promise<OperationRecord> {
    return run('create', endpoint, `/${objectId}`, records.length > 0 ? `create with ${records.length} values` : 'create (empty)', () => useApi().create({ endpoint, objectId, records }))
  }

  async function remove(endpoint: string, path: string): Promise<OperationRecord> {
    const rec = await run('delete', endpoint, path, 'delete', () => useApi().delete({ endpoint, path }))
    if (rec.status === 'done') useValuesStore().remove(endpoint, path)
    return rec
  }

  return { latest, history, version, lastOf, running, read, write, execute, discover, writeAttributes, observe, cancel, create, remove }
})
