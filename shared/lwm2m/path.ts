import { CodecError } from './errors.ts'

/** The largest object, instance or resource id LwM2M allows (65535 is reserved). */
export const MAX_ID = 65534

/**
 * An LwM2M path: `/`, `/o`, `/o/i`, `/o/i/r`, `/o/i/r/ri`, optionally behind a gateway prefix
 * (`/dev0/3/0/1` addresses resource 1 of the Device object of end device `dev0`).
 */
export interface Lwm2mPath {
  readonly prefix?: string
  readonly objectId?: number
  readonly instanceId?: number
  readonly resourceId?: number
  readonly resourceInstanceId?: number
}

export type PathLevel = 'root' | 'object' | 'instance' | 'resource' | 'resourceInstance'

const LEVELS: readonly PathLevel[] = ['root', 'object', 'instance', 'resource', 'resourceInstance']
const ID_RE = /^(0|[1-9][0-9]{0,4})$/
// A gateway prefix names an end device: it must not look like an object id.
const PREFIX_RE = /^[A-Za-z_][A-Za-z0-9_.~-]{0,63}$/

function pathError(reason: string): CodecError {
  return new CodecError('Path', reason)
}

function parseId(segment: string, what: string, text: string): number {
  if (!ID_RE.test(segment)) throw pathError(`${what} "${segment}" in "${text}" is not a decimal id`)
  const n = Number(segment)
  if (n > MAX_ID) throw pathError(`${what} ${n} in "${text}" is out of range 0-${MAX_ID}`)
  return n
}

/** Parses a path string. Throws a `CodecError` that names the faulty segment. */
export function parsePath(text: string): Lwm2mPath {
  if (typeof text !== 'string' || text.length === 0) throw pathError('empty path')
  if (!text.startsWith('/')) throw pathError(`"${text}" does not start with "/"`)
  if (text === '/') return {}
  const segments = (text.endsWith('/') ? text.slice(1, -1) : text.slice(1)).split('/')
  let prefix: string | undefined
  if (segments[0] !== undefined && !ID_RE.test(segments[0]) && !/^[0-9]/.test(segments[0])) {
    if (!PREFIX_RE.test(segments[0])) throw pathError(`gateway prefix "${segments[0]}" in "${text}" is not a valid name`)
    prefix = segments.shift()
  }
  if (segments.length > 4) throw pathError(`"${text}" has ${segments.length} levels; at most 4 are allowed`)
  const names = ['object id', 'instance id', 'resource id', 'resource instance id'] as const
  const ids = segments.map((s, i) => {
    if (s === '') throw pathError(`empty segment in "${text}"`)
    return parseId(s, names[i] ?? 'id', text)
  })
  return makePath(ids, prefix)
}

/** Like `parsePath`, without throwing. */
export function tryParsePath(text: string): Lwm2mPath | undefined {
  try {
    return parsePath(text)
  } catch {
    return undefined
  }
}

/** Builds a path from its ids in order (object, instance, resource, resource instance). */
export function makePath(ids: readonly number[], prefix?: string): Lwm2mPath {
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id > MAX_ID) throw pathError(`id ${id} is out of range 0-${MAX_ID}`)
  }
  if (ids.length > 4) throw pathError(`${ids.length} ids given; at most 4 are allowed`)
  const path: {
    prefix?: string
    objectId?: number
    instanceId?: number
    resourceId?: number
    resourceInstanceId?: number
  } = {}
  if (prefix !== undefined) path.prefix = prefix
  if (ids[0] !== undefined) path.objectId = ids[0]
  if (ids[1] !== undefined) path.instanceId = ids[1]
  if (ids[2] !== undefined) path.resourceId = ids[2]
  if (ids[3] !== undefined) path.resourceInstanceId = ids[3]
  return path
}

/** The ids of a path, outermost first. */
export function pathIds(path: Lwm2mPath): number[] {
  const ids: number[] = []
  for (const id of [path.objectId, path.instanceId, path.resourceId, path.resourceInstanceId]) {
    if (id === undefined) break
    ids.push(id)
  }
  return ids
}

export function pathDepth(path: Lwm2mPath): number {
  return pathIds(path).length
}

export function pathLevel(path: Lwm2mPath): PathLevel {
  return LEVELS[pathDepth(path)] ?? 'resourceInstance'
}

export function formatPath(path: Lwm2mPath): string {
  const ids = pathIds(path)
  const head = path.prefix === undefined ? '' : `/${path.prefix}`
  if (ids.length === 0) return head === '' ? '/' : head
  return `${head}/${ids.join('/')}`
}

/** The path one level deeper. */
export function childPath(path: Lwm2mPath, id: number): Lwm2mPath {
  return makePath([...pathIds(path), id], path.prefix)
}

/** The path one level up (the root stays the root). */
export function parentPath(path: Lwm2mPath): Lwm2mPath {
  return makePath(pathIds(path).slice(0, -1), path.prefix)
}

/** Total order: prefix, then ids level by level, a parent before its children. */
export function comparePaths(a: Lwm2mPath, b: Lwm2mPath): number {
  const pa = a.prefix ?? ''
  const pb = b.prefix ?? ''
  if (pa !== pb) return pa < pb ? -1 : 1
  const ia = pathIds(a)
  const ib = pathIds(b)
  for (let i = 0; i < Math.min(ia.length, ib.length); i++) {
    const d = (ia[i] as number) - (ib[i] as number)
    if (d !== 0) return d
  }
  return ia.length - ib.length
}

export function pathsEqual(a: Lwm2mPath, b: Lwm2mPath): boolean {
  return comparePaths(a, b) === 0
}

/** True when `ancestor` is `path` itself or one of its parents (same gateway prefix). */
export function isPathPrefixOf(ancestor: Lwm2mPath, path: Lwm2mPath): boolean {
  if ((ancestor.prefix ?? '') !== (path.prefix ?? '')) return false
  const ia = pathIds(ancestor)
  const ip = pathIds(path)
  return ia.length <= ip.length && ia.every((id, i) => id === ip[i])
}
