import { defineStore } from 'pinia'
import { shallowRef } from 'vue'
import type { ConsoleEvent } from '../../../shared/api/events.ts'
import type { ObservationInfo } from '../../../shared/api/schemas.ts'
import { useApi } from '../api/api-context.ts'

/**
 * The observations the server holds, per client. Fetched when a client is opened, after each
 * observe / cancel, and when a notification names an observation we do not know (the server
 * re-observed after a registration).
 */
export const useObservationsStore = defineStore('observations', () => {
  const byEndpoint = shallowRef<ReadonlyMap<string, readonly ObservationInfo[]>>(new Map())
  let started = false

  function set(endpoint: string, list: readonly ObservationInfo[]): void {
    const next = new Map(byEndpoint.value)
    if (list.length === 0) next.delete(endpoint)
    else next.set(endpoint, list)
    byEndpoint.value = next
  }

  async function refresh(endpoint: string): Promise<void> {
    const result = await useApi().listObservations({ endpoint })
    if (result.ok) set(endpoint, result.value)
    else if (result.error.code === 'not_found' || result.error.code === 'not_registered') set(endpoint, [])
  }

  function of(endpoint: string): readonly ObservationInfo[] {
    return byEndpoint.value.get(endpoint) ?? []
  }

  /** Every observed path of a client. */
  function pathsOf(endpoint: string): Set<string> {
    return new Set(of(endpoint).flatMap((o) => o.paths))
  }

  function apply(event: ConsoleEvent): void {
    if (event.kind === 'deregistered' || event.kind === 'expired') set(event.endpoint, [])
    else if (event.kind === 'registered') void refresh(event.client.endpoint)
    else if (event.kind === 'notification' && !of(event.endpoint).some((o) => o.id === event.observationId)) void refresh(event.endpoint)
  }

  function start(): void {
    if (started) return
    started = true
    useApi().subscribe(apply, { kinds: ['registered', 'deregistered', 'expired', 'notification'] })
  }

  return { byEndpoint, refresh, of, pathsOf, apply, start }
})
