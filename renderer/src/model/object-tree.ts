import type { RecordJson } from '../../../shared/api/schemas.ts'
import { defineObject } from '../../../shared/lwm2m/models/compact.ts'
import type { ObjectModel, Operations, ResourceModel } from '../../../shared/lwm2m/object-model.ts'
import { tryParsePath } from '../../../shared/lwm2m/path.ts'
import type { ResourceType } from '../../../shared/lwm2m/values.ts'
import { describesEcgService, ECG_SERVICE_UUID } from '../../../shared/lwm2m/ecg-twin.ts'

/**
 * The object / instance / resource tree of one client, built from what it registered (its object
 * links), the object models (names, types, operations) and the values the console has seen from
 * reads and notifications. Pure: the stores feed it, the views draw it.
 */

/** Where the object models come from: the registry (`ObjectRegistry.withBuiltins()` fits). */
export interface ModelSource {
  get(objectId: number, version?: string): ObjectModel | undefined
}

/** The objects a client registered (`ClientInfo.objects`). */
export interface RegisteredObjectLink {
  readonly objectId: number
  readonly version?: string | undefined
  readonly instances: readonly number[]
}

export type ValueSource = 'read' | 'notification' | 'send' | 'write'

/** The latest value the console has for one path. */
export interface ValueEntry {
  readonly value: string | number | boolean
  readonly type?: string | undefined
  /** Seconds since the epoch, when the payload carried a time. */
  readonly time?: number | undefined
  /** Milliseconds since the epoch when the console received it. */
  readonly receivedAt: number
  readonly source: ValueSource
}

export interface ResourceInstanceNode {
  readonly kind: 'resourceInstance'
  readonly path: string
  readonly id: number
  readonly value?: ValueEntry
}

export interface ResourceNode {
  readonly kind: 'resource'
  readonly path: string
  readonly id: number
  readonly name: string
  /** The model knows this resource (else its name and type are guesses). */
  readonly known: boolean
  readonly type?: ResourceType | undefined
  /** From the model; undefined when unknown (then every operation is offered). */
  readonly operations?: Operations | undefined
  readonly readable: boolean
  readonly writable: boolean
  readonly executable: boolean
  /** Readable resources can be observed. */
  readonly observable: boolean
  readonly multiple: boolean
  readonly mandatory: boolean
  readonly units?: string | undefined
  readonly range?: string | undefined
  readonly description?: string | undefined
  /** Single-instance resources: the latest value. */
  readonly value?: ValueEntry | undefined
  /** Multiple-instance resources: their instances with values. */
  readonly instances: readonly ResourceInstanceNode[]
  /** Observed at this very path. */
  readonly observed: boolean
  /** An instance or object above it is observed. */
  readonly observedViaParent: boolean
  /** The ECG sample stream of an ECG twin: observing it opens the monitor. */
  readonly ecgSamples: boolean
}

export interface InstanceNode {
  readonly kind: 'instance'
  readonly path: string
  readonly id: number
  readonly resources: readonly ResourceNode[]
  readonly observed: boolean
}

export interface ObjectNode {
  readonly kind: 'object'
  readonly path: string
  readonly id: number
  readonly name: string
  readonly version?: string | undefined
  /** A model for it is known (from the registry, the server's models of this client, or the ECG twin profile). */
  readonly known: boolean
  /** An ObjectTwin: a dynamic object of the gateway (id ≥ 1024, no standard model). */
  readonly twin: boolean
  /** The ECG service twin (REFERENCE.md §1, paper Fig. 5). */
  readonly ecg: boolean
  readonly description?: string | undefined
  readonly multiple: boolean
  readonly instances: readonly InstanceNode[]
  readonly observed: boolean
}

export type TreeNode = ObjectNode | InstanceNode | ResourceNode | ResourceInstanceNode

export interface TreeInput {
  readonly objects: readonly RegisteredObjectLink[]
  readonly models: ModelSource
  /**
   * The models the server holds for this client beyond the registry's: those an ObjectTwin gateway published for
   * its twins. Without them (another server, an older gateway) twins are named from their description.
   */
  readonly clientModels?: ModelSource
  readonly values?: ReadonlyMap<string, ValueEntry>
  /** Paths of the client's observations. */
  readonly observed?: Iterable<string>
  /** Paths a Discover found (resources the device has, even before a read). */
  readonly discovered?: Iterable<string>
}

