import type { ConsoleApi } from '../../../shared/api/console-api.ts'
import type { RecordJson } from '../../../shared/api/schemas.ts'
import { sensorAddressIn } from '../../../shared/lwm2m/ecg-twin.ts'
import { BLE_LINK_OBJECT_ID, LinkResource } from '../../../shared/lwm2m/models/objecttwin.ts'

/** Where an ECG twin's link quality lives on its gateway: resources of the sensor's BLE Link instance (33001). */
export interface TwinLinkPaths {
  readonly instancePath: string
  readonly dropRatio: string
  readonly rssi: string
}

/** The BLE Link instance whose Address is `address`, from a read of /33001; undefined when none matches. */
export function linkPathsFor(address: string, linkRecords: readonly RecordJson[]): TwinLinkPaths | undefined {
  const wanted = address.toLowerCase()
  const match = linkRecords.find((r) => {
    const m = /^\/(\d+)\/(\d+)\/(\d+)$/.exec(r.path)
    return m !== null && Number(m[1]) === BLE_LINK_OBJECT_ID && Number(m[3]) === LinkResource.address && String(r.value).toLowerCase() === wanted
  })
  if (!match) return undefined
  const instancePath = match.path.replace(/\/\d+$/, '')
  return { instancePath, dropRatio: `${instancePath}/${LinkResource.dropRatio}`, rssi: `${instancePath}/${LinkResource.rssi}` }
}

/**
 * Finds the link instance of the sensor behind an ECG twin (its address is in the twin's description, resource 0)
 * and makes sure it is observed, so that the monitor's link panel gets packet drop ratio and RSSI over time.
 * Answers the paths and whether this call started the observation (the caller cancels only what it started).
 */
export async function followTwinLink(api: ConsoleApi, endpoint: string, samplesPath: string): Promise<{ paths: TwinLinkPaths; started: boolean } | undefined> {
  const description = await api.read({ endpoint, path: samplesPath.replace(/\/\d+$/, '/0') })
  const address = description.ok ? sensorAddressIn(String(description.value.records?.[0]?.value ?? '')) : undefined
  if (address === undefined) return undefined
  const links = await api.read({ endpoint, path: `/${BLE_LINK_OBJECT_ID}` })
  const paths = links.ok ? linkPathsFor(address, links.value.records ?? []) : undefined
  if (!paths) return undefined
  const observed = await api.listObservations({ endpoint })
  if (observed.ok && observed.value.some((o) => o.paths.includes(paths.instancePath))) return { paths, started: false }
  const started = await api.observe({ endpoint, paths: [paths.instancePath] })
  return { paths, started: started.ok && started.value.success }
}
