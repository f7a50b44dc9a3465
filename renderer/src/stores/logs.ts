import { defineStore } from 'pinia'
import { markRaw, shallowRef } from 'vue'
import type { ConsoleEvent, WireEntry } from '../../../shared/api/events.ts'
import { useApi } from '../api/api-context.ts'
import { RingBuffer } from '../model/ring-buffer.ts'
import { frameScheduler } from './frame.ts'

export interface WireLine extends WireEntry {
  readonly seq: number
  readonly time: number
}

export interface EventLine {
  readonly seq: number
  readonly event: ConsoleEvent
}

export const EVENT_LOG_CAPACITY = 2000
export const WIRE_LOG_CAPACITY = 5000

/**
 * The event log and the wire log: bounded ring buffers outside Vue's reactivity (a busy ECG stream
 * would otherwise make every notification a reactive object). Views read them through `version`,
 * which moves at most once per animation frame.
 */
export const useLogsStore = defineStore('logs', () => {
  const events = markRaw(new RingBuffer<EventLine>(EVENT_LOG_CAPACITY))
  const wire = markRaw(new RingBuffer<WireLine>(WIRE_LOG_CAPACITY))
  const version = shallowRef(0)
  let seq = 0
  let started = false
  const bump = frameScheduler(() => {
    version.value++
  })

  function record(event: ConsoleEvent): void {
    seq++
    if (event.kind === 'log' && event.wire) wire.push({ ...event.wire, seq, time: event.time })
    else events.push({ seq, event })
    bump()
  }

  function clear(which: 'events' | 'wire'): void {
    ;(which === 'events' ? events : wire).clear()
    version.value++
  }

  function start(): void {
    if (started) return
    started = true
    useApi().subscribe(record)
  }

  return { events, wire, version, record, clear, start }
})
