/**
 * UUIDs of the services and characteristics the simulated sensors expose, in noble's spelling
 * (lowercase, no dashes, 16-bit SIG UUIDs as 4 digits). ECG service: REFERENCE.md §1.
 */
export const ECG_SERVICE_UUID = 'f001000000001000800000805f9b34fb'
export const ECG_VALUE_UUID = 'f001000100001000800000805f9b34fb'
export const ECG_SAMPLING_RATE_UUID = 'f001000200001000800000805f9b34fb'
export const ECG_TIMESTAMPING_UUID = 'f001000300001000800000805f9b34fb'

export const HEART_RATE_SERVICE_UUID = '180d'
export const HEART_RATE_MEASUREMENT_UUID = '2a37'
export const BODY_SENSOR_LOCATION_UUID = '2a38'
export const HEART_RATE_CONTROL_POINT_UUID = '2a39'

export const HEALTH_THERMOMETER_SERVICE_UUID = '1809'
export const TEMPERATURE_MEASUREMENT_UUID = '2a1c'
export const TEMPERATURE_TYPE_UUID = '2a1d'

export const BATTERY_SERVICE_UUID = '180f'
export const BATTERY_LEVEL_UUID = '2a19'

export const DEVICE_INFORMATION_SERVICE_UUID = '180a'
export const MANUFACTURER_NAME_UUID = '2a29'
export const MODEL_NUMBER_UUID = '2a24'
export const SERIAL_NUMBER_UUID = '2a25'
export const FIRMWARE_REVISION_UUID = '2a26'
export const HARDWARE_REVISION_UUID = '2a27'
export const SOFTWARE_REVISION_UUID = '2a28'

export const GAP_SERVICE_UUID = '1800'
export const GATT_SERVICE_UUID = '1801'

export const CCCD_UUID = '2902'
export const USER_DESCRIPTION_UUID = '2901'
export const PRESENTATION_FORMAT_UUID = '2904'

/** Heart Rate Control Point: the one defined opcode. */
export const HR_CONTROL_RESET_ENERGY_EXPENDED = 0x01
/** ATT application error of the Heart Rate service: "Control Point value not supported". */
export const HR_ERROR_CONTROL_POINT_NOT_SUPPORTED = 0x80
