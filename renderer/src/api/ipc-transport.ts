import { API_METHODS, describeIssues, type ApiMethodName, type ConnectionState, type ConsoleApi, type SubscribeOptions, type Unsubscribe } from '../../../shared/api/console-api.ts'
import { BRIDGE_EXTRAS, type ObjectTwinBridge } from '../../../shared/api/bridge.ts'
import { EVENT_KINDS, type ConsoleEvent } from '../../../shared/api/events.ts'
import { fail, isErrorCode, ok, type Result } from '../../../shared/api/result.ts'

const KINDS: ReadonlySet<string> = new Set(EVENT_KINDS)

type ApiMethods = Pick<ConsoleApi, ApiMethodName>
// ConsoleApi is API_METHODS plus the event stream: a method added to one but not the other fails here.
type NotInTable = Exclude<keyof ConsoleApi, ApiMethodName | 'subscribe' | 'onConnection' | 'close'>
const _everyMethodIsInTheTable: [NotInTable] extends [never] ? true : false = true

/** Whether `bridge` (window.objecttwin) carries every API method and the event stream, i.e. the IPC transport can run on it. */
export function isConsoleBridge(bridge: unknown): bridge is ObjectTwinBridge {
  if (typeof bridge !== 'object' || bridge === null) return false
  const names = [...Object.keys(API_METHODS), ...BRIDGE_EXTRAS]
  return names.every((name) => typeof (bridge as Record<string, unknown>)[name] === 'function')
}

/** The main process's answer, checked: a Result whose value fits the method's result schema. */
function checkAnswer(method: ApiMethodName, answer: unknown): Result<unknown> {
  if (typeof answer !== 'object' || answer === null || typeof (answer as { ok?: unknown }).ok !== 'boolean') {
    return fail('internal', `${method}: the main process answered something that is not a Result`)
  }
  const result = answer as { ok: boolean; value?: unknown; error?: { code?: unknown; message?: unknown } }
  if (!result.ok) {
    const given = result.error?.code
    const code = isErrorCode(given) ? given : 'internal'
    return fail(code, typeof result.error?.message === 'string' ? result.error.message : `${method} failed`)
  }
  const parsed = API_METHODS[method].result.safeParse(result.value)
  if (parsed.success) return ok(parsed.data)
  return fail('internal', `${method}: the main process answered an unexpected shape (${describeIssues(parsed.error)})`)
}

/**
 * The console API over the Electron preload bridge (IPC). The main process validates every input
 * and answers a Result; here each answer's value is checked against the method's result schema.
 * Events arrive in batches on one bridge subscription, shared by every subscriber; the stream
 * lives as long as the window, so the connection is always `open` until close().
 */
export function createIpcTransport(bridge: ObjectTwinBridge): ConsoleApi {
  const methods: Record<string, (input?: unknown) => Promise<Result<unknown>>> = {}
  for (const method of Object.keys(API_METHODS) as ApiMethodName[]) {
    const call = bridge[method] as (input?: unknown) => Promise<unknown>
    methods[method] = async (input?: unknown) => {
      try {
        return checkAnswer(method, await call(input))
      } catch (e) {
        // Only when the main process has no handler or went away: handlers never throw.
        return fail('unreachable', `${method}: the main process did not answer (${e instanceof Error ? e.message : String(e)})`)
      }
    }
  }

  const subscribers = new Set<{ listener: (event: ConsoleEvent) => void; kinds?: ReadonlySet<string> }>()
  const connectionListeners = new Set<(state: ConnectionState) => void>()
  let stopBridge: (() => void) | undefined
  let closed = false

  const deliver = (events: readonly ConsoleEvent[]): void => {
    for (const event of events) {
      if (typeof event !== 'object' || event === null || !KINDS.has(event.kind)) continue
      for (const s of [...subscribers]) if (!s.kinds || s.kinds.has(event.kind)) s.listener(event)
    }
  }

  return {
    ...(methods as unknown as ApiMethods),
    subscribe: (listener: (event: ConsoleEvent) => void, options?: SubscribeOptions): Unsubscribe => {
      const entry = { listener, ...(options?.kinds ? { kinds: new Set<string>(options.kinds) } : {}) }
      subscribers.add(entry)
      if (!closed) stopBridge ??= bridge.subscribe(deliver)
      return () => {
        subscribers.delete(entry)
      }
    },
    onConnection: (listener: (state: ConnectionState) => void): Unsubscribe => {
      listener(closed ? 'closed' : 'open')
      connectionListeners.add(listener)
      return () => {
        connectionListeners.delete(listener)
      }
    },
    close: () => {
      if (closed) return
      closed = true
      stopBridge?.()
      stopBridge = undefined
      subscribers.clear()
      for (const l of [...connectionListeners]) l('closed')
    },
  }
}
