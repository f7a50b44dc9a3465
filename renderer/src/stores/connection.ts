import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { ConnectionState } from '../../../shared/api/console-api.ts'
import { useApi } from '../api/api-context.ts'

/** The live event stream's state, for the header badge; stores resynchronise on `open`. */
export const useConnectionStore = defineStore('connection', () => {
  const state = ref<ConnectionState>('connecting')
  const transport = ref<'ipc' | 'http'>('http')
  let started = false

  function start(kind: 'ipc' | 'http'): void {
    if (started) return
    started = true
    transport.value = kind
    useApi().onConnection((s) => {
      state.value = s
    })
  }

  return { state, transport, start }
})
