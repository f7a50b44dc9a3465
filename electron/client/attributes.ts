import type { WriteAttributes } from '../../shared/lwm2m/link-format.ts'
import { formatPath, parentPath, pathDepth, type Lwm2mPath } from '../../shared/lwm2m/path.ts'
import type { ResourceType } from '../../shared/lwm2m/values.ts'
import { OperationError } from './operation-error.ts'

/** Notification attributes as they are set on one path (TS 1.1 §5.1.2). */
export interface NotificationAttributes {
  pmin?: number
  pmax?: number
  gt?: number
  lt?: number
  st?: number
  epmin?: number
  epmax?: number
}

const NAMES = ['pmin', 'pmax', 'gt', 'lt', 'st', 'epmin', 'epmax'] as const
const VALUE_ATTRIBUTES = ['gt', 'lt', 'st'] as const
const NUMERIC: ReadonlySet<ResourceType> = new Set(['integer', 'unsigned', 'float', 'time'])

/** The attributes written per path (object, instance, resource, resource instance), and what applies to an observation. */
export class AttributeStore {
  private readonly byPath = new Map<string, NotificationAttributes>()

  /** The attributes set on exactly this path. */
  get(path: Lwm2mPath): NotificationAttributes {
    return { ...this.byPath.get(formatPath(path)) }
  }

  /**
   * Write-Attributes: numbers set, nulls unset. gt/lt/st only on numeric resources, and they must
   * leave room between the thresholds (lt < gt, lt + 2·st < gt). Throws `OperationError` (4.00).
   */
  write(path: Lwm2mPath, attrs: WriteAttributes, resourceType: ResourceType | undefined): void {
    const key = formatPath(path)
    if (pathDepth(path) === 0) throw new OperationError('not_allowed', 'attributes cannot be written on /')
    const next: NotificationAttributes = { ...this.byPath.get(key) }
    for (const name of NAMES) {
      const value = attrs[name]
      if (value === undefined) continue
      if (value === null) delete next[name]
      else next[name] = value
    }
    const valueAttrs = VALUE_ATTRIBUTES.filter((n) => attrs[n] !== undefined && attrs[n] !== null)
    if (valueAttrs.length > 0) {
      if (pathDepth(path) < 3) throw new OperationError('bad_request', `${valueAttrs.join(', ')} apply to a resource, not to ${key}`)
      if (resourceType === undefined || !NUMERIC.has(resourceType)) throw new OperationError('bad_request', `${valueAttrs.join(', ')} apply to numeric resources; ${key} is ${resourceType ?? 'of unknown type'}`)
    }
    const { gt, lt, st } = next
    if (gt !== undefined && lt !== undefined) {
      if (!(lt < gt)) throw new OperationError('bad_request', `lt ${lt} must be below gt ${gt}`)
      if (st !== undefined && !(lt + 2 * st < gt)) throw new OperationError('bad_request', `lt + 2·st (${lt + 2 * st}) must be below gt ${gt}`)
    }
    if (next.epmin !== undefined && next.epmax !== undefined && next.epmax < next.epmin) throw new OperationError('bad_request', `epmax ${next.epmax} is below epmin ${next.epmin}`)
    if (Object.keys(next).length === 0) this.byPath.delete(key)
    else this.byPath.set(key, next)
  }

  /**
   * What applies to an observation of `path`: each of pmin/pmax from the deepest level that sets it, else
   * the Server object's defaults; gt/lt/st only from the resource (or resource instance) itself.
   */
  effective(path: Lwm2mPath, defaults: { pmin?: number; pmax?: number }): NotificationAttributes {
    const out: NotificationAttributes = {}
    let level: Lwm2mPath = path
    for (;;) {
      const attrs = this.byPath.get(formatPath(level))
      if (attrs) {
        for (const name of ['pmin', 'pmax', 'epmin', 'epmax'] as const) if (out[name] === undefined && attrs[name] !== undefined) out[name] = attrs[name]
        if (pathDepth(level) >= 3) for (const name of VALUE_ATTRIBUTES) if (out[name] === undefined && attrs[name] !== undefined) out[name] = attrs[name]
      }
      if (pathDepth(level) <= 1) break
      level = parentPath(level)
    }
    if (out.pmin === undefined && defaults.pmin !== undefined) out.pmin = defaults.pmin
    if (out.pmax === undefined && defaults.pmax !== undefined && defaults.pmax > 0) out.pmax = defaults.pmax
    return out
  }

  /** Attributes as link parameters for Discover, in a fixed order. */
  linkParams(path: Lwm2mPath): Record<string, string> {
    const attrs = this.byPath.get(formatPath(path))
    const out: Record<string, string> = {}
    if (!attrs) return out
    for (const name of NAMES) if (attrs[name] !== undefined) out[name] = String(attrs[name])
    return out
  }

  /** Forgets attributes on and below a path (its instance was deleted). */
  removeUnder(path: Lwm2mPath): void {
    const prefix = formatPath(path)
    for (const key of [...this.byPath.keys()]) if (key === prefix || key.startsWith(`${prefix}/`)) this.byPath.delete(key)
  }
}

/**
 * gt/lt/st (TS 1.1 §5.1.2): notify when the value crosses gt or lt, or moved by at least st, since the
 * last notification. Without any of them every change counts. A value that is not a number always counts.
 */
export function valueQualifies(attrs: NotificationAttributes, last: number | undefined, value: number | undefined): boolean {
  const { gt, lt, st } = attrs
  if (gt === undefined && lt === undefined && st === undefined) return true
  if (last === undefined || value === undefined) return true
  if (gt !== undefined && last <= gt !== value <= gt) return true
  if (lt !== undefined && last < lt !== value < lt) return true
  if (st !== undefined && Math.abs(value - last) >= st) return true
  return false
}
