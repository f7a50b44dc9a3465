/**
 * The bridge's topic scheme (docs/mqtt.md), all under one prefix:
 *
 *   <prefix>/bridge/status                        retained, online/offline (offline is the last will)
 *   <prefix>/clients/<ep>/state                   retained, the client's registration state
 *   <prefix>/clients/<ep>/data/<o>/<i>/<r>[/<ri>] notified and sent values
 *   <prefix>/clients/<ep>/cmd/<op>                commands to the console (subscribed)
 *   <prefix>/clients/<ep>/result[/<id>]           their results
 *
 * An endpoint name is one topic level: the characters that would split it or act as wildcards (`/ + #`) and
 * `%` itself are written as %XX.
 */

export const COMMAND_OPS = ['read', 'write', 'execute', 'observe', 'cancel-observe', 'discover'] as const
export type CommandOp = (typeof COMMAND_OPS)[number]

export function isCommandOp(op: string): op is CommandOp {
  return (COMMAND_OPS as readonly string[]).includes(op)
}

const RESERVED = /[%/+#]/g

/** An endpoint name as one topic level. */
export function encodeLevel(name: string): string {
  return name.replace(RESERVED, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
}

/** The endpoint name of a topic level; undefined when an escape is malformed. */
export function decodeLevel(level: string): string | undefined {
  try {
    return decodeURIComponent(level)
  } catch {
    return undefined
  }
}

export function bridgeStatusTopic(prefix: string): string {
  return `${prefix}/bridge/status`
}

export function clientStateTopic(prefix: string, endpoint: string): string {
  return `${prefix}/clients/${encodeLevel(endpoint)}/state`
}

/** `path` is an LwM2M path such as /3442/0/1: its levels become topic levels. */
export function dataTopic(prefix: string, endpoint: string, path: string): string {
  return `${prefix}/clients/${encodeLevel(endpoint)}/data${path}`
}

export function resultTopic(prefix: string, endpoint: string, id: string | undefined): string {
  const base = `${prefix}/clients/${encodeLevel(endpoint)}/result`
  return id === undefined ? base : `${base}/${encodeLevel(id)}`
}

/** What the bridge subscribes to: every command for every endpoint. */
export function commandFilter(prefix: string): string {
  return `${prefix}/clients/+/cmd/+`
}

/** The endpoint and operation of a command topic; undefined for any other topic. The operation is not checked here. */
export function parseCommandTopic(prefix: string, topic: string): { endpoint: string; op: string } | undefined {
  const head = `${prefix}/clients/`
  if (!topic.startsWith(head)) return undefined
  const levels = topic.slice(head.length).split('/')
  if (levels.length !== 3 || levels[1] !== 'cmd') return undefined
  const endpoint = decodeLevel(levels[0] as string)
  if (endpoint === undefined || endpoint === '') return undefined
  return { endpoint, op: levels[2] as string }
}
