import { ECG_SAMPLING_RATE_UUID as ECG_SAMPLING_RATE_UUID_SHORT, ECG_SERVICE_UUID as ECG_SERVICE_UUID_SHORT } from '../ble/uuids.ts'
import { expandUuid } from '../ble/uuid.ts'
import type { ObjectModel } from './object-model.ts'

/**
 * How the console and the UI recognise the paper's ECG twin (REFERENCE.md §1, Fig. 5) on any ObjectTwin gateway,
 * whatever object ID its pool gave it: by the service it stands for, never by the ID alone.
 *
 * - The twin's description (resource 0, and the description of the model the gateway publishes) names the ECG
 *   service: its UUID f0010000-…, or it begins with "ECG service".
 * - Its sampling-rate resource is the one whose access parameters name the sampling-rate characteristic
 *   (f0010002-…); else the one named "Sampling rate"; else resource 2, as in the paper.
 * - The sensor is the Bluetooth address the description gives ("… of "Patch 1" (c0:07:01:00:00:01)").
 */

/** The ECG service UUID in its canonical 128-bit form. */
export const ECG_SERVICE_UUID = expandUuid(ECG_SERVICE_UUID_SHORT)
export const ECG_SAMPLING_RATE_UUID = expandUuid(ECG_SAMPLING_RATE_UUID_SHORT)
/** The sampling-rate resource of the paper's ECG twin (Fig. 5), for a twin whose model does not say. */
export const PAPER_SAMPLING_RATE_RESOURCE = 2

const ADDRESS = /\b([0-9a-f]{2}(?::[0-9a-f]{2}){5})\b/i

/** Whether a twin's description (resource 0, or its model's) names the ECG service. */
export function describesEcgService(description: string | undefined): boolean {
  if (description === undefined) return false
  return description.toLowerCase().includes(ECG_SERVICE_UUID) || /^ECG\b/i.test(description.trim())
}

/** The first Bluetooth address in a text, lowercase; undefined when there is none. */
export function sensorAddressIn(text: string | undefined): string | undefined {
  return text === undefined ? undefined : ADDRESS.exec(text)?.[1]?.toLowerCase()
}

/** The sampling-rate resource of an ECG twin model (see above). */
export function samplingRateResourceOf(model: Pick<ObjectModel, 'resources'>): number {
  const resources = [...model.resources.values()]
  const byUuid = resources.find((r) => r.description?.toLowerCase().includes(ECG_SAMPLING_RATE_UUID))
  const byName = resources.find((r) => /^sampling rate\b/i.test(r.name.trim()))
  return (byUuid ?? byName)?.id ?? PAPER_SAMPLING_RATE_RESOURCE
}

/** What the adaptive control needs to know of an ECG twin. */
export interface EcgTwin {
  readonly objectId: number
  readonly samplingRateResource: number
  /** Lowercase; undefined when neither description names one. */
  readonly sensorAddress: string | undefined
}

/** The ECG twin a model describes (the gateway publishes one per twin), or undefined for any other object. */
export function ecgTwinOf(model: Pick<ObjectModel, 'id' | 'description' | 'resources'>): EcgTwin | undefined {
  if (!describesEcgService(model.description)) return undefined
  return { objectId: model.id, samplingRateResource: samplingRateResourceOf(model), sensorAddress: sensorAddressIn(model.description) }
}

/** An ECG twin known only from its resource 0 (a server without its model): the paper's resource layout. */
export function ecgTwinFromDescription(objectId: number, description: string): EcgTwin | undefined {
  if (!describesEcgService(description)) return undefined
  return { objectId, samplingRateResource: PAPER_SAMPLING_RATE_RESOURCE, sensorAddress: sensorAddressIn(description) }
}