// The console's adaptive sampling recognises the ECG twin by the same rule (shared/lwm2m/ecg-twin.ts).
export { describesEcgService, ECG_SERVICE_UUID }
/** The object id the paper gives the ECG twin; a twin with this id and no description is taken for one (its samples open the monitor). */
export const PAPER_ECG_OBJECT_ID = 1031
/** Resource of the ECG twin whose notifications carry the samples. */
export const ECG_SAMPLES_RESOURCE = 1

/** Objects at or above this id without a standard model are ObjectTwins. */
export const FIRST_TWIN_OBJECT_ID = 1024

/**
 * Whether an object is an ObjectTwin: a dynamic object the gateway made for a GATT service. Those
 * take ids from a pool above the OMA range (≥ 1024) that clashes with no model the registry knows; a
 * standard object such as IPSO 3303 has a model and is not a twin.
 */
export function isTwinObject(objectId: number, models: ModelSource): boolean {
  return objectId >= FIRST_TWIN_OBJECT_ID && models.get(objectId) === undefined
}

/** How many of a client's objects are twins. */
export function countTwins(objects: readonly RegisteredObjectLink[], models: ModelSource): number {
  return objects.filter((o) => isTwinObject(o.objectId, models)).length
}

/** The ECG twin's resources as the gateway exposes them (paper Fig. 5), for a server without its model. */
function ecgTwinProfile(objectId: number, name: string): ObjectModel {
  return defineObject({ id: objectId, name, multiple: false, description: 'ObjectTwin of the ECG GATT service' }, [
    [0, 'Service', 'R', 'string', { mandatory: true, description: 'Description of the GATT service' }],
    [1, 'ECG Value', 'R', 'integer', { units: '10uV', description: 'ECG samples; notifications carry timestamped batches' }],
    [2, 'Sampling Rate', 'RW', 'integer', { units: 'Hz' }],
    [3, 'Timestamping', 'RW', 'boolean', { description: 'Timestamp each reading on/off' }],
  ])
}

/**
 * A twin's display name from its description: `ECG service f001… of "Patch 1" (aa:bb…)` becomes
 * `ECG (Patch 1)`, as the gateway names its model; other descriptions are shortened.
 */
export function twinNameFromDescription(description: string): string {
  const m = /^(.+?) service [0-9a-f-]{4,36} of "([^"]+)"/i.exec(description.trim())
  if (m) return `${m[1]} (${m[2]})`
  const text = description.trim()
  return text.length > 48 ? text.slice(0, 47) + '…' : text
}

function splitPath(path: string): number[] | undefined {
  const p = tryParsePath(path)
  if (!p || p.prefix !== undefined) return undefined
  const ids: number[] = []
  for (const id of [p.objectId, p.instanceId, p.resourceId, p.resourceInstanceId]) {
    if (id === undefined) break
    ids.push(id)
  }
  return ids
}

/** Canonical form of a path ("/3/0/" → "/3/0"); undefined when it is not an LwM2M path without prefix. */
export function normalizePath(path: string): string | undefined {
  const ids = splitPath(path)
  return ids === undefined ? undefined : '/' + ids.join('/')
}

/**
 * Merges decoded records into the value map. Within one batch the record with the latest time wins
 * for its path (an ECG notification carries many timestamped samples of one resource); without
 * times, the last one does. Returns the paths whose value changed.
 */
export function applyRecords(values: Map<string, ValueEntry>, records: readonly RecordJson[], source: ValueSource, receivedAt: number): string[] {
  const latest = new Map<string, RecordJson>()
  for (const r of records) {
    const path = normalizePath(r.path)
    if (path === undefined) continue
    const before = latest.get(path)
    if (before === undefined || before.time === undefined || r.time === undefined || r.time >= before.time) latest.set(path, r)
  }
  const changed: string[] = []
  for (const [path, r] of latest) {
    values.set(path, { value: r.value, receivedAt, source, ...(r.type !== undefined ? { type: r.type } : {}), ...(r.time !== undefined ? { time: r.time } : {}) })
    changed.push(path)
  }
  return changed
}

