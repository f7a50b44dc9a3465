import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { ConsoleEvent } from '../../../shared/api/events.ts'
import type { ConsoleSettings, GatewayStatus, LocalGatewaySettings, VirtualLinkInput } from '../../../shared/api/gateway-schemas.ts'
import type { Result } from '../../../shared/api/result.ts'
import { useApi } from '../api/api-context.ts'

/** An operation of the panel in flight, so its button can show it and not be pressed twice. */
export type GatewayOp = 'status' | 'scan' | 'settings' | `connect:${string}` | `disconnect:${string}` | `link:${string}`

/**
 * The console's local gateway as the panel shows it. The status comes from `gateway` events while
 * the stream is open (no polling), from a fetch on every (re)connection, and from the answer of each
 * operation. A failed operation leaves its cause in `error` until the next one succeeds or it is dismissed.
 */
export const useGatewayStore = defineStore('gateway', () => {
  const status = shallowRef<GatewayStatus | undefined>(undefined)
  const settings = shallowRef<ConsoleSettings | undefined>(undefined)
  /** Why the status or the settings could not be fetched. */
  const loadError = ref<string | undefined>(undefined)
  /** The last failed operation, with its cause. */
  const error = ref<string | undefined>(undefined)
  const busy = shallowRef<ReadonlySet<GatewayOp>>(new Set())
  /** Time of the newest status taken from an event: an older one arriving late is ignored. */
  let statusTime = 0
  let started = false

  const sensors = computed(() => status.value?.sensors ?? [])

  function setBusy(op: GatewayOp, on: boolean): void {
    const next = new Set(busy.value)
    if (on) next.add(op)
    else next.delete(op)
    busy.value = next
  }

  function isBusy(op: GatewayOp): boolean {
    return busy.value.has(op)
  }

  function apply(event: ConsoleEvent): void {
    if (event.kind !== 'gateway' || event.time < statusTime) return
    statusTime = event.time
    status.value = event.status
  }

  /** Runs one operation: marks it busy, keeps its answer, names the failure. */
  async function run<T>(op: GatewayOp, what: string, call: () => Promise<Result<T>>, keep: (value: T) => void): Promise<boolean> {
    setBusy(op, true)
    try {
      const result = await call()
      if (!result.ok) {
        error.value = `${what} failed: ${result.error.message}`
        return false
      }
      keep(result.value)
      error.value = undefined
      return true
    } catch (e) {
      // A transport that throws instead of answering a Result is still reported, not left spinning.
      error.value = `${what} failed: ${(e as Error).message}`
      return false
    } finally {
      setBusy(op, false)
    }
  }

  const keepStatus = (value: GatewayStatus): void => {
    status.value = value
  }

  async function refresh(): Promise<void> {
    setBusy('status', true)
    const api = useApi()
    const [s, conf] = await Promise.all([api.gatewayStatus(), api.getSettings()])
    setBusy('status', false)
    const problems: string[] = []
    if (s.ok) status.value = s.value
    else problems.push(`gateway status: ${s.error.message}`)
    if (conf.ok) settings.value = conf.value
    else problems.push(`settings: ${conf.error.message}`)
    loadError.value = problems.length > 0 ? problems.join('; ') : undefined
  }

  function scan(seconds: number): Promise<boolean> {
    return run('scan', seconds === 0 ? 'Stop scan' : 'Scan', () => useApi().gatewayScan({ seconds }), keepStatus)
  }

  function connect(address: string): Promise<boolean> {
    return run(`connect:${address}`, `Connect ${address}`, () => useApi().gatewayConnect({ address }), keepStatus)
  }

  function disconnect(address: string): Promise<boolean> {
    return run(`disconnect:${address}`, `Disconnect ${address}`, () => useApi().gatewayDisconnect({ address }), keepStatus)
  }

  function setVirtualLink(input: VirtualLinkInput): Promise<boolean> {
    return run(`link:${input.sensor}`, `Link of ${input.sensor}`, () => useApi().setVirtualLink(input), keepStatus)
  }

  /** Saves the local gateway's settings (the console restarts it with them), then fetches its new status. */
  async function saveSettings(patch: Partial<LocalGatewaySettings>): Promise<boolean> {
    const saved = await run('settings', 'Saving the settings', () => useApi().updateSettings({ localGateway: patch }), (value) => {
      settings.value = value
    })
    if (saved) await refresh()
    return saved
  }

  function dismissError(): void {
    error.value = undefined
  }

  function start(): void {
    if (started) return
    started = true
    const api = useApi()
    api.subscribe(apply, { kinds: ['gateway'] })
    let fetched = false
    api.onConnection((state) => {
      if (state !== 'open') return
      fetched = true
      void refresh()
    })
    // Not open yet: show what there is now; the stream's `open` fetches again.
    if (!fetched) void refresh()
  }

  return { status, settings, sensors, loadError, error, busy, isBusy, apply, refresh, scan, connect, disconnect, setVirtualLink, saveSettings, dismissError, start }
})
