import type { ObjectModel, Operations, ResourceModel } from '../object-model.ts'
import type { ResourceType } from '../values.ts'

/** The object header of a compact definition. `version` defaults to "1.0"; flags default to false. */
export interface ObjectHead {
  readonly id: number
  readonly name: string
  readonly version?: string
  readonly lwm2mVersion?: string
  /** Defaults to the OMNA URN for the OMA (0-1023) and ext (2048-10240) ranges. */
  readonly urn?: string
  readonly multiple?: boolean
  readonly mandatory?: boolean
  readonly description?: string
}

/** Optional facts about one resource; flags default to false. */
export interface ResourceExtra {
  readonly multiple?: boolean
  readonly mandatory?: boolean
  readonly units?: string
  readonly range?: string
  readonly description?: string
}

/** `[id, name, operations, type, extra?]`, e.g. `[9, 'Battery Level', 'R', 'integer', { range: '0..100', units: '%' }]`. */
export type ResourceDef = readonly [id: number, name: string, operations: Operations, type: ResourceType, extra?: ResourceExtra]

/** Builds an `ObjectModel` from a compact definition. Throws on a programming error (duplicate or invalid id). */
export function defineObject(head: ObjectHead, resources: readonly ResourceDef[]): ObjectModel {
  const version = head.version ?? '1.0'
  const map = new Map<number, ResourceModel>()
  // Sorted by id, so that derived versions list their resources in a stable order.
  for (const [id, name, operations, type, extra = {}] of [...resources].sort((a, b) => a[0] - b[0])) {
    if (!Number.isInteger(id) || id < 0 || id > 65534) throw new Error(`object ${head.id}: resource id ${id} is out of range 0-65534`)
    if (map.has(id)) throw new Error(`object ${head.id} v${version}: duplicate resource id ${id}`)
    map.set(
      id,
      Object.freeze({
        id,
        name,
        operations,
        multiple: extra.multiple ?? false,
        mandatory: extra.mandatory ?? false,
        type,
        ...(extra.units !== undefined && { units: extra.units }),
        ...(extra.range !== undefined && { range: extra.range }),
        ...(extra.description !== undefined && { description: extra.description }),
      }),
    )
  }
  const urn = head.urn ?? defaultUrn(head.id, version)
  return Object.freeze({
    id: head.id,
    name: head.name,
    version,
    ...(head.lwm2mVersion !== undefined && { lwm2mVersion: head.lwm2mVersion }),
    ...(urn !== undefined && { urn }),
    multiple: head.multiple ?? false,
    mandatory: head.mandatory ?? false,
    ...(head.description !== undefined && { description: head.description }),
    resources: map,
  })
}

/** The OMNA URN of an OMA or ext object: `urn:oma:lwm2m:oma:3`, `urn:oma:lwm2m:ext:3303:1.1`. */
export function defaultUrn(objectId: number, version: string): string | undefined {
  const space = objectId <= 1023 ? 'oma' : objectId >= 2048 && objectId <= 10240 ? 'ext' : undefined
  if (space === undefined) return undefined
  return `urn:oma:lwm2m:${space}:${objectId}${version === '1.0' ? '' : `:${version}`}`
}
