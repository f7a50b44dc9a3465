import type { ObjectModel } from '../object-model.ts'
import { defineObject } from './compact.ts'

/**
 * The BLE gateway's own objects (ours, outside the OMA ranges; issue 5): the BLE Gateway management object, through which a
 * remote server scans for, connects and disconnects sensors, and the BLE Link object, one instance per sensor the
 * gateway has connected, with the link monitor's figures.
 */

export const BLE_GATEWAY_OBJECT_ID = 33000
export const BLE_LINK_OBJECT_ID = 33001

export const GatewayResource = {
  adapterState: 0,
  scanning: 1,
  scan: 2,
  connect: 3,
  disconnect: 4,
  discoveredDevices: 5,
  connectedSensors: 6,
  twinObjects: 7,
  freeObjectIds: 8,
  lastEvent: 9,
  stopScan: 10,
  twinDefinitions: 11,
} as const

export const LinkResource = {
  address: 0,
  name: 1,
  connected: 2,
  rssi: 3,
  dropRatio: 4,
  notificationsPerSecond: 5,
  lastSeen: 6,
  receivedPackets: 7,
  lostPackets: 8,
  twinObjects: 9,
} as const

export const BLE_GATEWAY_MODEL: ObjectModel = defineObject(
  { id: BLE_GATEWAY_OBJECT_ID, name: 'BLE Gateway', description: 'The BLE central of this gateway: scan for, connect and disconnect sensors' },
  [
    [GatewayResource.adapterState, 'Adapter State', 'R', 'string', { mandatory: true, description: 'poweredOn, or why the adapter is not usable' }],
    [GatewayResource.scanning, 'Scanning', 'R', 'boolean', { mandatory: true }],
    [GatewayResource.scan, 'Scan', 'E', 'none', { description: "Scan for sensors; argument 0='seconds' (default 10)" }],
    [GatewayResource.connect, 'Connect', 'E', 'none', { description: "Connect a sensor; argument 0='address' (c0:07:01:00:00:01)" }],
    [GatewayResource.disconnect, 'Disconnect', 'E', 'none', { description: "Disconnect a sensor; argument 0='address'" }],
    [GatewayResource.discoveredDevices, 'Discovered Devices', 'R', 'string', { multiple: true, description: 'address;name;rssi of each device seen while scanning' }],
    [GatewayResource.connectedSensors, 'Connected Sensors', 'R', 'string', { multiple: true, description: 'address;name of each connected sensor' }],
    [GatewayResource.twinObjects, 'Twin Objects', 'R', 'objlnk', { multiple: true, description: 'The ObjectTwins exposed now' }],
    [GatewayResource.freeObjectIds, 'Free Object IDs', 'R', 'integer', { description: 'IDs left in the ObjectTwin pool' }],
    [GatewayResource.lastEvent, 'Last Event', 'R', 'string', { description: 'The last connect, disconnect or failure, with its reason' }],
    [GatewayResource.stopScan, 'Stop Scan', 'E', 'none'],
    [GatewayResource.twinDefinitions, 'Twin Object Definitions', 'R', 'string', {
      multiple: true,
      description: "The object definition (OMA DDF XML) of each ObjectTwin; the instance ID is the twin's object ID",
    }],
  ],
)

export const BLE_LINK_MODEL: ObjectModel = defineObject(
  { id: BLE_LINK_OBJECT_ID, name: 'BLE Link', multiple: true, description: 'Link quality of one sensor (one instance per sensor)' },
  [
    [LinkResource.address, 'Address', 'R', 'string', { mandatory: true }],
    [LinkResource.name, 'Name', 'R', 'string'],
    [LinkResource.connected, 'Connected', 'R', 'boolean', { mandatory: true }],
    [LinkResource.rssi, 'RSSI', 'R', 'integer', { units: 'dBm' }],
    [LinkResource.dropRatio, 'Packet Drop Ratio', 'R', 'float', { range: '0..1', description: 'From sequence gaps over the last 5 s window' }],
    [LinkResource.notificationsPerSecond, 'Notifications per Second', 'R', 'float', { units: '/s' }],
    [LinkResource.lastSeen, 'Last Seen', 'R', 'time'],
    [LinkResource.receivedPackets, 'Received Packets', 'R', 'integer', { description: 'Sequenced packets since the link came up' }],
    [LinkResource.lostPackets, 'Lost Packets', 'R', 'integer', { description: 'Sequence gaps since the link came up' }],
    [LinkResource.twinObjects, 'Twin Objects', 'R', 'objlnk', { multiple: true, description: "The sensor's ObjectTwins" }],
  ],
)

export const OBJECTTWIN_MODELS: readonly ObjectModel[] = [BLE_GATEWAY_MODEL, BLE_LINK_MODEL]
