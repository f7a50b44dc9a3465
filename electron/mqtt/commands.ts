import { z } from 'zod'
import { describeIssues, ReadInput, WriteRecord } from '../../shared/api/console-api.ts'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import { fail, type ApiError, type Result } from '../../shared/api/result.ts'
import type { Attributes, ClientInfo, DmResult } from '../../shared/api/schemas.ts'
import { COMMAND_OPS, isCommandOp, type CommandOp } from './topics.ts'

/**
 * Commands received over MQTT (docs/mqtt.md): a JSON body on `<prefix>/clients/<ep>/cmd/<op>`, checked here and
 * carried out through the console's API. Whatever arrives — not JSON, unknown fields, an unknown operation — ends
 * as a result naming the problem, never as an exception.
 */

type DmOptions = { format?: string; timeoutMs?: number }

/** The part of ConsoleService the bridge uses (never the server's internals). */
export interface BridgeConsole {
  onEvent(listener: (event: ConsoleEvent) => void): () => void
  listClients(): ClientInfo[]
  getClient(endpoint: string): Result<ClientInfo>
  read(endpoint: string, path: string, options?: DmOptions): Promise<Result<DmResult>>
  discover(endpoint: string, path: string, options?: DmOptions): Promise<Result<DmResult>>
  write(endpoint: string, path: string, body: unknown, options?: DmOptions & { replace?: boolean }): Promise<Result<DmResult>>
  execute(endpoint: string, path: string, args?: string, options?: DmOptions): Promise<Result<DmResult>>
  observe(endpoint: string, paths: readonly string[], options?: DmOptions & { attributes?: Attributes }): Promise<Result<DmResult & { observationId?: string }>>
  cancelObservation(endpoint: string, path?: string, options?: { passive?: boolean }): Promise<Result<{ cancelled: number }>>
}

const Path = ReadInput.shape.path
/** A command id becomes a topic level: no wildcards or separators. */
const CommandId = z.string().min(1).max(128).regex(/^[^/+#]+$/, 'id must not contain / + or #')

export const CommandBody = z
  .object({
    id: CommandId.optional(),
    path: Path.optional(),
    /** observe: several paths at once (a composite observation). */
    paths: z.array(Path).min(1).max(64).optional(),
    /** write: the value of the resource at `path`… */
    value: z.union([z.string(), z.number(), z.boolean()]).optional(),
    /** …or records with paths absolute or relative to `path`. */
    records: z.array(WriteRecord).min(1).max(1000).optional(),
    replace: z.boolean().optional(),
    args: z.string().max(4096).optional(),
    format: ReadInput.shape.format,
    timeoutMs: ReadInput.shape.timeoutMs,
    passive: z.boolean().optional(),
  })
  .strict()
export type CommandBody = z.infer<typeof CommandBody>

/** The id of a payload that is JSON with a usable `id`, so even a rejected command is answered where its sender listens. */
function idOf(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined
  const parsed = CommandId.safeParse((json as { id?: unknown }).id)
  return parsed.success ? parsed.data : undefined
}

function dmOptions(body: CommandBody): DmOptions {
  return { ...(body.format !== undefined ? { format: body.format } : {}), ...(body.timeoutMs !== undefined ? { timeoutMs: body.timeoutMs } : {}) }
}

function needPath(op: CommandOp, body: CommandBody): Result<string> {
  return body.path !== undefined ? { ok: true, value: body.path } : fail('invalid_input', `${op}: path is required`)
}

async function perform(api: BridgeConsole, endpoint: string, op: CommandOp, body: CommandBody): Promise<Result<unknown>> {
  const options = dmOptions(body)
  switch (op) {
    case 'read':
    case 'discover': {
      const path = needPath(op, body)
      if (!path.ok) return path
      return op === 'read' ? api.read(endpoint, path.value, options) : api.discover(endpoint, path.value, options)
    }
    case 'write': {
      const path = needPath(op, body)
      if (!path.ok) return path
      if ((body.value === undefined) === (body.records === undefined)) return fail('invalid_input', 'write: give either value or records')
      const writeBody = body.records ?? { value: body.value }
      return api.write(endpoint, path.value, writeBody, { ...options, ...(body.replace !== undefined ? { replace: body.replace } : {}) })
    }
    case 'execute': {
      const path = needPath(op, body)
      return path.ok ? api.execute(endpoint, path.value, body.args, options) : path
    }
    case 'observe': {
      const paths = body.paths ?? (body.path !== undefined ? [body.path] : undefined)
      return paths ? api.observe(endpoint, paths, options) : fail('invalid_input', 'observe: path or paths is required')
    }
    case 'cancel-observe':
      // No path (or "/"): every observation of the client.
      return api.cancelObservation(endpoint, body.path === '/' ? undefined : body.path, body.passive !== undefined ? { passive: body.passive } : {})
  }
}

/** A received command: its id (when one could be read, so even a rejected command is answered where its sender listens) and either a valid body or why not. */
export type ParsedCommand = { readonly id?: string; readonly op: string } & ({ readonly ok: true; readonly op: CommandOp; readonly body: CommandBody } | { readonly ok: false; readonly error: ApiError })

/** The result message of a command. */
export interface CommandResult {
  readonly id?: string
  readonly op: string
  readonly endpoint: string
  readonly ok: boolean
  readonly value?: unknown
  readonly error?: { readonly code: string; readonly message: string }
  readonly time: number
}

const invalid = (message: string): ApiError => ({ code: 'invalid_input', message })

/** Checks one received payload. Never throws. */
export function parseCommand(op: string, payload: Uint8Array): ParsedCommand {
  const text = Buffer.from(payload).toString('utf8')
  let json: unknown
  try {
    // An empty payload is an empty command (cancel-observe of everything, say), not a syntax error.
    json = text.trim() === '' ? {} : JSON.parse(text)
  } catch (e) {
    return { op, ok: false, error: invalid(`the command payload is not JSON: ${(e as Error).message}`) }
  }
  const id = idOf(json)
  const withId = id !== undefined ? { id } : {}
  if (!isCommandOp(op)) return { ...withId, op, ok: false, error: invalid(`unknown command "${op}"; the commands are ${COMMAND_OPS.join(', ')}`) }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ...withId, op, ok: false, error: invalid('the command payload must be a JSON object such as {"id":"1","path":"/3/0/0"}') }
  }
  const parsed = CommandBody.safeParse(json)
  if (!parsed.success) return { ...withId, op, ok: false, error: invalid(`${op}: ${describeIssues(parsed.error)}`) }
  return { ...withId, op, ok: true, body: parsed.data }
}

/** Carries out a valid command through the console's API. Never throws. */
export async function performCommand(api: BridgeConsole, endpoint: string, op: CommandOp, body: CommandBody): Promise<Result<unknown>> {
  try {
    return await perform(api, endpoint, op, body)
  } catch (e) {
    return fail('internal', `${op}: ${e instanceof Error ? e.message : String(e)}`)
  }
}

export function commandResult(command: { readonly id?: string; readonly op: string }, endpoint: string, result: Result<unknown>, time: number): CommandResult {
  return {
    ...(command.id !== undefined ? { id: command.id } : {}),
    op: command.op,
    endpoint,
    ok: result.ok,
    ...(result.ok ? { value: result.value } : { error: result.error }),
    time,
  }
}
