import type { ModelLookup, ObjectModel, ResourceModel } from '../../shared/lwm2m/object-model.ts'
import { formatPath, isPathPrefixOf, makePath, MAX_ID, type Lwm2mPath } from '../../shared/lwm2m/path.ts'
import { coerceValue, isObjlnk, type Lwm2mRecord, type Lwm2mValue } from '../../shared/lwm2m/values.ts'
import { isCodecError } from '../../shared/lwm2m/errors.ts'
import { OperationError } from './operation-error.ts'

/** Where a handler is called: the resource (and, for a resource-instance write, the instance). */
export interface ResourceContext {
  readonly objectId: number
  readonly instanceId: number
  readonly resourceId: number
  readonly path: Lwm2mPath
}

export interface WriteContext extends ResourceContext {
  /** Replace (PUT) or Partial Update (POST): for a multiple resource, whether instances not written go. */
  readonly replace: boolean
  /** Set when one resource instance is written (/o/i/r/ri). */
  readonly resourceInstanceId?: number
}

/** A single resource's value, or a multiple resource's values by instance id. */
export type ResourceContent = Lwm2mValue | ReadonlyMap<number, Lwm2mValue>

/**
 * A resource whose value lives elsewhere (a BLE characteristic): every server operation calls the
 * handler. Handlers throw `OperationError` to answer with a specific code (5.03, 5.04, 4.00, …).
 */
export interface ResourceHandler {
  read?(ctx: ResourceContext): ResourceContent | Promise<ResourceContent>
  write?(value: ResourceContent, ctx: WriteContext): void | Promise<void>
  /** `args` is the Execute payload as sent, e.g. `0='v',1` (empty when none). */
  execute?(args: string, ctx: ResourceContext): void | Promise<void>
  /** The first observation covering this resource started (true), or the last one ended (false). */
  observe?(active: boolean, ctx: ResourceContext): void | Promise<void>
}

/** A plain value (array or map for a multiple resource), or a handler. */
export type ResourceInit = Lwm2mValue | readonly Lwm2mValue[] | ReadonlyMap<number, Lwm2mValue> | ResourceHandler
export type InstanceInit = Readonly<Record<number, ResourceInit>> | ReadonlyMap<number, ResourceInit>
export type InstancesInit = Readonly<Record<number, InstanceInit>> | ReadonlyMap<number, InstanceInit> | readonly InstanceInit[]

export interface ObjectOptions {
  /** Whether the server may Create instances; default: a multi-instance model outside the core objects 0–7. */
  readonly creatable?: boolean
  /** Whether the server may Delete instances; default as `creatable`. */
  readonly deletable?: boolean
  /** Left out of the registration and closed to the server (4.01), as the Security object must be. */
  readonly hidden?: boolean
}

export type TreeChange =
  | { readonly kind: 'value'; readonly path: Lwm2mPath }
  /** Objects or instances came or went: the registration's object links changed. */
  | { readonly kind: 'structure'; readonly path: Lwm2mPath; readonly removed: boolean }

interface Slot {
  readonly model: ResourceModel
  value?: Lwm2mValue
  values?: Map<number, Lwm2mValue>
  handler?: ResourceHandler
  /** Handler-backed: the last value the owner pushed (valueChanged, pushSamples), served to notifications. */
  cache?: ResourceContent
}

interface InstanceState {
  readonly id: number
  readonly resources: Map<number, Slot>
}

interface ObjectState {
  readonly model: ObjectModel
  readonly instances: Map<number, InstanceState>
  readonly creatable: boolean
  readonly deletable: boolean
  readonly hidden: boolean
}

export interface DiscoverEntry {
  readonly path: Lwm2mPath
  /** Number of instances of a multiple resource. */
  readonly dim?: number
  /** Object version, on object links when it is not 1.0. */
  readonly version?: string
}

function isHandler(init: ResourceInit): init is ResourceHandler {
  if (typeof init !== 'object' || init === null || init instanceof Uint8Array || init instanceof Map || Array.isArray(init) || isObjlnk(init)) return false
  const h = init as ResourceHandler
  return typeof h.read === 'function' || typeof h.write === 'function' || typeof h.execute === 'function' || typeof h.observe === 'function'
}

