// The gateway's own objects live in shared/ so that every server built on the registry names them.
export {
  BLE_GATEWAY_MODEL, BLE_GATEWAY_OBJECT_ID, BLE_LINK_MODEL, BLE_LINK_OBJECT_ID, GatewayResource, LinkResource,
} from '../../shared/lwm2m/models/objecttwin.ts'
