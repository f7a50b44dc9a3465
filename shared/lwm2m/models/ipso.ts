// The IPSO sensor objects a BLE medical gateway exposes (temperature, battery and SpO2 percentages,
// voltages, heart rate as a Rate), checked against the OMA registry DDFs.
import type { ObjectModel } from '../object-model.ts'
import { defineObject, type ObjectHead, type ResourceDef } from './compact.ts'

const SENSOR_VALUE: ResourceDef = [5700, 'Sensor Value', 'R', 'float', { mandatory: true, description: 'Last measured value' }]
const SENSOR_UNITS: ResourceDef = [5701, 'Sensor Units', 'R', 'string', { description: 'Unit of the measured values, e.g. "Cel"' }]
const MIN_MAX: readonly ResourceDef[] = [
  [5601, 'Min Measured Value', 'R', 'float', { description: 'Lowest value since power on or reset' }],
  [5602, 'Max Measured Value', 'R', 'float', { description: 'Highest value since power on or reset' }],
  [5603, 'Min Range Value', 'R', 'float', { description: 'Lowest value the sensor can measure' }],
  [5604, 'Max Range Value', 'R', 'float', { description: 'Highest value the sensor can measure' }],
  [5605, 'Reset Min and Max Measured Values', 'E', 'none', { description: 'Sets min and max measured to the current value' }],
]
const APPLICATION_TYPE: ResourceDef = [5750, 'Application Type', 'RW', 'string', { description: 'What the sensor is used for, e.g. "Skin"' }]
const CURRENT_CALIBRATION: ResourceDef = [5821, 'Current Calibration', 'RW', 'float', { description: 'Calibration coefficient' }]

/** Value, units, min/max, reset, calibration and application type: the 1.0 set of most IPSO sensors. */
const CALIBRATED_SENSOR_1_0: readonly ResourceDef[] = [SENSOR_VALUE, SENSOR_UNITS, ...MIN_MAX, CURRENT_CALIBRATION, APPLICATION_TYPE]

function sensor(id: number, name: string, description: string, resources: readonly ResourceDef[], version = '1.0'): ObjectModel {
  const head: ObjectHead = { id, name, version, lwm2mVersion: '1.0', multiple: true, description }
  return defineObject(head, resources)
}

export const IPSO_MODELS: readonly ObjectModel[] = [
  sensor(3300, 'Generic Sensor', 'Any measured value without a dedicated object', [
    SENSOR_VALUE,
    SENSOR_UNITS,
    ...MIN_MAX,
    APPLICATION_TYPE,
    [5751, 'Sensor Type', 'R', 'string', { description: 'Kind of sensor, e.g. "PIR"' }],
  ]),
  sensor(3303, 'Temperature', 'A temperature reading, typically in Cel', [SENSOR_VALUE, SENSOR_UNITS, ...MIN_MAX]),
  // 1.1 adds the application type, the time of the reading and quality indicators.
  sensor(
    3303,
    'Temperature',
    'A temperature reading, typically in Cel',
    [
      SENSOR_VALUE,
      SENSOR_UNITS,
      ...MIN_MAX,
      APPLICATION_TYPE,
      [5518, 'Timestamp', 'R', 'time', { description: 'When the value was measured' }],
      [6050, 'Fractional Timestamp', 'R', 'float', { range: '0..1', units: 's', description: 'Sub-second part of the timestamp' }],
      [6042, 'Measurement Quality Indicator', 'R', 'integer', { range: '0..23', description: '0 unchecked, 1-2 rejected, 3 suspicious, 4 accepted, 16-23 vendor' }],
      [6049, 'Measurement Quality Level', 'R', 'integer', { range: '0..100', description: 'Confidence in the value; 100 fully checked, 0 reject' }],
    ],
    '1.1',
  ),
  sensor(3316, 'Voltage', 'A voltage reading, typically in V', CALIBRATED_SENSOR_1_0),
  sensor(3320, 'Percentage', 'A reading on a 0-100 % scale', CALIBRATED_SENSOR_1_0),
  sensor(3346, 'Rate', 'A rate reading, e.g. heart rate in beats per minute', CALIBRATED_SENSOR_1_0),
]
