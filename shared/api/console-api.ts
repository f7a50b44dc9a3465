import { z } from 'zod'
import { RESOURCE_TYPES } from '../lwm2m/values.ts'
import type { ConsoleEvent, ConsoleEventKind } from './events.ts'
import type { Result } from './result.ts'
import { HISTORY_MAX_POINTS, HistoryCsv, HistoryResult, HistorySeries } from './history-schemas.ts'
import { ConsoleSettings, GatewayStatus, ScanInput, SensorInput, SettingsPatch, VirtualLinkInput } from './gateway-schemas.ts'
import { MqttConfigureInput, MqttStatus } from './mqtt-schemas.ts'
import { ConfigureControlInput, ControlInput, ControlStatus } from './control-schemas.ts'
import { UpdatePreferences, UpdateStatus } from './update-schemas.ts'
import { Attributes, ClientInfo, DmResult, FormatName, ObjectModelJson, ObservationInfo, RecordJson } from './schemas.ts'
import { DeleteSecurityInput, DeleteSecurityResult, SecurityEntry, SecurityList, SecurityPolicy, SecurityPolicyInput, SetSecurityInput } from './security-schemas.ts'

/**
 * The console API contract (DESIGN.md): the one interface the renderer is written against. Two
 * transports implement it — REST + SSE in a browser (renderer/src/api/http-transport.ts) and the
 * preload IPC bridge in Electron — and every method has a zod schema for its input and its result,
 * so both sides can `safeParse` what crosses the boundary.
 */

const Endpoint = z.string().min(1, 'endpoint is empty').max(256)
const Path = z.string().regex(/^\/(?:[A-Za-z_][A-Za-z0-9_.~-]{0,63}\/?)?(?:\d{1,5}(?:\/\d{1,5}){0,3})?$/, 'path must look like /o, /o/i, /o/i/r or /o/i/r/ri')

/** Options every device-management request may carry. */
const DmOptions = {
  /** Content format by short name ("tlv", "senml-cbor", …) or number as text; empty lets the server choose. */
  format: z.union([FormatName, z.string().regex(/^\d{1,5}$/)]).optional(),
  timeoutMs: z.number().int().min(1).max(300_000).optional(),
}

/** One value to write or create: path absolute or relative to the target, value in plain JSON, type when the model does not say. */
export const WriteRecord = z.object({
  path: z.string().min(1),
  value: z.union([z.string(), z.number(), z.boolean()]),
  type: z.enum(RESOURCE_TYPES as [string, ...string[]]).optional(),
})
export type WriteRecord = z.infer<typeof WriteRecord>

export const NoInput = z.object({}).strict()
export const GetClientInput = z.object({ endpoint: Endpoint })
export const ReadInput = z.object({ endpoint: Endpoint, path: Path, ...DmOptions })
export const DiscoverInput = ReadInput
export const WriteInput = z.object({ endpoint: Endpoint, path: Path, records: z.array(WriteRecord).min(1, 'nothing to write'), replace: z.boolean().optional(), ...DmOptions })
export const ExecuteInput = z.object({
  endpoint: Endpoint,
  path: Path,
  /** LwM2M execute arguments, e.g. `0='v',1`; empty or absent for none. */
  args: z.string().max(4096).optional(),
  ...DmOptions,
})
export const WriteAttributesInput = z.object({ endpoint: Endpoint, path: Path, attributes: Attributes, ...DmOptions })
export const ObserveInput = z.object({ endpoint: Endpoint, paths: z.array(Path).min(1, 'nothing to observe'), ...DmOptions })
export const CancelObservationInput = z.object({
  endpoint: Endpoint,
  /** Absent: every observation of the client. */
  path: Path.optional(),
  /** Passive forgets the observation and lets the next notification be reset; active sends a GET with Observe 1. */
  passive: z.boolean().optional(),
})
export const CreateInput = z.object({ endpoint: Endpoint, objectId: z.number().int().min(0).max(65534), records: z.array(WriteRecord), ...DmOptions })
export const DeleteInput = z.object({ endpoint: Endpoint, path: Path, ...DmOptions })
export const ListObservationsInput = z.object({ endpoint: Endpoint.optional() })
/** Stored values of one resource; times in ms since the epoch (default: the last hour, 2000 points). */
export const HistoryInput = z.object({
  endpoint: Endpoint,
  path: Path,
  from: z.number().optional(),
  to: z.number().optional(),
  maxPoints: z.number().int().min(2).max(HISTORY_MAX_POINTS).optional(),
})
export const HistorySeriesInput = z.object({ endpoint: Endpoint.optional() })
/** Every stored sample of one resource in [from, to] as CSV (same defaults as HistoryInput). */
export const ExportHistoryCsvInput = HistoryInput.omit({ maxPoints: true })

