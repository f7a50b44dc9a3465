// LwM2M Gateway objects (OMA LwM2M Gateway TS), checked against the registry DDFs 25 v2.0 and 26 v1.0.
import type { ObjectModel } from '../object-model.ts'
import { defineObject } from './compact.ts'

export const GATEWAY_MODELS: readonly ObjectModel[] = [
  // v2.0 has no resource 2: the v1.0 routing-table link was dropped.
  defineObject(
    { id: 25, name: 'LwM2M Gateway', version: '2.0', lwm2mVersion: '1.1', multiple: true, description: 'One instance per end device behind the gateway' },
    [
      [0, 'Device ID', 'R', 'string', { mandatory: true, description: 'Identifies the end device' }],
      [1, 'Prefix', 'R', 'string', { mandatory: true, description: 'Path prefix under which the end device objects are reached, e.g. "dev0"' }],
      [3, 'IoT Device Objects', 'R', 'corelnk', { mandatory: true, description: 'Objects and instances of the end device, in registration link format' }],
    ],
  ),
  defineObject(
    { id: 26, name: 'LwM2M Gateway Routing', version: '1.0', lwm2mVersion: '1.2', multiple: true, description: 'Maps end-device object ids to what the gateway exposes' },
    [
      [0, 'LwM2M Object ID', 'R', 'unsigned', { mandatory: true, description: 'Object id the mapping applies to' }],
      [1, 'Mapping Info', 'R', 'corelnk', { mandatory: true, description: 'Target of the mapping; empty means unchanged' }],
    ],
  ),
]
