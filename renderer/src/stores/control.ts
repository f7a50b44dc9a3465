import { defineStore } from 'pinia'
import { shallowRef } from 'vue'
import type { ConfigureControlInput, ControlStatus } from '../../../shared/api/control-schemas.ts'
import type { ConsoleEvent } from '../../../shared/api/events.ts'
import type { Result } from '../../../shared/api/result.ts'
import { useApi } from '../api/api-context.ts'
import { withDecision } from '../model/control-form.ts'

/** One device's adaptive sampling as the panel shows it. */
export interface ControlEntry {
  readonly status?: ControlStatus
  /** Why the status could not be fetched. */
  readonly loadError?: string
  /** Why the last change was refused (the console's message), until the next one succeeds or it is dismissed. */
  readonly saveError?: string
  readonly saving: boolean
}

const EMPTY: ControlEntry = { saving: false }

/**
 * The adaptive sampling control of the devices whose panel is open: the status is fetched when a panel
 * tracks a device and on every (re)connection, then each `control` event updates that twin's rate and
 * drop ratio in place (no polling). An answer overtaken by a newer request's answer is dropped.
 */
export const useControlStore = defineStore('control', () => {
  const entries = shallowRef<ReadonlyMap<string, ControlEntry>>(new Map())
  const tracked = new Map<string, number>()
  /** Per endpoint: the number of the newest request whose answer was kept. */
  const kept = new Map<string, number>()
  let requests = 0
  let started = false

  function entry(endpoint: string): ControlEntry {
    return entries.value.get(endpoint) ?? EMPTY
  }

  function update(endpoint: string, patch: Partial<ControlEntry>): void {
    const next = new Map(entries.value)
    next.set(endpoint, { ...entry(endpoint), ...patch })
    entries.value = next
  }

  /** Runs a request for `endpoint`; its answer is handed to `keep` unless a newer request's answer came first. */
  async function request<T>(endpoint: string, call: () => Promise<Result<T>>, keep: (r: Result<T>) => void): Promise<Result<T> | undefined> {
    const mine = ++requests
    let r: Result<T>
    try {
      r = await call()
    } catch (e) {
      // A transport that throws instead of answering a Result is still reported.
      r = { ok: false, error: { code: 'internal', message: (e as Error).message } }
    }
    if (mine < (kept.get(endpoint) ?? 0)) return undefined
    kept.set(endpoint, mine)
    keep(r)
    return r
  }

  async function refresh(endpoint: string): Promise<void> {
    await request(endpoint, () => useApi().getControl({ endpoint }), (r) => {
      if (r.ok) update(endpoint, { status: r.value, loadError: undefined })
      else update(endpoint, { loadError: `Cannot read the adaptive sampling of ${endpoint}: ${r.error.message}` })
    })
  }

  /** Changes the settings; false (with `saveError` set to the console's message) when refused. */
  async function configure(input: ConfigureControlInput): Promise<boolean> {
    const { endpoint } = input
    update(endpoint, { saving: true })
    const r = await request(endpoint, () => useApi().configureControl(input), (answer) => {
      if (answer.ok) update(endpoint, { status: answer.value, saveError: undefined })
      else update(endpoint, { saveError: answer.error.message })
    })
    update(endpoint, { saving: false })
    return r?.ok === true
  }

  function apply(event: ConsoleEvent): void {
    if (event.kind !== 'control' || !tracked.has(event.endpoint)) return
    const status = entry(event.endpoint).status
    const next = status ? withDecision(status, event) : undefined
    if (next) update(event.endpoint, { status: next })
    // A twin the panel does not list yet (it just connected): fetch the whole status.
    else void refresh(event.endpoint)
  }

  function dismissError(endpoint: string): void {
    update(endpoint, { saveError: undefined })
  }

  /** A panel shows `endpoint`: fetch it now and follow it until untrack (counted, for several panels). */
  function track(endpoint: string): void {
    if (!started) {
      started = true
      const api = useApi()
      api.subscribe(apply, { kinds: ['control'] })
      api.onConnection((state) => {
        if (state === 'open') for (const ep of tracked.keys()) void refresh(ep)
      })
    }
    tracked.set(endpoint, (tracked.get(endpoint) ?? 0) + 1)
    void refresh(endpoint)
  }

  function untrack(endpoint: string): void {
    const n = (tracked.get(endpoint) ?? 0) - 1
    if (n > 0) tracked.set(endpoint, n)
    else tracked.delete(endpoint)
  }

  /** The drop-ratio threshold in force for `endpoint`, once known (the ECG monitor draws it). */
  function thresholdOf(endpoint: string): number | undefined {
    return entry(endpoint).status?.settings.threshold
  }

  return { entries, entry, refresh, configure, apply, dismissError, track, untrack, thresholdOf }
})
