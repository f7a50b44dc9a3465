import { parseDdf } from '../../shared/lwm2m/ddf.ts'
import { BLE_GATEWAY_OBJECT_ID, GatewayResource } from '../../shared/lwm2m/models/objecttwin.ts'
import type { ObjectModel } from '../../shared/lwm2m/object-model.ts'
import type { LearnedModels, ModelLearner } from '../server/lwm2m-server.ts'

/**
 * The console learns the models of an ObjectTwin gateway's twins from the gateway itself: its BLE Gateway object
 * (33000) publishes each twin's definition as DDF XML in "Twin Object Definitions", one resource instance per twin
 * object ID. Without them a server sees "Object 1031 / Resource 2"; with them, "ECG (Patch 1) / Sampling rate (Hz)".
 */

export const TWIN_DEFINITIONS_PATH = `/${BLE_GATEWAY_OBJECT_ID}/0/${GatewayResource.twinDefinitions}`

/** A `learnModels` hook for Lwm2mServer: reads the definitions of a gateway's unknown objects. Never throws. */
export const learnTwinDefinitions: ModelLearner = async (client, unknownObjectIds, server): Promise<LearnedModels> => {
  const registered = new Set(client.objects.map((o) => o.objectId))
  if (!registered.has(BLE_GATEWAY_OBJECT_ID)) return { models: [] }
  const endpoint = client.endpoint
  const read = await server.read(endpoint, TWIN_DEFINITIONS_PATH)
  const cannot = `could not read the twin definitions of ${endpoint} (${TWIN_DEFINITIONS_PATH})`
  if (!read.ok) return { models: [], warnings: [`${cannot}: ${read.error.message}`] }
  const result = read.value
  if (!result.success) return { models: [], warnings: [`${cannot}: ${result.code}${result.diagnostic ? ` ${result.diagnostic}` : ''}`] }
  if (result.decodeError !== undefined) return { models: [], warnings: [`${cannot}: ${result.decodeError}`] }

  const wanted = new Set(unknownObjectIds)
  const models: ObjectModel[] = []
  const warnings: string[] = []
  for (const record of result.records ?? []) {
    const objectId = Number(record.path.split('/')[4])
    if (!registered.has(objectId)) continue // a twin gone since: the next Update tells
    const ignored = `ignored the definition of object ${objectId} from ${endpoint}`
    if (!wanted.has(objectId)) {
      warnings.push(`${ignored}: the console has its own model of it`)
      continue
    }
    if (typeof record.value !== 'string') {
      warnings.push(`${ignored}: ${record.path} holds no text`)
      continue
    }
    let parsed: ObjectModel[]
    try {
      parsed = parseDdf(record.value)
    } catch (e) {
      warnings.push(`${ignored}: ${(e as Error).message}`)
      continue
    }
    const model = parsed.length === 1 ? parsed[0] : undefined
    if (model?.id !== objectId) {
      warnings.push(`${ignored}: the file defines ${parsed.map((m) => `object ${m.id}`).join(', ')}, not object ${objectId} alone`)
      continue
    }
    models.push(model)
  }
  return { models, warnings }
}
