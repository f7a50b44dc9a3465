/** The virtual radio (issue 4): simulated BLE peripherals behind a virtual HCI controller that noble drives. */
export * from './gatt-table.ts'
export { VirtualRadio, createVirtualNoble, createUartNoble } from './virtual-radio.ts'
export type { AddPeripheralOptions, CreateVirtualNobleOptions, VirtualNobleBindingOptions } from './virtual-radio.ts'
export { VirtualPeripheral, DisconnectReason } from './virtual-peripheral.ts'
export type { PeripheralLink } from './virtual-peripheral.ts'
export { VirtualHciController, HciStatus } from './hci-controller.ts'
export type { HciControllerOptions, RadioMedium } from './hci-controller.ts'
export { DEFAULT_LINK_SETTINGS, meanRssi } from './link-model.ts'
export type { LinkSettings, LinkStats } from './link-model.ts'
export {
  installVirtualHciDriver,
  isVirtualHciDriverInstalled,
  verifyPinnedVersions,
  PINNED_VERSIONS,
  VIRTUAL_HCI_DRIVER,
  VirtualHciSocket,
} from './noble-driver.ts'
export { PtyServer } from './pty-server.ts'
export type { PtyServerOptions } from './pty-server.ts'
