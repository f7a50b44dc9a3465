import type { z } from 'zod'
import { API_METHODS, describeIssues, isShellMethod, NO_UPDATER_MESSAGE, type ApiMethodName, type ShellMethodName } from '../../shared/api/console-api.ts'
import { fail, ok, type Result } from '../../shared/api/result.ts'
import type { ConsoleService } from './console-service.ts'
import { historyCsv } from './history-csv.ts'

/**
 * The one place where each API method (shared/api/console-api.ts) becomes a ConsoleService call:
 * the contract's input objects are unpacked into the service's signatures here, and plain return
 * values become Results. The IPC bridge dispatches through it; HTTP routes that take an API input
 * as it is can too.
 */

type ParsedInput<M extends ApiMethodName> = z.infer<(typeof API_METHODS)[M]['input']>
type Value<M extends ApiMethodName> = z.infer<(typeof API_METHODS)[M]['result']>
type Call<M extends ApiMethodName> = (service: ConsoleService, input: ParsedInput<M>) => Result<Value<M>> | Promise<Result<Value<M>>>

/** The main-process-only methods (SHELL_METHODS), answered by the Electron shell: its updater. */
export type ShellHandlers = { readonly [M in ShellMethodName]: (input: ParsedInput<M>) => Result<Value<M>> | Promise<Result<Value<M>>> }

/** The engine has no updater (it lives in the Electron main process). */
const noUpdater = (): Result<never> => fail('unavailable', NO_UPDATER_MESSAGE)

function dmOptions(input: { format?: string | undefined; timeoutMs?: number | undefined }): { format?: string; timeoutMs?: number } {
  return { ...(input.format !== undefined ? { format: input.format } : {}), ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}) }
}

/** The time range of a history input, without the ends it leaves out (the store fills those in). */
function timeRange(input: { from?: number | undefined; to?: number | undefined }): { from?: number; to?: number } {
  return { ...(input.from !== undefined ? { from: input.from } : {}), ...(input.to !== undefined ? { to: input.to } : {}) }
}

export const API_DISPATCH: { readonly [M in ApiMethodName]: Call<M> } = {
  listClients: (s) => ok(s.listClients()),
  getClient: (s, i) => s.getClient(i.endpoint),
  clientModels: (s, i) => s.clientModels(i.endpoint),
  read: (s, i) => s.read(i.endpoint, i.path, dmOptions(i)),
  write: (s, i) => s.write(i.endpoint, i.path, i.records, { ...dmOptions(i), ...(i.replace !== undefined ? { replace: i.replace } : {}) }),
  execute: (s, i) => s.execute(i.endpoint, i.path, i.args, dmOptions(i)),
  discover: (s, i) => s.discover(i.endpoint, i.path, dmOptions(i)),
  writeAttributes: (s, i) => s.writeAttributes(i.endpoint, i.path, i.attributes, dmOptions(i)),
  create: (s, i) => s.create(i.endpoint, `/${i.objectId}`, i.records, dmOptions(i)),
  delete: (s, i) => s.delete(i.endpoint, i.path, dmOptions(i)),
  observe: (s, i) => s.observe(i.endpoint, i.paths, dmOptions(i)),
  // "/" (or no path) cancels every observation of the client, as DELETE /api/clients/:ep/observe does.
  cancelObservation: (s, i) => s.cancelObservation(i.endpoint, i.path === '/' ? undefined : i.path, i.passive !== undefined ? { passive: i.passive } : {}),
  listObservations: (s, i) => ok(s.listObservations(i.endpoint)),
  health: (s) => ok(s.health()),
  gatewayStatus: (s) => ok(s.gatewayStatus()),
  gatewayScan: (s, i) => s.gatewayScan(i.seconds),
  gatewayConnect: (s, i) => s.gatewayConnect(i.address),
  gatewayDisconnect: (s, i) => s.gatewayDisconnect(i.address),
  setVirtualLink: (s, i) => s.setVirtualLink(i),
  getSettings: (s) => ok(s.getSettings()),
  updateSettings: (s, i) => s.updateSettings(i),
  history: (s, i) => s.history(i.endpoint, i.path, { ...timeRange(i), ...(i.maxPoints !== undefined ? { maxPoints: i.maxPoints } : {}) }),
  historySeries: (s, i) => ok(s.historySeries(i.endpoint)),
  exportHistoryCsv: (s, i) => {
    const pages = s.historySamples(i.endpoint, i.path, timeRange(i))
    return pages.ok ? historyCsv(i.endpoint, i.path, pages.value) : pages
  },
  mqttStatus: (s) => ok(s.mqttStatus()),
  configureMqtt: (s, i) => s.configureMqtt(i),
  getControl: (s, i) => ok(s.getControl(i.endpoint)),
  configureControl: (s, i) => s.configureControl(i),
  listSecurity: (s) => ok(s.listSecurity()),
  setSecurity: (s, i) => s.setSecurity(i),
  deleteSecurity: (s, i) => s.deleteSecurity(i.endpoint),
  getSecurityPolicy: (s) => ok(s.getSecurityPolicy()),
  setSecurityPolicy: (s, i) => ok(s.setSecurityPolicy(i)),
  updateStatus: noUpdater,
  checkForUpdates: noUpdater,
  downloadUpdate: noUpdater,
  installUpdate: noUpdater,
  configureUpdates: noUpdater,
}

/**
 * Validates `input` with the method's schema and calls the service (or, for a main-process-only
 * method, `shell` when given). Never throws: invalid input is `invalid_input` naming the field (and
 * never reaches the service), an exception is `internal`.
 */
export async function dispatchApi<M extends ApiMethodName>(service: ConsoleService, method: M, input: unknown, shell?: ShellHandlers): Promise<Result<Value<M>>> {
  const spec = API_METHODS[method] as (typeof API_METHODS)[ApiMethodName] | undefined
  if (!spec) return fail('invalid_input', `${String(method)} is not a console API method`)
  const parsed = spec.input.safeParse(input ?? {})
  if (!parsed.success) return fail('invalid_input', `${method}: ${describeIssues(parsed.error)}`)
  try {
    if (shell && isShellMethod(method)) return (await (shell[method] as (input: unknown) => Result<unknown> | Promise<Result<unknown>>)(parsed.data)) as Result<Value<M>>
    return await (API_DISPATCH[method] as Call<M>)(service, parsed.data as ParsedInput<M>)
  } catch (e) {
    return fail('internal', `${method}: ${e instanceof Error ? e.message : String(e)}`)
  }
}
