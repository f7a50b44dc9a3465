import type { ObjectModel, ResourceModel } from '../lwm2m/object-model.ts'
import type { ResourceType } from '../lwm2m/values.ts'
import type { ObjectModelJson } from './schemas.ts'

/** An object model as plain JSON for the API (resources as a list, sorted by id). */
export function objectModelToJson(model: ObjectModel): ObjectModelJson {
  return {
    id: model.id,
    name: model.name,
    version: model.version,
    multiple: model.multiple,
    mandatory: model.mandatory,
    ...(model.description !== undefined ? { description: model.description } : {}),
    resources: [...model.resources.values()].sort((a, b) => a.id - b.id).map((r) => ({
      id: r.id,
      name: r.name,
      operations: r.operations,
      multiple: r.multiple,
      mandatory: r.mandatory,
      type: r.type,
      ...(r.units !== undefined ? { units: r.units } : {}),
      ...(r.range !== undefined ? { range: r.range } : {}),
      ...(r.description !== undefined ? { description: r.description } : {}),
    })),
  }
}

const OPERATIONS: ReadonlySet<string> = new Set(['', 'R', 'W', 'RW', 'E'])

/** The model back from its JSON (the UI names a client's objects with it); resources with unknown operations are left out. */
export function objectModelFromJson(json: ObjectModelJson): ObjectModel {
  const resources = new Map<number, ResourceModel>()
  for (const r of json.resources) {
    if (!OPERATIONS.has(r.operations)) continue
    resources.set(r.id, {
      id: r.id,
      name: r.name,
      operations: r.operations as ResourceModel['operations'],
      multiple: r.multiple,
      mandatory: r.mandatory,
      type: r.type as ResourceType,
      ...(r.units !== undefined ? { units: r.units } : {}),
      ...(r.range !== undefined ? { range: r.range } : {}),
      ...(r.description !== undefined ? { description: r.description } : {}),
    })
  }
  return {
    id: json.id,
    name: json.name,
    version: json.version,
    multiple: json.multiple,
    mandatory: json.mandatory,
    ...(json.description !== undefined ? { description: json.description } : {}),
    resources,
  }
}
