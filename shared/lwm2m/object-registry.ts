import { parseDdf } from './ddf.ts'
import { CORE_MODELS } from './models/core.ts'
import { GATEWAY_MODELS } from './models/gateway.ts'
import { IPSO_MODELS } from './models/ipso.ts'
import { OBJECTTWIN_MODELS } from './models/objecttwin.ts'
import type { ModelLookup, ObjectModel, ResourceModel } from './object-model.ts'

/** Orders "major.minor" versions numerically ("1.10" after "1.2"); anything else by text. */
export function compareVersions(a: string, b: string): number {
  const [aMajor, aMinor] = a.split('.').map(Number)
  const [bMajor, bMinor] = b.split('.').map(Number)
  if ([aMajor, aMinor, bMajor, bMinor].some((n) => n === undefined || !Number.isFinite(n))) return a < b ? -1 : a > b ? 1 : 0
  return (aMajor as number) - (bMajor as number) || (aMinor as number) - (bMinor as number)
}

export function genericObjectName(objectId: number): string {
  return `Object ${objectId}`
}

export function genericResourceName(resourceId: number): string {
  return `Resource ${resourceId}`
}

/** Object models by id and version. Several versions of one object coexist; lookups without a version use the default. */
export class ObjectRegistry implements ModelLookup {
  readonly #models = new Map<number, Map<string, ObjectModel>>()
  readonly #chosenDefaults = new Map<number, string>()

  /** A registry holding the core, gateway and IPSO objects this product knows, and its own BLE gateway objects. */
  static withBuiltins(): ObjectRegistry {
    const registry = new ObjectRegistry()
    for (const model of [...CORE_MODELS, ...GATEWAY_MODELS, ...IPSO_MODELS, ...OBJECTTWIN_MODELS]) registry.add(model)
    return registry
  }

  /** Adds a model; one with the same id and version is replaced. */
  add(model: ObjectModel): void {
    let byVersion = this.#models.get(model.id)
    if (byVersion === undefined) this.#models.set(model.id, (byVersion = new Map()))
    byVersion.set(model.version, model)
  }

  /** Parses a DDF file and adds its objects; returns them. Throws `CodecError` and adds nothing if the file is invalid. */
  loadDdf(xml: string): ObjectModel[] {
    const models = parseDdf(xml)
    for (const model of models) this.add(model)
    return models
  }

  /** Makes `version` the default for the object; it must already be registered. */
  setDefaultVersion(objectId: number, version: string): void {
    if (!this.#models.get(objectId)?.has(version)) {
      throw new RangeError(`object ${objectId} has no version ${version}; known: ${this.versions(objectId).join(', ') || 'none'}`)
    }
    this.#chosenDefaults.set(objectId, version)
  }

  /** The model of an object in the given version, or the default version (the chosen one, else the newest). */
  get(objectId: number, version?: string): ObjectModel | undefined {
    const byVersion = this.#models.get(objectId)
    if (byVersion === undefined) return undefined
    if (version !== undefined) return byVersion.get(version)
    const chosen = this.#chosenDefaults.get(objectId)
    if (chosen !== undefined) return byVersion.get(chosen)
    let newest: ObjectModel | undefined
    for (const model of byVersion.values()) if (newest === undefined || compareVersions(model.version, newest.version) > 0) newest = model
    return newest
  }

  /** The registered versions of an object, oldest first. */
  versions(objectId: number): string[] {
    return [...(this.#models.get(objectId)?.keys() ?? [])].sort(compareVersions)
  }

  /** Every registered model, by object id then version. */
  all(): ObjectModel[] {
    return [...this.#models.keys()].sort((a, b) => a - b).flatMap((id) => this.versions(id).map((v) => this.#models.get(id)?.get(v) as ObjectModel))
  }

  resource(objectId: number, resourceId: number, version?: string): ResourceModel | undefined {
    return this.get(objectId, version)?.resources.get(resourceId)
  }

  /** The object's name, or "Object 1031" when it is unknown. */
  objectName(objectId: number, version?: string): string {
    return this.get(objectId, version)?.name ?? genericObjectName(objectId)
  }

  /** The resource's name, or "Resource 2" when it is unknown. */
  resourceName(objectId: number, resourceId: number, version?: string): string {
    return this.resource(objectId, resourceId, version)?.name ?? genericResourceName(resourceId)
  }

  /**
   * A live view that resolves each object in the version a client registered (`</3>;ver=1.1`). For a version
   * the registry lacks it uses the newest older one, else the default. Objects missing from `versions` use the
   * default; put "1.0" in for objects a client registered without `ver=` if you want the spec's reading.
   * `learned` holds models of this client's own objects that the registry lacks (an ObjectTwin gateway publishes
   * them); they never stand in for a model the registry has.
   */
  forVersions(versions: ReadonlyMap<number, string>, learned?: ReadonlyMap<number, ObjectModel>): VersionedModels {
    return new VersionedModels(this, versions, learned)
  }
}

/** The models one client uses, per its registered object versions. */
export class VersionedModels implements ModelLookup {
  readonly #registry: ObjectRegistry
  readonly #versions: ReadonlyMap<number, string>
  readonly #learned: ReadonlyMap<number, ObjectModel>

  constructor(registry: ObjectRegistry, versions: ReadonlyMap<number, string>, learned: ReadonlyMap<number, ObjectModel> = new Map()) {
    this.#registry = registry
    this.#versions = new Map(versions)
    this.#learned = new Map(learned)
  }

  get(objectId: number): ObjectModel | undefined {
    return this.#builtIn(objectId) ?? this.#learned.get(objectId)
  }

  #builtIn(objectId: number): ObjectModel | undefined {
    const wanted = this.#versions.get(objectId)
    if (wanted === undefined) return this.#registry.get(objectId)
    const exact = this.#registry.get(objectId, wanted)
    if (exact !== undefined) return exact
    const older = this.#registry
      .versions(objectId)
      .filter((v) => compareVersions(v, wanted) < 0)
      .at(-1)
    return this.#registry.get(objectId, older)
  }

  resource(objectId: number, resourceId: number): ResourceModel | undefined {
    return this.get(objectId)?.resources.get(resourceId)
  }

  objectName(objectId: number): string {
    return this.get(objectId)?.name ?? genericObjectName(objectId)
  }

  resourceName(objectId: number, resourceId: number): string {
    return this.resource(objectId, resourceId)?.name ?? genericResourceName(resourceId)
  }
}
