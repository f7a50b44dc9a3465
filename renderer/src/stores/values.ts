import { defineStore } from 'pinia'
import { markRaw, shallowRef } from 'vue'
import type { ConsoleEvent } from '../../../shared/api/events.ts'
import type { DmResult, RecordJson } from '../../../shared/api/schemas.ts'
import { applyRecords, normalizePath, removeValuesUnder, type ValueEntry, type ValueSource } from '../model/object-tree.ts'
import { useApi } from '../api/api-context.ts'
import { frameScheduler } from './frame.ts'

type DiscoverEntry = NonNullable<DmResult['links']>[number]
type Discovered = DiscoverEntry['attributes']

/**
 * The latest value of every path the console has read or been notified of, per client, and what
 * Discover found. Plain maps outside reactivity; `version` moves at most once per animation frame
 * so the tree redraws once however many notifications arrive.
 */
export const useValuesStore = defineStore('values', () => {
  const values = markRaw(new Map<string, Map<string, ValueEntry>>())
  const discovered = markRaw(new Map<string, Map<string, Discovered>>())
  const version = shallowRef(0)
  let started = false
  const bump = frameScheduler(() => {
    version.value++
  })

  function valuesOf(endpoint: string): Map<string, ValueEntry> {
    let map = values.get(endpoint)
    if (!map) values.set(endpoint, (map = new Map()))
    return map
  }

  function discoveredOf(endpoint: string): ReadonlyMap<string, Discovered> {
    return discovered.get(endpoint) ?? new Map()
  }

  function apply(endpoint: string, records: readonly RecordJson[], source: ValueSource, receivedAt = Date.now()): string[] {
    const changed = applyRecords(valuesOf(endpoint), records, source, receivedAt)
    if (changed.length > 0) bump()
    return changed
  }

  function applyDiscover(endpoint: string, links: readonly DiscoverEntry[]): void {
    let map = discovered.get(endpoint)
    if (!map) discovered.set(endpoint, (map = new Map()))
    for (const link of links) {
      const path = normalizePath(link.path)
      if (path !== undefined) map.set(path, link.attributes)
    }
    bump()
  }

  function remove(endpoint: string, path: string): void {
    removeValuesUnder(valuesOf(endpoint), path)
    const d = discovered.get(endpoint)
    const base = normalizePath(path)
    if (d && base !== undefined) for (const key of [...d.keys()]) if (key === base || key.startsWith(base + '/')) d.delete(key)
    bump()
  }

  function onEvent(event: ConsoleEvent): void {
    if ((event.kind === 'notification' || event.kind === 'send') && event.records.length > 0) apply(event.endpoint, event.records, event.kind === 'send' ? 'send' : 'notification', event.time)
  }

  function start(): void {
    if (started) return
    started = true
    useApi().subscribe(onEvent, { kinds: ['notification', 'send'] })
  }

  return { version, valuesOf, discoveredOf, apply, applyDiscover, remove, start }
})