function entriesOf<T>(init: Readonly<Record<number, T>> | ReadonlyMap<number, T> | readonly T[]): [number, T][] {
  if (init instanceof Map) return [...(init as ReadonlyMap<number, T>).entries()]
  if (Array.isArray(init)) return (init as readonly T[]).map((v, i) => [i, v])
  return Object.entries(init as Readonly<Record<number, T>>).map(([k, v]) => [Number(k), v])
}

function sameValue(a: Lwm2mValue | undefined, b: Lwm2mValue | undefined): boolean {
  if (a === b) return true
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i])
  if (isObjlnk(a) && isObjlnk(b)) return a.objectId === b.objectId && a.instanceId === b.instanceId
  return false
}

function sameValues(a: ReadonlyMap<number, Lwm2mValue> | undefined, b: ReadonlyMap<number, Lwm2mValue> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  if (a.size !== b.size) return false
  for (const [k, v] of a) if (!sameValue(v, b.get(k))) return false
  return true
}

const CORE_OBJECTS = new Set([0, 1, 2, 3, 4, 5, 6, 7])

/**
 * The client's objects, instances and resources, as the server sees them. Resources hold plain values
 * (typed by the object model) or are handler-backed. It answers the operations in record form
 * (format-free) and reports every change, so observations and the registration can follow.
 */
export class ObjectTree implements ModelLookup {
  private readonly objects = new Map<number, ObjectState>()
  private readonly listeners = new Set<(change: TreeChange) => void>()
  private readonly observeCounts = new Map<string, number>()