export const ClientList = z.array(ClientInfo)
export const ObserveResult = DmResult.extend({ observationId: z.string().optional() })
export type ObserveResult = z.infer<typeof ObserveResult>
export const CancelResult = z.object({ cancelled: z.number().int().min(0) })
export type CancelResult = z.infer<typeof CancelResult>
export const ObservationList = z.array(ObservationInfo)
export const Health = z.object({
  status: z.literal('ok'),
  clients: z.number().int(),
  coapPort: z.number().int(),
  coapPorts: z.object({ ipv4: z.number().int().optional(), ipv6: z.number().int().optional() }).optional(),
})
export type Health = z.infer<typeof Health>

export type ReadInput = z.infer<typeof ReadInput>
export type DiscoverInput = z.infer<typeof DiscoverInput>
export type WriteInput = z.infer<typeof WriteInput>
export type ExecuteInput = z.infer<typeof ExecuteInput>
export type WriteAttributesInput = z.infer<typeof WriteAttributesInput>
export type ObserveInput = z.infer<typeof ObserveInput>
export type CancelObservationInput = z.infer<typeof CancelObservationInput>
export type CreateInput = z.infer<typeof CreateInput>
export type DeleteInput = z.infer<typeof DeleteInput>
export type ListObservationsInput = z.infer<typeof ListObservationsInput>
export type HistoryInput = z.infer<typeof HistoryInput>
export type HistorySeriesInput = z.infer<typeof HistorySeriesInput>
export type ExportHistoryCsvInput = z.infer<typeof ExportHistoryCsvInput>
export type GetClientInput = z.infer<typeof GetClientInput>

const WireEntrySchema = z.object({
  direction: z.enum(['in', 'out']),
  peer: z.string(),
  endpoint: z.string().optional(),
  method: z.string(),
  path: z.string(),
  code: z.string().optional(),
  contentFormat: z.number().int().optional(),
  durationMs: z.number().optional(),
  summary: z.string().optional(),
})

const time = z.number()
/** The events of shared/api/events.ts, for transports that receive them as text (SSE). */
export const ConsoleEventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('registered'), time, client: ClientInfo, replaced: z.boolean() }),
  z.object({ kind: z.literal('updated'), time, client: ClientInfo, objectsChanged: z.boolean() }),
  z.object({ kind: z.literal('deregistered'), time, endpoint: z.string(), registrationId: z.string() }),
  z.object({ kind: z.literal('expired'), time, endpoint: z.string(), registrationId: z.string() }),
  z.object({ kind: z.literal('sleeping'), time, endpoint: z.string() }),
  z.object({ kind: z.literal('awake'), time, endpoint: z.string(), queuedRequests: z.number().int() }),
  z.object({
    kind: z.literal('notification'),
    time,
    endpoint: z.string(),
    observationId: z.string(),
    paths: z.array(z.string()),
    code: z.string(),
    records: z.array(RecordJson),
    decodeError: z.string().optional(),
  }),
  z.object({ kind: z.literal('send'), time, endpoint: z.string(), records: z.array(RecordJson) }),
  z.object({ kind: z.literal('log'), time, level: z.enum(['info', 'warn', 'error']), message: z.string(), wire: WireEntrySchema.optional() }),
  z.object({ kind: z.literal('gateway'), time, status: GatewayStatus }),
  z.object({ kind: z.literal('control'), time, endpoint: z.string(), path: z.string(), dropRatio: z.number(), oldRate: z.number(), newRate: z.number() }),
  z.object({ kind: z.literal('update'), time, status: UpdateStatus }),
])

/** Zod issues as one line that names each field: "records.0.value: Invalid input; path: …". */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ')
}

/** Parses one event received as JSON; undefined for anything that is not a known event. */
export function parseConsoleEvent(json: unknown): ConsoleEvent | undefined {
  const parsed = ConsoleEventSchema.safeParse(json)
  return parsed.success ? (parsed.data as ConsoleEvent) : undefined
}

/**
 * Each method's input and result schema, with its IPC channel name (`domain:verb`). The IPC bridge
 * and its tests iterate this table, so a method added here is a method every transport must carry.
 */