/** Forgets the values at and under a path (after a Delete, or when an instance vanishes). */
export function removeValuesUnder(values: Map<string, ValueEntry>, path: string): number {
  const base = normalizePath(path)
  if (base === undefined) return 0
  let removed = 0
  for (const key of [...values.keys()]) {
    if (key === base || base === '/' || key.startsWith(base + '/')) {
      values.delete(key)
      removed++
    }
  }
  return removed
}

function ops(operations: Operations | undefined): { readable: boolean; writable: boolean; executable: boolean } {
  if (operations === undefined) return { readable: true, writable: true, executable: true }
  return { readable: operations.includes('R'), writable: operations.includes('W'), executable: operations === 'E' }
}

/** Builds the tree. Objects, instances and resources are sorted by id. */
export function buildObjectTree(input: TreeInput): ObjectNode[] {
  const values = input.values ?? new Map<string, ValueEntry>()
  const observed = new Set<string>()
  for (const p of input.observed ?? []) {
    const n = normalizePath(p)
    if (n !== undefined) observed.add(n)
  }

  // Everything the console knows exists below each instance: values and discovered paths.
  const seen = new Map<string, Set<number>>() // "/o/i" → resource ids
  const seenInstances = new Map<number, Set<number>>() // o → instance ids seen in values
  const note = (path: string): void => {
    const ids = splitPath(path)
    if (!ids || ids.length < 2) return
    const [o, i, r] = ids as [number, number, number | undefined]
    let insts = seenInstances.get(o)
    if (!insts) seenInstances.set(o, (insts = new Set()))
    insts.add(i)
    if (r === undefined) return
    const key = `/${o}/${i}`
    let set = seen.get(key)
    if (!set) seen.set(key, (set = new Set()))
    set.add(r)
  }
  for (const p of values.keys()) note(p)
  for (const p of input.discovered ?? []) note(p)

  const objects = [...input.objects].sort((a, b) => a.objectId - b.objectId)
  return objects.map((link) => {
    const o = link.objectId
    const registered = input.models.get(o, link.version) ?? input.models.get(o)
    const twin = registered === undefined && o >= FIRST_TWIN_OBJECT_ID
    const served = registered === undefined ? input.clientModels?.get(o) : undefined
    const instanceIds = [...new Set([...link.instances])].sort((a, b) => a - b)
    // A twin's description lives in resource 0 of its instance (and in the model the gateway published).
    const value0 = instanceIds.map((i) => values.get(`/${o}/${i}/0`)?.value).find((v) => typeof v === 'string')
    const descriptionValue = twin && typeof value0 === 'string' ? value0 : undefined
    const description = descriptionValue ?? registered?.description ?? served?.description
    const describedEcg = twin && describesEcgService(descriptionValue ?? served?.description)
    // Without a description or model only the id hints at ECG: open the monitor for its samples, but claim no model.
    const ecg = describedEcg || (twin && o === PAPER_ECG_OBJECT_ID && value0 === undefined && served === undefined)
    const name = registered?.name ?? served?.name ?? (descriptionValue !== undefined ? twinNameFromDescription(descriptionValue) : `Object ${o}`)
    const model = registered ?? served ?? (describedEcg ? ecgTwinProfile(o, name) : undefined)
    const objectPath = `/${o}`

    const instances: InstanceNode[] = instanceIds.map((i) => {
      const instancePath = `${objectPath}/${i}`
      const ids = new Set<number>(seen.get(instancePath) ?? [])
      if (model) for (const id of model.resources.keys()) ids.add(id)
      const resources = [...ids]
        .sort((a, b) => a - b)
        .map((r) => resourceNode(instancePath, r, model?.resources.get(r), values, observed, ecg))
      return { kind: 'instance', path: instancePath, id: i, resources, observed: observed.has(instancePath) } satisfies InstanceNode
    })

    return {
      kind: 'object',
      path: objectPath,
      id: o,
      name,
      ...(link.version !== undefined ? { version: link.version } : {}),
      known: model !== undefined,
      twin,
      ecg,
      ...(description !== undefined ? { description } : {}),
      multiple: model?.multiple ?? instanceIds.length > 1,
      instances,
      observed: observed.has(objectPath),
    } satisfies ObjectNode
  })
}

