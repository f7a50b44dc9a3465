import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { ConsoleEvent } from '../../../shared/api/events.ts'
import type { ClientInfo } from '../../../shared/api/schemas.ts'
import { useApi } from '../api/api-context.ts'
import { statusOf, type ClientEntry, type ClientStatus } from '../model/client-list.ts'

/**
 * The registered clients, kept live from the event stream: registered / updated replace a client's
 * info; deregistered and expired keep it listed as offline; sleeping / awake flip its state. On every
 * (re)connection of the stream the list is fetched again, so nothing missed while away stays stale.
 */
export const useClientsStore = defineStore('clients', () => {
  // Replaced as a whole on each change: the map itself is not deeply reactive.
  const entries = shallowRef<ReadonlyMap<string, ClientEntry>>(new Map())
  const loading = ref(false)
  const error = ref<string | undefined>(undefined)
  let started = false

  const list = computed(() => [...entries.value.values()])

  function put(info: ClientInfo, status: ClientStatus, changedAt: number): void {
    const next = new Map(entries.value)
    next.set(info.endpoint, { info, status, changedAt })
    entries.value = next
  }

  function setStatus(endpoint: string, status: ClientStatus, changedAt: number, patch: Partial<ClientInfo> = {}): void {
    const e = entries.value.get(endpoint)
    if (!e) return
    put({ ...e.info, ...patch }, status, changedAt)
  }

  async function refresh(): Promise<void> {
    loading.value = true
    const result = await useApi().listClients()
    loading.value = false
    if (!result.ok) {
      error.value = result.error.message
      return
    }
    error.value = undefined
    const now = Date.now()
    const next = new Map<string, ClientEntry>()
    for (const info of result.value) {
      const before = entries.value.get(info.endpoint)
      const status = statusOf(info)
      next.set(info.endpoint, { info, status, changedAt: before && before.status === status ? before.changedAt : now })
    }
    // Clients gone while we were not listening stay listed as offline.
    for (const [endpoint, e] of entries.value) {
      if (!next.has(endpoint)) next.set(endpoint, e.status === 'offline' ? e : { info: { ...e.info, online: false }, status: 'offline', changedAt: now })
    }
    entries.value = next
  }

  function apply(event: ConsoleEvent): void {
    switch (event.kind) {
      case 'registered':
      case 'updated':
        put(event.client, statusOf(event.client), event.time)
        break
      case 'deregistered':
      case 'expired':
        setStatus(event.endpoint, 'offline', event.time, { online: false })
        break
      case 'sleeping':
        setStatus(event.endpoint, 'sleeping', event.time, { state: 'sleeping' })
        break
      case 'awake':
        setStatus(event.endpoint, 'online', event.time, { state: 'awake', queuedRequests: event.queuedRequests })
        break
      default:
        break
    }
  }

  /** Forgets an offline client. */
  function dismiss(endpoint: string): void {
    const e = entries.value.get(endpoint)
    if (!e || e.status !== 'offline') return
    const next = new Map(entries.value)
    next.delete(endpoint)
    entries.value = next
  }

  function start(): void {
    if (started) return
    started = true
    const api = useApi()
    api.subscribe(apply, { kinds: ['registered', 'updated', 'deregistered', 'expired', 'sleeping', 'awake'] })
    api.onConnection((state) => {
      if (state === 'open') void refresh()
    })
    void refresh()
  }

  function get(endpoint: string): ClientEntry | undefined {
    return entries.value.get(endpoint)
  }

  return { entries, list, loading, error, refresh, apply, dismiss, start, get }
})