export const API_METHODS = {
  listClients: { channel: 'clients:list', input: NoInput, result: ClientList },
  getClient: { channel: 'clients:get', input: GetClientInput, result: ClientInfo },
  clientModels: { channel: 'clients:models', input: GetClientInput, result: z.array(ObjectModelJson) },
  read: { channel: 'dm:read', input: ReadInput, result: DmResult },
  write: { channel: 'dm:write', input: WriteInput, result: DmResult },
  execute: { channel: 'dm:execute', input: ExecuteInput, result: DmResult },
  discover: { channel: 'dm:discover', input: DiscoverInput, result: DmResult },
  writeAttributes: { channel: 'dm:write-attributes', input: WriteAttributesInput, result: DmResult },
  create: { channel: 'dm:create', input: CreateInput, result: DmResult },
  delete: { channel: 'dm:delete', input: DeleteInput, result: DmResult },
  observe: { channel: 'observe:start', input: ObserveInput, result: ObserveResult },
  cancelObservation: { channel: 'observe:cancel', input: CancelObservationInput, result: CancelResult },
  listObservations: { channel: 'observe:list', input: ListObservationsInput, result: ObservationList },
  health: { channel: 'app:health', input: NoInput, result: Health },
  gatewayStatus: { channel: 'gateway:status', input: NoInput, result: GatewayStatus },
  gatewayScan: { channel: 'gateway:scan', input: ScanInput, result: GatewayStatus },
  gatewayConnect: { channel: 'gateway:connect', input: SensorInput, result: GatewayStatus },
  gatewayDisconnect: { channel: 'gateway:disconnect', input: SensorInput, result: GatewayStatus },
  setVirtualLink: { channel: 'gateway:virtual-link', input: VirtualLinkInput, result: GatewayStatus },
  getSettings: { channel: 'settings:get', input: NoInput, result: ConsoleSettings },
  updateSettings: { channel: 'settings:update', input: SettingsPatch, result: ConsoleSettings },
  history: { channel: 'history:query', input: HistoryInput, result: HistoryResult },
  historySeries: { channel: 'history:series', input: HistorySeriesInput, result: z.array(HistorySeries) },
  exportHistoryCsv: { channel: 'history:export-csv', input: ExportHistoryCsvInput, result: HistoryCsv },
  mqttStatus: { channel: 'mqtt:status', input: NoInput, result: MqttStatus },
  configureMqtt: { channel: 'mqtt:configure', input: MqttConfigureInput, result: MqttStatus },
  getControl: { channel: 'control:get', input: ControlInput, result: ControlStatus },
  configureControl: { channel: 'control:configure', input: ConfigureControlInput, result: ControlStatus },
  listSecurity: { channel: 'security:list', input: NoInput, result: SecurityList },
  setSecurity: { channel: 'security:set', input: SetSecurityInput, result: SecurityEntry },
  deleteSecurity: { channel: 'security:delete', input: DeleteSecurityInput, result: DeleteSecurityResult },
  getSecurityPolicy: { channel: 'security:get-policy', input: NoInput, result: SecurityPolicy },
  setSecurityPolicy: { channel: 'security:set-policy', input: SecurityPolicyInput, result: SecurityPolicy },
  updateStatus: { channel: 'update:status', input: NoInput, result: UpdateStatus },
  checkForUpdates: { channel: 'update:check', input: NoInput, result: UpdateStatus },
  downloadUpdate: { channel: 'update:download', input: NoInput, result: UpdateStatus },
  installUpdate: { channel: 'update:install', input: NoInput, result: UpdateStatus },
  configureUpdates: { channel: 'update:configure', input: UpdatePreferences, result: UpdateStatus },
} as const

export type ApiMethodName = keyof typeof API_METHODS

/**
 * Methods only the desktop app's main process answers: the self-update lives there (electron-updater),
 * not in the engine. The engine's dispatch, `objecttwin serve` and the HTTP API answer them with
 * `unavailable`; the Electron IPC bridge routes them to the main process's updater.
 */
export const SHELL_METHODS = ['updateStatus', 'checkForUpdates', 'downloadUpdate', 'installUpdate', 'configureUpdates'] as const satisfies readonly ApiMethodName[]
export type ShellMethodName = (typeof SHELL_METHODS)[number]

export function isShellMethod(method: string): method is ShellMethodName {
  return (SHELL_METHODS as readonly string[]).includes(method)
}

/** What a console without the desktop app's updater answers to the update methods. */
export const NO_UPDATER_MESSAGE = 'updates are managed by the desktop app (the installed ObjectTwin Console); this console runs without it'

/** Whether the live event stream is up; a transport reconnects by itself after `closed`. */
export type ConnectionState = 'connecting' | 'open' | 'closed'

export interface SubscribeOptions {
  /** Only these kinds; all when absent. */
  readonly kinds?: readonly ConsoleEventKind[]
}

export type Unsubscribe = () => void

