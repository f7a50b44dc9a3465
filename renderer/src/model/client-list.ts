import type { ClientInfo } from '../../../shared/api/schemas.ts'
import { countTwins, type ModelSource } from './object-tree.ts'

export type ClientStatus = 'online' | 'sleeping' | 'offline'

/** A client as the list shows it: its last known registration, and what became of it. */
export interface ClientEntry {
  readonly info: ClientInfo
  readonly status: ClientStatus
  /** Milliseconds since the epoch of the last status change or update. */
  readonly changedAt: number
}

export type SortKey = 'endpoint' | 'status' | 'address' | 'lwm2mVersion' | 'binding' | 'lifetime' | 'lastUpdateAt' | 'twins'

export interface ClientRow {
  readonly endpoint: string
  readonly status: ClientStatus
  readonly address: string
  readonly lwm2mVersion: string
  readonly binding: string
  readonly lifetime: number
  readonly lastUpdateAt: number
  readonly twins: number
  readonly objects: number
  readonly queueMode: boolean
}

export function statusOf(info: ClientInfo): ClientStatus {
  if (!info.online) return 'offline'
  return info.state === 'sleeping' ? 'sleeping' : 'online'
}

/** host:port, with brackets around an IPv6 host. */
export function addressOf(info: ClientInfo): string {
  return info.address.includes(':') ? `[${info.address}]:${info.port}` : `${info.address}:${info.port}`
}

const STATUS_ORDER: Readonly<Record<ClientStatus, number>> = { online: 0, sleeping: 1, offline: 2 }

/**
 * The rows of the clients list: filtered by a search over endpoint, address, binding and version
 * (all words must match), sorted by a column, endpoint as the tie-break.
 */
export function clientRows(entries: Iterable<ClientEntry>, models: ModelSource, search: string, sort: SortKey, descending: boolean): ClientRow[] {
  const words = search.toLowerCase().split(/\s+/).filter((w) => w.length > 0)
  const rows: ClientRow[] = []
  for (const e of entries) {
    const i = e.info
    const row: ClientRow = {
      endpoint: i.endpoint,
      status: e.status,
      address: addressOf(i),
      lwm2mVersion: i.lwm2mVersion,
      binding: i.binding,
      lifetime: i.lifetime,
      lastUpdateAt: i.lastUpdateAt,
      twins: countTwins(i.objects, models),
      objects: i.objects.length,
      queueMode: i.queueMode,
    }
    const haystack = `${row.endpoint} ${row.address} ${row.binding} ${row.lwm2mVersion} ${row.status}`.toLowerCase()
    if (words.every((w) => haystack.includes(w))) rows.push(row)
  }
  const sign = descending ? -1 : 1
  rows.sort((a, b) => {
    let c: number
    if (sort === 'status') c = STATUS_ORDER[a.status] - STATUS_ORDER[b.status]
    else if (sort === 'lifetime' || sort === 'lastUpdateAt' || sort === 'twins') c = a[sort] - b[sort]
    else c = a[sort].localeCompare(b[sort], undefined, { numeric: true })
    return c * sign || a.endpoint.localeCompare(b.endpoint, undefined, { numeric: true })
  })
  return rows
}
