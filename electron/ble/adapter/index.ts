export { BleAdapter, toDeviceId } from './ble-adapter.ts'
export type {
  BleAdapterEvents, BleAdapterOptions, BleAdapterState, ConnectOptions, ConnectedDevice, DisconnectEvent, DiscoveredDevice,
  GattCharacteristic, GattDescriptor, GattService, GattTree, ScanOptions, Subscription,
} from './ble-adapter.ts'
export { BleError, isBleError } from './ble-error.ts'
export type { BleErrorCode } from './ble-error.ts'
export { backoffDelay, DEFAULT_RECONNECT } from './backoff.ts'
export type { ReconnectPolicy } from './backoff.ts'
export { defaultNoble, hciNoble, uartNoble, explainHciState, linuxHciDevices } from './noble-factory.ts'
export type { NobleFactory, HciOptions } from './noble-factory.ts'
export { disconnectReasonText } from './hci-reasons.ts'