function resourceNode(
  instancePath: string,
  id: number,
  model: ResourceModel | undefined,
  values: ReadonlyMap<string, ValueEntry>,
  observed: ReadonlySet<string>,
  ecgObject: boolean,
): ResourceNode {
  const path = `${instancePath}/${id}`
  const single = values.get(path)
  const prefix = path + '/'
  const instances: ResourceInstanceNode[] = []
  for (const [key, value] of values) {
    if (!key.startsWith(prefix)) continue
    const ri = Number(key.slice(prefix.length))
    if (Number.isInteger(ri)) instances.push({ kind: 'resourceInstance', path: key, id: ri, value })
  }
  instances.sort((a, b) => a.id - b.id)
  const type = (model?.type ?? (single?.type as ResourceType | undefined) ?? (instances[0]?.value?.type as ResourceType | undefined)) || undefined
  const { readable, writable, executable } = ops(model?.operations)
  const objectPath = instancePath.slice(0, instancePath.lastIndexOf('/'))
  return {
    kind: 'resource',
    path,
    id,
    name: model?.name ?? `Resource ${id}`,
    known: model !== undefined,
    type,
    operations: model?.operations,
    readable,
    writable,
    executable,
    observable: readable,
    multiple: model?.multiple ?? instances.length > 0,
    mandatory: model?.mandatory ?? false,
    units: model?.units,
    range: model?.range,
    description: model?.description,
    value: single,
    instances,
    observed: observed.has(path),
    observedViaParent: observed.has(instancePath) || observed.has(objectPath),
    ecgSamples: ecgObject && id === ECG_SAMPLES_RESOURCE,
  }
}

/** Finds a node by path in a built tree. */
export function findNode(tree: readonly ObjectNode[], path: string): TreeNode | undefined {
  const ids = splitPath(path)
  if (!ids || ids.length === 0) return undefined
  const [o, i, r, ri] = ids
  const object = tree.find((n) => n.id === o)
  if (!object || i === undefined) return object
  const instance = object.instances.find((n) => n.id === i)
  if (!instance || r === undefined) return instance
  const resource = instance.resources.find((n) => n.id === r)
  if (!resource || ri === undefined) return resource
  return resource.instances.find((n) => n.id === ri)
}

/** One visible line of the tree view. */
export interface TreeRow {
  readonly node: TreeNode
  /** 1 for objects, 2 instances, 3 resources, 4 resource instances (aria-level). */
  readonly level: number
  readonly expandable: boolean
  readonly expanded: boolean
  /** Path of the row above it in the hierarchy (for ArrowLeft). */
  readonly parent?: string
}

/** Whether a node starts expanded: objects do, and a twin's instances (few resources, the ones people came for). */
export function expandedByDefault(node: TreeNode, objectOf?: ObjectNode): boolean {
  if (node.kind === 'object') return true
  if (node.kind === 'instance') return objectOf?.twin === true
  return node.kind === 'resource'
}

/**
 * The rows to draw, depth first, given which paths the user opened or closed (`overrides`, path →
 * expanded); nodes without an override follow `expandedByDefault`.
 */
export function flattenTree(tree: readonly ObjectNode[], overrides: ReadonlyMap<string, boolean>): TreeRow[] {
  const rows: TreeRow[] = []
  const isOpen = (node: TreeNode, object: ObjectNode): boolean => overrides.get(node.path) ?? expandedByDefault(node, object)
  for (const object of tree) {
    const objectOpen = isOpen(object, object)
    rows.push({ node: object, level: 1, expandable: true, expanded: objectOpen })
    if (!objectOpen) continue
    for (const instance of object.instances) {
      const instanceOpen = isOpen(instance, object)
      rows.push({ node: instance, level: 2, expandable: true, expanded: instanceOpen, parent: object.path })
      if (!instanceOpen) continue
      for (const resource of instance.resources) {
        const hasInstances = resource.instances.length > 0
        const resourceOpen = hasInstances && isOpen(resource, object)
        rows.push({ node: resource, level: 3, expandable: hasInstances, expanded: resourceOpen, parent: instance.path })
        if (!resourceOpen) continue
        for (const ri of resource.instances) rows.push({ node: ri, level: 4, expandable: false, expanded: false, parent: resource.path })
      }
    }
  }
  return rows
}