/** What the renderer calls. Every method answers a `Result`: device answers (4.04) are data in `DmResult`, transport failures are errors. */
export interface ConsoleApi {
  listClients(): Promise<Result<ClientInfo[]>>
  getClient(input: GetClientInput): Promise<Result<ClientInfo>>
  /**
   * The object models the server holds for this client's objects: built-in ones and those the gateway
   * published for its ObjectTwins (fetched when it registers), so twins have names.
   */
  clientModels(input: GetClientInput): Promise<Result<ObjectModelJson[]>>
  read(input: ReadInput): Promise<Result<DmResult>>
  write(input: WriteInput): Promise<Result<DmResult>>
  execute(input: ExecuteInput): Promise<Result<DmResult>>
  discover(input: DiscoverInput): Promise<Result<DmResult>>
  writeAttributes(input: WriteAttributesInput): Promise<Result<DmResult>>
  create(input: CreateInput): Promise<Result<DmResult>>
  delete(input: DeleteInput): Promise<Result<DmResult>>
  observe(input: ObserveInput): Promise<Result<ObserveResult>>
  cancelObservation(input: CancelObservationInput): Promise<Result<CancelResult>>
  listObservations(input: ListObservationsInput): Promise<Result<ObservationInfo[]>>
  health(): Promise<Result<Health>>
  /** The local gateway; `running: false` (with `error`) when it is off or failed. */
  gatewayStatus(): Promise<Result<GatewayStatus>>
  gatewayScan(input: ScanInput): Promise<Result<GatewayStatus>>
  gatewayConnect(input: SensorInput): Promise<Result<GatewayStatus>>
  gatewayDisconnect(input: SensorInput): Promise<Result<GatewayStatus>>
  /** Degrade or restore a simulated sensor's link (virtual radio only). */
  setVirtualLink(input: VirtualLinkInput): Promise<Result<GatewayStatus>>
  getSettings(): Promise<Result<ConsoleSettings>>
  /** Changing the local gateway's settings restarts it with them. */
  updateSettings(input: SettingsPatch): Promise<Result<ConsoleSettings>>
  /** Stored values of one resource in [from, to]: every sample, or per-bucket min/max beyond `maxPoints`. */
  history(input: HistoryInput): Promise<Result<HistoryResult>>
  /** The resources with stored values, of one endpoint or of all. */
  historySeries(input: HistorySeriesInput): Promise<Result<HistorySeries[]>>
  /**
   * Every stored sample of one resource in [from, to] as one CSV text, with a file name: the desktop app's
   * export. Refused (`invalid_input`) past HISTORY_CSV_MAX_SAMPLES; a browser streams `…/history.csv` instead.
   */
  exportHistoryCsv(input: ExportHistoryCsvInput): Promise<Result<HistoryCsv>>
  /** The MQTT bridge: connection state, last error, counters and settings (the password only as `hasPassword`). */
  mqttStatus(): Promise<Result<MqttStatus>>
  /** Change the bridge's settings (only the fields given; `password: null` removes it); it reconnects with them. */
  configureMqtt(input: MqttConfigureInput): Promise<Result<MqttStatus>>
  /** A device's adaptive sampling control: its settings and its ECG twins under control (rate, last drop ratio). */
  getControl(input: ControlInput): Promise<Result<ControlStatus>>
  /** Change a device's adaptive sampling settings (only the fields given); its running control follows at once. */
  configureControl(input: ConfigureControlInput): Promise<Result<ControlStatus>>
  /** Device identities: per endpoint its PSK identity or NoSec, never a key. */
  listSecurity(): Promise<Result<SecurityEntry[]>>
  /** Bind a PSK identity and key (hex, write-only) to an endpoint, or allow it as NoSec; replaces what it had. */
  setSecurity(input: SetSecurityInput): Promise<Result<SecurityEntry>>
  deleteSecurity(input: DeleteSecurityInput): Promise<Result<DeleteSecurityResult>>
  /** Whether plain-CoAP registrations of endpoints not stored as NoSec are refused, and where keys are kept. */
  getSecurityPolicy(): Promise<Result<SecurityPolicy>>
  setSecurityPolicy(input: SecurityPolicyInput): Promise<Result<SecurityPolicy>>
  /** The desktop app's self-update: state, versions, download progress (`unavailable` outside the desktop app). */
  updateStatus(): Promise<Result<UpdateStatus>>
  /** Asks the release feed for a newer version now; the answer is the status after the check. */
  checkForUpdates(): Promise<Result<UpdateStatus>>
  /** Starts downloading the update a check found; progress follows as `update` events. */
  downloadUpdate(): Promise<Result<UpdateStatus>>
  /** Quits, installs the downloaded update and restarts (a downloaded update also installs on a plain quit). */
  installUpdate(): Promise<Result<UpdateStatus>>
  /** Whether to check for updates each time the app starts (off until the user turns it on). */
  configureUpdates(input: UpdatePreferences): Promise<Result<UpdateStatus>>
  /** Live events; the listener is called for every event of the wanted kinds until unsubscribed. */
  subscribe(listener: (event: ConsoleEvent) => void, options?: SubscribeOptions): Unsubscribe
  /** The event stream's state; called at once with the current state. A listener sees `open` again after each reconnect (time to resynchronise). */
  onConnection(listener: (state: ConnectionState) => void): Unsubscribe
  /** Stops the event stream and any reconnect. */
  close(): void
}
