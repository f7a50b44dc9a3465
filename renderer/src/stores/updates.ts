import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { Result } from '../../../shared/api/result.ts'
import type { UpdateStatus } from '../../../shared/api/update-schemas.ts'
import { useApi } from '../api/api-context.ts'

/**
 * The desktop app's self-update for the About view: the status from `update` events (download
 * progress among them) and from the answer of each action; a failed action leaves its cause in
 * `error`. Only the Electron window has an updater (the browser console hides the view).
 */
export const useUpdatesStore = defineStore('updates', () => {
  const status = shallowRef<UpdateStatus | undefined>(undefined)
  const error = ref<string | undefined>(undefined)
  const busy = ref(false)
  let started = false

  async function run(what: string, call: () => Promise<Result<UpdateStatus>>): Promise<void> {
    busy.value = true
    try {
      const result = await call()
      if (result.ok) {
        status.value = result.value
        error.value = undefined
      } else {
        error.value = `${what}: ${result.error.message}`
      }
    } finally {
      busy.value = false
    }
  }

  function start(): void {
    if (started) return
    started = true
    const api = useApi()
    api.subscribe((event) => {
      if (event.kind === 'update') status.value = event.status
    }, { kinds: ['update'] })
    void run('update status', () => api.updateStatus())
  }

  return {
    status,
    error,
    busy,
    start,
    check: () => run('checking for updates', () => useApi().checkForUpdates()),
    download: () => run('downloading the update', () => useApi().downloadUpdate()),
    install: () => run('installing the update', () => useApi().installUpdate()),
    setCheckOnStart: (checkOnStart: boolean) => run('saving the preference', () => useApi().configureUpdates({ checkOnStart })),
  }
})
