import type { CharacteristicDefinition, PresentationFormat, ServiceDefinition } from '../gatt-table.ts'
import { encodeBatteryLevel } from '../../../../shared/ble/battery.ts'
import {
  BATTERY_LEVEL_UUID, BATTERY_SERVICE_UUID, DEVICE_INFORMATION_SERVICE_UUID, FIRMWARE_REVISION_UUID, HARDWARE_REVISION_UUID,
  MANUFACTURER_NAME_UUID, MODEL_NUMBER_UUID, SERIAL_NUMBER_UUID, SOFTWARE_REVISION_UUID,
} from '../../../../shared/ble/uuids.ts'

export interface DeviceInformation {
  manufacturer: string
  model: string
  serial: string
  firmware: string
  hardware: string
  software: string
}

const utf8 = new TextEncoder()

/** A Presentation Format in the Bluetooth SIG namespace, exponent 0, no description. */
export function sigPresentationFormat(format: number, unit: number): PresentationFormat {
  return { format, exponent: 0, unit, namespace: 0x01, description: 0 }
}

/** A read-only characteristic with a fixed value. */
export function readOnlyCharacteristic(uuid: string, userDescription: string, value: Uint8Array): CharacteristicDefinition {
  return { uuid, properties: ['read'], initialValue: value, userDescription }
}

export function deviceInformationService(info: DeviceInformation): ServiceDefinition {
  const str = (uuid: string, value: string, description: string) => readOnlyCharacteristic(uuid, description, utf8.encode(value))
  return {
    uuid: DEVICE_INFORMATION_SERVICE_UUID,
    characteristics: [
      str(MANUFACTURER_NAME_UUID, info.manufacturer, 'Manufacturer Name'),
      str(MODEL_NUMBER_UUID, info.model, 'Model Number'),
      str(SERIAL_NUMBER_UUID, info.serial, 'Serial Number'),
      str(FIRMWARE_REVISION_UUID, info.firmware, 'Firmware Revision'),
      str(HARDWARE_REVISION_UUID, info.hardware, 'Hardware Revision'),
      str(SOFTWARE_REVISION_UUID, info.software, 'Software Revision'),
    ],
  }
}

/** Battery service 0x180F: the level (uint8 %, Read / Notify) as `level()` gives it at each read. */
export function batteryService(level: () => number): ServiceDefinition {
  return {
    uuid: BATTERY_SERVICE_UUID,
    characteristics: [{
      uuid: BATTERY_LEVEL_UUID,
      properties: ['read', 'notify'],
      userDescription: 'Battery level (%)',
      presentationFormat: sigPresentationFormat(0x04, 0x27ad),
      onRead: () => encodeBatteryLevel(level()),
    }],
  }
}
