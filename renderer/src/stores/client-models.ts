import { defineStore } from 'pinia'
import { shallowRef } from 'vue'
import { objectModelFromJson } from '../../../shared/api/model-json.ts'
import type { ClientInfo } from '../../../shared/api/schemas.ts'
import type { ObjectModel } from '../../../shared/lwm2m/object-model.ts'
import { useApi } from '../api/api-context.ts'

const NONE: ReadonlyMap<number, ObjectModel> = new Map()

/**
 * The models the server holds for several clients at once (the ECG wall names every gateway's twins),
 * fetched once per registration and object list. A failed fetch leaves the registry's names.
 */
export const useClientModelsStore = defineStore('client-models', () => {
  const byEndpoint = shallowRef<ReadonlyMap<string, ReadonlyMap<number, ObjectModel>>>(new Map())
  /** What was fetched per endpoint: registration id and object links. */
  const fetchedFor = new Map<string, string>()

  async function ensure(info: ClientInfo): Promise<void> {
    const key = `${info.registrationId}\u0000${info.objectLinks}`
    if (fetchedFor.get(info.endpoint) === key) return
    fetchedFor.set(info.endpoint, key)
    const result = await useApi().clientModels({ endpoint: info.endpoint })
    if (fetchedFor.get(info.endpoint) !== key) return
    const next = new Map(byEndpoint.value)
    next.set(info.endpoint, result.ok ? new Map(result.value.map((m) => [m.id, objectModelFromJson(m)])) : NONE)
    byEndpoint.value = next
  }

  function of(endpoint: string): ReadonlyMap<number, ObjectModel> {
    return byEndpoint.value.get(endpoint) ?? NONE
  }

  return { byEndpoint, ensure, of }
})