  onChange(listener: (change: TreeChange) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private emit(change: TreeChange): void {
    for (const listener of this.listeners) listener(change)
  }

  // ---- models ------------------------------------------------------------------------------

  resource(objectId: number, resourceId: number): ResourceModel | undefined {
    return this.objects.get(objectId)?.model.resources.get(resourceId)
  }

  model(objectId: number): ObjectModel | undefined {
    return this.objects.get(objectId)?.model
  }

  objectIds(): number[] {
    return [...this.objects.keys()].sort((a, b) => a - b)
  }

  instanceIds(objectId: number): number[] {
    return [...(this.objects.get(objectId)?.instances.keys() ?? [])].sort((a, b) => a - b)
  }

  has(path: Lwm2mPath): boolean {
    const { objectId, instanceId, resourceId, resourceInstanceId } = path
    if (objectId === undefined) return true
    const object = this.objects.get(objectId)
    if (!object || instanceId === undefined) return object !== undefined
    const instance = object.instances.get(instanceId)
    if (!instance || resourceId === undefined) return instance !== undefined
    const slot = instance.resources.get(resourceId)
    if (!slot || resourceInstanceId === undefined) return slot !== undefined
    return slot.handler !== undefined || slot.values?.has(resourceInstanceId) === true
  }

  // ---- local changes (the gateway's side) --------------------------------------------------

  /** Adds an object with its model and instances. Throws if the object exists or an init does not fit the model. */
  addObject(model: ObjectModel, instances: InstancesInit = [], options: ObjectOptions = {}): void {
    if (this.objects.has(model.id)) throw new Error(`object ${model.id} already exists`)
    const creatable = options.creatable ?? (model.multiple && !CORE_OBJECTS.has(model.id))
    const object: ObjectState = { model, instances: new Map(), creatable, deletable: options.deletable ?? creatable, hidden: options.hidden ?? false }
    for (const [id, init] of entriesOf(instances)) object.instances.set(id, this.buildInstance(object, id, init))
    this.objects.set(model.id, object)
    this.emit({ kind: 'structure', path: { objectId: model.id }, removed: false })
  }

  removeObject(objectId: number): boolean {
    const object = this.objects.get(objectId)
    if (!object) return false
    this.objects.delete(objectId)
    this.forgetObserveCounts({ objectId })
    this.emit({ kind: 'structure', path: { objectId }, removed: true })
    return true
  }

  /** Adds an instance; without an id, the lowest free one. Returns the id. */
  addInstance(objectId: number, init: InstanceInit, instanceId?: number): number {
    const object = this.requireLocalObject(objectId)
    const id = instanceId ?? this.freeInstanceId(object)
    if (object.instances.has(id)) throw new Error(`instance /${objectId}/${id} already exists`)
    if (!object.model.multiple && object.instances.size > 0) throw new Error(`object ${objectId} is single-instance and already has an instance`)
    object.instances.set(id, this.buildInstance(object, id, init))
    this.emit({ kind: 'structure', path: { objectId, instanceId: id }, removed: false })
    return id
  }

  removeInstance(objectId: number, instanceId: number): boolean {
    const object = this.objects.get(objectId)
    if (!object?.instances.delete(instanceId)) return false
    this.forgetObserveCounts({ objectId, instanceId })
    this.emit({ kind: 'structure', path: { objectId, instanceId }, removed: true })
    return true
  }

  /**
   * Sets a plain value (resource or resource instance), creating the resource if the model defines it.
   * On a handler-backed resource it sets the value notifications report. Reports a change unless equal or `silent`.
   */
  setValue(path: Lwm2mPath, value: ResourceContent | readonly Lwm2mValue[], options: { silent?: boolean } = {}): void {
    const { object, instance } = this.requireLocalInstance(path)
    const resourceId = path.resourceId
    if (resourceId === undefined) throw new Error(`setValue needs a resource path, not ${formatPath(path)}`)
    const model = object.model.resources.get(resourceId)
    if (!model) throw new Error(`object ${object.model.id} defines no resource ${resourceId}`)
    let slot = instance.resources.get(resourceId)
    if (!slot) instance.resources.set(resourceId, (slot = { model }))
    let changed: boolean
    if (path.resourceInstanceId !== undefined) {
      if (!model.multiple) throw new Error(`${formatPath(path)}: resource ${resourceId} is single, it has no instances`)
      const v = this.coerceLocal(model, value as Lwm2mValue, path)
      if (slot.handler) {
        const cache = new Map(slot.cache instanceof Map ? (slot.cache as ReadonlyMap<number, Lwm2mValue>) : [])
        changed = !sameValue(cache.get(path.resourceInstanceId), v)
        cache.set(path.resourceInstanceId, v)
        slot.cache = cache
      } else {
        slot.values ??= new Map()
        changed = !sameValue(slot.values.get(path.resourceInstanceId), v)
        slot.values.set(path.resourceInstanceId, v)
      }
    } else if (model.multiple) {
      const values = this.coerceMultiple(model, value, path)
      if (slot.handler) {
        changed = !(slot.cache instanceof Map && sameValues(slot.cache as ReadonlyMap<number, Lwm2mValue>, values))
        slot.cache = values
      } else {
        changed = !sameValues(slot.values, values)
        slot.values = values
      }
    } else {
      const v = this.coerceLocal(model, value as Lwm2mValue, path)
      if (slot.handler) {
        changed = slot.cache instanceof Map || !sameValue(slot.cache as Lwm2mValue | undefined, v)
        slot.cache = v
      } else {
        changed = !sameValue(slot.value, v)
        slot.value = v
      }
    }
    if (changed && !options.silent) this.emit({ kind: 'value', path: makePath([object.model.id, instance.id, resourceId, ...(path.resourceInstanceId !== undefined ? [path.resourceInstanceId] : [])]) })
  }

  /** Makes a resource handler-backed (or replaces its handler). */
  setHandler(path: Lwm2mPath, handler: ResourceHandler): void {
    const { object, instance } = this.requireLocalInstance(path)
    const resourceId = path.resourceId
    const model = resourceId === undefined ? undefined : object.model.resources.get(resourceId)
    if (resourceId === undefined || !model) throw new Error(`${formatPath(path)} is not a resource of object ${object.model.id}`)
    instance.resources.set(resourceId, { model, handler })
  }

  /**
   * A handler-backed resource changed (the sensor notified): `value` becomes what notifications report;
   * without one, notifications read the handler. Observations of the resource then notify.
   */
  valueChanged(path: Lwm2mPath, value?: ResourceContent): void {
    const slot = this.slotAt(path)
    if (!slot) throw new Error(`no resource at ${formatPath(path)}`)
    if (value !== undefined) return this.setValue(path, value)
    slot.cache = undefined
    this.emit({ kind: 'value', path })
  }

  /** The value held locally (plain value, or a handler-backed resource's last pushed one), without calling handlers. */
  peek(path: Lwm2mPath): ResourceContent | undefined {
    const slot = this.slotAt(path)
    if (!slot) return undefined
    const content = slot.handler ? slot.cache : slot.model.multiple ? slot.values : slot.value
    if (path.resourceInstanceId === undefined || content === undefined) return content
    return content instanceof Map ? (content as ReadonlyMap<number, Lwm2mValue>).get(path.resourceInstanceId) : undefined
  }

  isHandlerBacked(path: Lwm2mPath): boolean {
    return this.slotAt(path)?.handler !== undefined
  }

  private slotAt(path: Lwm2mPath): Slot | undefined {
    if (path.objectId === undefined || path.instanceId === undefined || path.resourceId === undefined) return undefined
    return this.objects.get(path.objectId)?.instances.get(path.instanceId)?.resources.get(path.resourceId)
  }

  private requireLocalObject(objectId: number): ObjectState {
    const object = this.objects.get(objectId)
    if (!object) throw new Error(`object ${objectId} does not exist`)
    return object
  }

  private requireLocalInstance(path: Lwm2mPath): { object: ObjectState; instance: InstanceState } {
    if (path.objectId === undefined || path.instanceId === undefined) throw new Error(`${formatPath(path)} does not name an instance`)
    const object = this.requireLocalObject(path.objectId)
    const instance = object.instances.get(path.instanceId)
    if (!instance) throw new Error(`instance /${path.objectId}/${path.instanceId} does not exist`)
    return { object, instance }
  }

  private freeInstanceId(object: ObjectState): number {
    for (let id = 0; id <= MAX_ID; id++) if (!object.instances.has(id)) return id
    throw new OperationError('bad_request', `object ${object.model.id} has no free instance id`)
  }

  private coerceLocal(model: ResourceModel, value: Lwm2mValue, path: Lwm2mPath): Lwm2mValue {
    try {
      return coerceValue(value, model.type)
    } catch (e) {
      throw new Error(`${formatPath(path)} (${model.name}): ${isCodecError(e) ? e.reason : String(e)}`, { cause: e })
    }
  }

  private coerceMultiple(model: ResourceModel, value: ResourceContent | readonly Lwm2mValue[], path: Lwm2mPath): Map<number, Lwm2mValue> {
    const entries: [number, Lwm2mValue][] = value instanceof Map ? [...(value as ReadonlyMap<number, Lwm2mValue>)] : Array.isArray(value) ? (value as Lwm2mValue[]).map((v, i) => [i, v]) : [[0, value as Lwm2mValue]]
    return new Map(entries.map(([i, v]) => [i, this.coerceLocal(model, v, makePath([...this.idsOf(path), i]))]))
  }

  private idsOf(path: Lwm2mPath): number[] {
    return [path.objectId ?? 0, path.instanceId ?? 0, path.resourceId ?? 0]
  }

  private buildInstance(object: ObjectState, id: number, init: InstanceInit): InstanceState {
    const instance: InstanceState = { id, resources: new Map() }
    for (const [resourceId, resourceInit] of entriesOf(init)) {
      const model = object.model.resources.get(resourceId)
      if (!model) throw new Error(`object ${object.model.id} (${object.model.name}) defines no resource ${resourceId}`)
      const path = makePath([object.model.id, id, resourceId])
      if (isHandler(resourceInit)) instance.resources.set(resourceId, { model, handler: resourceInit })
      else if (model.type === 'none') throw new Error(`${formatPath(path)} (${model.name}) is executable: give it a handler with execute()`)
      else if (model.multiple) instance.resources.set(resourceId, { model, values: this.coerceMultiple(model, resourceInit, path) })
      else if (Array.isArray(resourceInit) || resourceInit instanceof Map) throw new Error(`${formatPath(path)} (${model.name}) is a single resource; give it one value`)
      else instance.resources.set(resourceId, { model, value: this.coerceLocal(model, resourceInit as Lwm2mValue, path) })
    }
    return instance
  }

  // ---- operations from the server ----------------------------------------------------------

  private object(objectId: number): ObjectState {
    const object = this.objects.get(objectId)
    if (!object) throw new OperationError('not_found', `object ${objectId} does not exist`)
    if (object.hidden) throw new OperationError('unauthorized', `object ${objectId} (${object.model.name}) is not accessible to a server`)
    return object
  }

  private instance(object: ObjectState, instanceId: number): InstanceState {
    const instance = object.instances.get(instanceId)
    if (!instance) throw new OperationError('not_found', `instance /${object.model.id}/${instanceId} does not exist`)
    return instance
  }

  private slot(object: ObjectState, instance: InstanceState, resourceId: number): Slot {
    const slot = instance.resources.get(resourceId)
    if (!slot) {
      const known = object.model.resources.has(resourceId)
      throw new OperationError('not_found', `resource /${object.model.id}/${instance.id}/${resourceId} ${known ? 'is not instantiated' : `is not defined by object ${object.model.id}`}`)
    }
    return slot
  }

  /** Every value under `path` as records (resources the server may not read are left out below resource level). */
  async read(path: Lwm2mPath, options: { preferCache?: boolean } = {}): Promise<Lwm2mRecord[]> {
    const out: Lwm2mRecord[] = []
    const { objectId, instanceId, resourceId, resourceInstanceId } = path
    if (objectId === undefined) {
      for (const id of this.objectIds()) {
        const object = this.objects.get(id) as ObjectState
        if (!object.hidden) await this.readObject(object, out, options)
      }
      return out
    }
    const object = this.object(objectId)
    if (instanceId === undefined) {
      await this.readObject(object, out, options)
      return out
    }
    const instance = this.instance(object, instanceId)
    if (resourceId === undefined) {
      await this.readInstance(object, instance, out, options)
      return out
    }
    const slot = this.slot(object, instance, resourceId)
    if (!slot.model.operations.includes('R')) throw new OperationError('not_allowed', `resource ${formatPath(path)} (${slot.model.name}) is not readable`)
    const records = await this.readSlot(object, instance, slot, options)
    if (resourceInstanceId === undefined) return records
    if (!slot.model.multiple) throw new OperationError('not_found', `resource /${objectId}/${instanceId}/${resourceId} is single; it has no instance ${resourceInstanceId}`)
    const one = records.filter((r) => r.path.resourceInstanceId === resourceInstanceId)
    if (one.length === 0) throw new OperationError('not_found', `resource instance ${formatPath(path)} does not exist`)
    return one
  }

  private async readObject(object: ObjectState, out: Lwm2mRecord[], options: { preferCache?: boolean }): Promise<void> {
    for (const id of [...object.instances.keys()].sort((a, b) => a - b)) await this.readInstance(object, object.instances.get(id) as InstanceState, out, options)
  }

  private async readInstance(object: ObjectState, instance: InstanceState, out: Lwm2mRecord[], options: { preferCache?: boolean }): Promise<void> {
    for (const id of [...instance.resources.keys()].sort((a, b) => a - b)) {
      const slot = instance.resources.get(id) as Slot
      if (slot.model.operations.includes('R')) out.push(...(await this.readSlot(object, instance, slot, options)))
    }
  }

  private async readSlot(object: ObjectState, instance: InstanceState, slot: Slot, options: { preferCache?: boolean }): Promise<Lwm2mRecord[]> {
    const ids = [object.model.id, instance.id, slot.model.id]
    const path = makePath(ids)
    let content: ResourceContent | undefined
    if (slot.handler) {
      if (options.preferCache && slot.cache !== undefined) content = slot.cache
      else if (slot.handler.read) content = await slot.handler.read({ objectId: ids[0] as number, instanceId: instance.id, resourceId: slot.model.id, path })
      else if (slot.cache !== undefined) content = slot.cache
      else throw new OperationError('unavailable', `resource ${formatPath(path)} (${slot.model.name}) has no value yet`)
    } else content = slot.model.multiple ? slot.values : slot.value
    if (content === undefined) return []
    const type = slot.model.type
    const fit = (v: Lwm2mValue, at: Lwm2mPath): Lwm2mValue => {
      try {
        return coerceValue(v, type)
      } catch (e) {
        throw new OperationError('internal', `${formatPath(at)} (${slot.model.name}): ${isCodecError(e) ? e.reason : String(e)}`)
      }
    }
    if (!slot.model.multiple) {
      if (content instanceof Map) throw new OperationError('internal', `${formatPath(path)} (${slot.model.name}) is single but its handler gave several values`)
      return [{ path, value: slot.handler ? fit(content as Lwm2mValue, path) : (content as Lwm2mValue), type }]
    }
    const map = content instanceof Map ? (content as ReadonlyMap<number, Lwm2mValue>) : new Map([[0, content as Lwm2mValue]])
    return [...map.keys()]
      .sort((a, b) => a - b)
      .map((ri) => {
        const at = makePath([...ids, ri])
        const v = map.get(ri) as Lwm2mValue
        return { path: at, value: slot.handler ? fit(v, at) : v, type }
      })
  }

  /**
   * Write (replace or partial update) of records under `path` (/o/i, /o/i/r or /o/i/r/ri). Everything is
   * checked before anything changes; handler-backed resources are written through their handlers.
   */
  async write(path: Lwm2mPath, records: readonly Lwm2mRecord[], options: { replace: boolean }): Promise<void> {
    const { objectId, instanceId, resourceId } = path
    if (objectId === undefined || instanceId === undefined) throw new OperationError('not_allowed', `Write targets an object instance, resource or resource instance, not ${formatPath(path)}`)
    const object = this.object(objectId)
    const instance = this.instance(object, instanceId)
    if (resourceId !== undefined) this.slot(object, instance, resourceId)
    if (records.length === 0 && resourceId !== undefined) throw new OperationError('bad_request', `no value for ${formatPath(path)} in the payload`)
    const groups = this.groupForWrite(object, path, records, false)
    for (const rid of groups.keys()) {
      const slot = instance.resources.get(rid)
      if (slot?.handler && !slot.handler.write) throw new OperationError('not_allowed', `resource /${objectId}/${instanceId}/${rid} (${slot.model.name}) takes no writes here`)
    }
    const changed: Lwm2mPath[] = []
    for (const [rid, group] of groups) {
      const model = object.model.resources.get(rid) as ResourceModel
      const resourcePath = makePath([objectId, instanceId, rid])
      let slot = instance.resources.get(rid)
      if (!slot) instance.resources.set(rid, (slot = { model }))
      const oneInstance = path.resourceInstanceId
      if (slot.handler?.write) {
        const ctx: WriteContext = { objectId, instanceId, resourceId: rid, path: resourcePath, replace: options.replace && oneInstance === undefined, ...(oneInstance !== undefined ? { resourceInstanceId: oneInstance } : {}) }
        await slot.handler.write(group.values ?? (group.value as Lwm2mValue), ctx)
        changed.push(resourcePath)
        continue
      }
      if (!model.multiple) {
        if (!sameValue(slot.value, group.value)) changed.push(resourcePath)
        slot.value = group.value
        continue
      }
      const next = options.replace && oneInstance === undefined ? new Map<number, Lwm2mValue>() : new Map(slot.values ?? [])
      for (const [ri, v] of group.values ?? []) next.set(ri, v)
      if (!sameValues(slot.values, next)) changed.push(resourcePath)
      slot.values = next
    }
    if (options.replace && resourceId === undefined) {
      // Replacing an instance: optional plain resources the payload left out go (TS 1.1 §5.4.3).
      for (const [rid, slot] of [...instance.resources]) {
        if (groups.has(rid) || slot.handler || slot.model.mandatory || !slot.model.operations.includes('W')) continue
        instance.resources.delete(rid)
        changed.push(makePath([objectId, instanceId, rid]))
      }
    }
    for (const p of changed) this.emit({ kind: 'value', path: p })
  }

  /** Checks records against the model and groups them per resource; `creating` allows read-only resources. */
  private groupForWrite(object: ObjectState, base: Lwm2mPath, records: readonly Lwm2mRecord[], creating: boolean): Map<number, { value?: Lwm2mValue; values?: Map<number, Lwm2mValue> }> {
    const groups = new Map<number, { value?: Lwm2mValue; values?: Map<number, Lwm2mValue> }>()
    for (const r of records) {
      const where = formatPath(r.path)
      if (!isPathPrefixOf(base, r.path) || r.path.prefix !== undefined) throw new OperationError('bad_request', `value for ${where} is outside ${formatPath(base)}`)
      const rid = r.path.resourceId
      if (rid === undefined) throw new OperationError('bad_request', `record ${where} names no resource`)
      const model = object.model.resources.get(rid)
      if (!model) throw new OperationError(creating ? 'bad_request' : 'not_found', `resource ${rid} is not defined by object ${object.model.id} (${object.model.name})`)
      if (model.type === 'none') throw new OperationError(creating ? 'bad_request' : 'not_allowed', `resource ${where} (${model.name}) is executable; it takes no value`)
      if (!creating && !model.operations.includes('W')) throw new OperationError('not_allowed', `resource ${where} (${model.name}) is not writable`)
      if (r.path.resourceInstanceId !== undefined && !model.multiple) throw new OperationError('bad_request', `resource /${object.model.id}/${r.path.instanceId}/${rid} (${model.name}) is single; ${where} does not exist`)
      if (r.path.resourceInstanceId === undefined && model.multiple) throw new OperationError('bad_request', `resource ${where} (${model.name}) is multiple; its values need resource instance ids`)
      let value: Lwm2mValue
      try {
        value = coerceValue(r.value, model.type)
      } catch (e) {
        throw new OperationError('bad_request', `${where} (${model.name}): ${isCodecError(e) ? e.reason : String(e)}`)
      }
      let group = groups.get(rid)
      if (!group) groups.set(rid, (group = {}))
      if (r.path.resourceInstanceId === undefined) group.value = value
      else (group.values ??= new Map()).set(r.path.resourceInstanceId, value)
    }
    return groups
  }

  async execute(path: Lwm2mPath, args: string): Promise<void> {
    const { objectId, instanceId, resourceId } = path
    if (objectId === undefined || instanceId === undefined || resourceId === undefined || path.resourceInstanceId !== undefined) {
      throw new OperationError('not_allowed', `Execute targets a resource, not ${formatPath(path)}`)
    }
    const object = this.object(objectId)
    const slot = this.slot(object, this.instance(object, instanceId), resourceId)
    if (!slot.model.operations.includes('E')) throw new OperationError('not_allowed', `resource ${formatPath(path)} (${slot.model.name}) is not executable`)
    if (!slot.handler?.execute) throw new OperationError('not_allowed', `resource ${formatPath(path)} (${slot.model.name}) has no action bound`)
    await slot.handler.execute(args, { objectId, instanceId, resourceId, path })
  }

  /** Create: new instances from records (/o/i/r…); with no records, one empty instance (`instanceId` or the lowest free id). */
  create(objectId: number, records: readonly Lwm2mRecord[], instanceId?: number): number[] {
    const object = this.object(objectId)
    if (!object.creatable) throw new OperationError('not_allowed', `object ${objectId} (${object.model.name}) takes no Create`)
    const ids = [...new Set(records.map((r) => r.path.instanceId))]
    if (ids.includes(undefined)) throw new OperationError('bad_request', 'a created value names no instance')
    if (ids.length === 0) ids.push(instanceId ?? this.freeInstanceId(object))
    if (!object.model.multiple && (object.instances.size > 0 || ids.length > 1)) throw new OperationError('bad_request', `object ${objectId} (${object.model.name}) is single-instance and has its instance`)
    const built: InstanceState[] = []
    for (const id of ids as number[]) {
      if (object.instances.has(id)) throw new OperationError('bad_request', `instance /${objectId}/${id} already exists`)
      const base = makePath([objectId, id])
      const groups = this.groupForWrite(object, base, records.filter((r) => r.path.instanceId === id), true)
      for (const model of object.model.resources.values()) {
        if (model.mandatory && model.type !== 'none' && model.operations !== '' && !groups.has(model.id)) {
          throw new OperationError('bad_request', `mandatory resource ${model.id} (${model.name}) of /${objectId}/${id} has no value`)
        }
      }
      const instance: InstanceState = { id, resources: new Map() }
      for (const [rid, group] of groups) {
        const model = object.model.resources.get(rid) as ResourceModel
        instance.resources.set(rid, model.multiple ? { model, values: group.values ?? new Map() } : { model, ...(group.value !== undefined ? { value: group.value } : {}) })
      }
      built.push(instance)
    }
    for (const instance of built) {
      object.instances.set(instance.id, instance)
      this.emit({ kind: 'structure', path: { objectId, instanceId: instance.id }, removed: false })
    }
    return built.map((i) => i.id)
  }

  delete(path: Lwm2mPath): void {
    const { objectId, instanceId } = path
    if (objectId === undefined || instanceId === undefined || path.resourceId !== undefined) throw new OperationError('not_allowed', `Delete targets an object instance, not ${formatPath(path)}`)
    const object = this.object(objectId)
    this.instance(object, instanceId)
    if (!object.deletable) throw new OperationError('not_allowed', `instances of object ${objectId} (${object.model.name}) cannot be deleted`)
    this.removeInstance(objectId, instanceId)
  }

  /** The links a Discover answers (without attributes): the target, and what lies below it down to resources. */
  discover(path: Lwm2mPath): DiscoverEntry[] {
    const out: DiscoverEntry[] = []
    const { objectId, instanceId, resourceId } = path
    if (path.resourceInstanceId !== undefined) throw new OperationError('not_allowed', 'Discover targets an object, instance or resource')
    const addResources = (object: ObjectState, instance: InstanceState): void => {
      for (const rid of [...instance.resources.keys()].sort((a, b) => a - b)) out.push(this.resourceEntry(object, instance, instance.resources.get(rid) as Slot))
    }
    const addObject = (object: ObjectState): void => {
      out.push({ path: { objectId: object.model.id }, ...(object.model.version !== '1.0' ? { version: object.model.version } : {}) })
      for (const iid of [...object.instances.keys()].sort((a, b) => a - b)) {
        out.push({ path: { objectId: object.model.id, instanceId: iid } })
        addResources(object, object.instances.get(iid) as InstanceState)
      }
    }
    if (objectId === undefined) {
      for (const id of this.objectIds()) if (!(this.objects.get(id) as ObjectState).hidden) addObject(this.objects.get(id) as ObjectState)
      return out
    }
    const object = this.object(objectId)
    if (instanceId === undefined) {
      addObject(object)
      return out
    }
    const instance = this.instance(object, instanceId)
    if (resourceId === undefined) {
      out.push({ path: { objectId, instanceId } })
      addResources(object, instance)
      return out
    }
    out.push(this.resourceEntry(object, instance, this.slot(object, instance, resourceId)))
    return out
  }

  private resourceEntry(object: ObjectState, instance: InstanceState, slot: Slot): DiscoverEntry {
    const path = makePath([object.model.id, instance.id, slot.model.id])
    if (!slot.model.multiple) return { path }
    const content = slot.handler ? slot.cache : slot.values
    return { path, dim: content instanceof Map ? content.size : 0 }
  }

  /** Objects and instances the registration lists: `</1>;ver=1.1,</1/0>,…` as link entries (hidden objects left out). */
  registrationEntries(): { objectId: number; version: string; instances: number[] }[] {
    return this.objectIds()
      .map((id) => this.objects.get(id) as ObjectState)
      .filter((o) => !o.hidden)
      .map((o) => ({ objectId: o.model.id, version: o.model.version, instances: [...o.instances.keys()].sort((a, b) => a - b) }))
  }

  /** Resource paths under `path` that are handler-backed and want to hear about observations. */
  private observableHandlers(path: Lwm2mPath): { key: string; slot: Slot; ctx: ResourceContext }[] {
    const out: { key: string; slot: Slot; ctx: ResourceContext }[] = []
    for (const [objectId, object] of this.objects) {
      if (path.objectId !== undefined && path.objectId !== objectId) continue
      for (const [instanceId, instance] of object.instances) {
        if (path.instanceId !== undefined && path.instanceId !== instanceId) continue
        for (const [resourceId, slot] of instance.resources) {
          if (path.resourceId !== undefined && path.resourceId !== resourceId) continue
          if (!slot.handler?.observe) continue
          const rp = makePath([objectId, instanceId, resourceId])
          out.push({ key: formatPath(rp), slot, ctx: { objectId, instanceId, resourceId, path: rp } })
        }
      }
    }
    return out
  }

  /** An observation of `path` started or ended: tells handler-backed resources below it on their first or last observation. */
  async observationChanged(path: Lwm2mPath, active: boolean): Promise<void> {
    const calls: Promise<void>[] = []
    for (const { key, slot, ctx } of this.observableHandlers(path)) {
      const count = this.observeCounts.get(key) ?? 0
      const next = Math.max(0, count + (active ? 1 : -1))
      if (next === 0) this.observeCounts.delete(key)
      else this.observeCounts.set(key, next)
      if ((active && count === 0) || (!active && count === 1)) calls.push(Promise.resolve(slot.handler?.observe?.(active, ctx)))
    }
    await Promise.all(calls)
  }

  private forgetObserveCounts(path: Lwm2mPath): void {
    const prefix = formatPath(path)
    for (const key of [...this.observeCounts.keys()]) if (key === prefix || key.startsWith(`${prefix}/`)) this.observeCounts.delete(key)
  }
}
