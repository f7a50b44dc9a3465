import { defineAsyncComponent, onBeforeUnmount, onMounted, type Component } from 'vue'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import { useApi } from './api/api-context.ts'

/**
 * The live ECG monitor (renderer/src/ecg/EcgMonitor.vue, props {endpoint, path}) is loaded lazily,
 * in a chunk of its own, the first time an ECG twin's samples are watched. Glob imports resolve to
 * nothing when a file is absent, so the console builds with or without the monitor.
 */
const monitorModules = import.meta.glob<{ default: Component }>(['./ecg/EcgMonitor.vue', './ecg/EcgWall.vue'])
const feedModules = import.meta.glob<{ ecgFeeds: { dispatch(event: ConsoleEvent): number } }>('./ecg/feed-registry.ts')
const monitorLoader = monitorModules['./ecg/EcgMonitor.vue']
const wallLoader = monitorModules['./ecg/EcgWall.vue']
const feedLoader = feedModules['./ecg/feed-registry.ts']

export const EcgMonitor: Component | undefined = monitorLoader ? defineAsyncComponent({ loader: monitorLoader, delay: 0 }) : undefined
/** Several patients side by side (renderer/src/ecg/EcgWall.vue, props {tiles}), loaded lazily as well. */
export const EcgWall: Component | undefined = wallLoader ? defineAsyncComponent({ loader: wallLoader, delay: 0 }) : undefined

/** The sampling-rate resource next to an ECG twin's samples (paper Fig. 5: resource 2 of the same instance). */
export function ratePathOf(samplesPath: string): string {
  return samplesPath.replace(/\/\d+$/, '/2')
}

let users = 0
let unsubscribe: (() => void) | undefined

/**
 * While a component showing monitors is mounted, notifications reach the monitors' feeds
 * (`ecgFeeds.dispatch`). One subscription however many monitors are open.
 */
export function useEcgFeedDispatch(): void {
  onMounted(() => {
    users++
    if (users > 1 || !feedLoader) return
    void feedLoader().then((m) => {
      if (users > 0 && !unsubscribe) unsubscribe = useApi().subscribe((e) => m.ecgFeeds.dispatch(e), { kinds: ['notification', 'send', 'control'] })
    })
  })
  onBeforeUnmount(() => {
    users--
    if (users > 0) return
    unsubscribe?.()
    unsubscribe = undefined
  })
}
