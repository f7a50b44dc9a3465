import { makePath, pathIds, type Lwm2mPath } from './path.ts'
import type { Lwm2mRecord, Lwm2mValue, ResourceType } from './values.ts'

/** One timestamped or untimed value of a resource or resource instance. */
export interface TimedValue {
  readonly value: Lwm2mValue
  readonly time?: number
}

export interface ResourceInstanceNode {
  readonly kind: 'resourceInstance'
  readonly id: number
  readonly type?: ResourceType
  /** Oldest first; more than one when a payload carried several timestamped values. */
  readonly values: TimedValue[]
}

export interface ResourceNode {
  readonly kind: 'resource'
  readonly id: number
  readonly type?: ResourceType
  /** Single resource: its values (oldest first). Multiple resource: empty. */
  readonly values: TimedValue[]
  /** Multiple resource: its instances by id. */
  readonly instances?: Map<number, ResourceInstanceNode>
}

export interface InstanceNode {
  readonly kind: 'instance'
  readonly id: number
  readonly resources: Map<number, ResourceNode>
}

export interface ObjectNode {
  readonly kind: 'object'
  readonly id: number
  readonly instances: Map<number, InstanceNode>
}

export type Lwm2mNode = ObjectNode | InstanceNode | ResourceNode | ResourceInstanceNode

/**
 * Groups flat records into object → instance → resource (→ resource instance) trees, keeping every
 * timestamped value in time order. Records above resource level (no resource id) are ignored: they
 * carry no value.
 */
export function buildTree(records: readonly Lwm2mRecord[]): Map<number, ObjectNode> {
  const objects = new Map<number, ObjectNode>()
  for (const r of records) {
    const [o, i, res, ri] = pathIds(r.path)
    if (o === undefined || i === undefined || res === undefined) continue
    let obj = objects.get(o)
    if (!obj) objects.set(o, (obj = { kind: 'object', id: o, instances: new Map() }))
    let inst = obj.instances.get(i)
    if (!inst) obj.instances.set(i, (inst = { kind: 'instance', id: i, resources: new Map() }))
    let resource = inst.resources.get(res)
    if (!resource) {
      resource = { kind: 'resource', id: res, values: [], ...(r.type ? { type: r.type } : {}), ...(ri !== undefined ? { instances: new Map() } : {}) }
      inst.resources.set(res, resource)
    }
    const timed: TimedValue = r.time === undefined ? { value: r.value } : { value: r.value, time: r.time }
    if (ri === undefined) {
      resource.values.push(timed)
      continue
    }
    const instances = resource.instances ?? new Map<number, ResourceInstanceNode>()
    // A resource first seen with a plain value gains instances when a resource-instance record follows.
    if (!resource.instances) inst.resources.set(res, { ...resource, instances })
    let rin = instances.get(ri)
    if (!rin) instances.set(ri, (rin = { kind: 'resourceInstance', id: ri, values: [], ...(r.type ? { type: r.type } : {}) }))
    rin.values.push(timed)
  }
  for (const obj of objects.values())
    for (const inst of obj.instances.values())
      for (const res of inst.resources.values()) {
        sortByTime(res.values)
        for (const rin of res.instances?.values() ?? []) sortByTime(rin.values)
      }
  return objects
}

function sortByTime(values: TimedValue[]): void {
  if (values.length > 1) values.sort((a, b) => (a.time ?? 0) - (b.time ?? 0))
}

/** The newest value of each path: what a tree view shows as "current". */
export function latestByPath(records: readonly Lwm2mRecord[]): Map<string, Lwm2mRecord> {
  const latest = new Map<string, Lwm2mRecord>()
  for (const r of records) {
    const key = pathIds(r.path).join('/')
    const prev = latest.get(key)
    if (!prev || (r.time ?? Infinity) >= (prev.time ?? -Infinity)) latest.set(key, r)
  }
  return latest
}

/** Flattens a tree back to records (inverse of `buildTree`). */
export function flattenTree(objects: Iterable<ObjectNode>, prefix?: string): Lwm2mRecord[] {
  const out: Lwm2mRecord[] = []
  const push = (ids: number[], type: ResourceType | undefined, v: TimedValue): void => {
    const path: Lwm2mPath = makePath(ids, prefix)
    out.push({ path, value: v.value, ...(type ? { type } : {}), ...(v.time !== undefined ? { time: v.time } : {}) })
  }
  for (const obj of objects)
    for (const inst of obj.instances.values())
      for (const res of inst.resources.values()) {
        for (const v of res.values) push([obj.id, inst.id, res.id], res.type, v)
        for (const rin of res.instances?.values() ?? [])
          for (const v of rin.values) push([obj.id, inst.id, res.id, rin.id], rin.type ?? res.type, v)
      }
  return out
}
