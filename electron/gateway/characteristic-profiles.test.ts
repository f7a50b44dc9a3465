import { describe, expect, it } from 'vitest'
import { encodeEcgPayload, encodeSamplingRate } from '../../shared/ble/ecg-payload.ts'
import { encodeHeartRateMeasurement } from '../../shared/ble/heart-rate.ts'
import { encodeFloat11073, encodeSfloat11073 } from '../../shared/ble/ieee11073.ts'
import { encodeTemperatureMeasurement } from '../../shared/ble/thermometer.ts'
import {
  BATTERY_LEVEL_UUID, BODY_SENSOR_LOCATION_UUID, ECG_SAMPLING_RATE_UUID, ECG_SERVICE_UUID, ECG_TIMESTAMPING_UUID, ECG_VALUE_UUID,
  HEART_RATE_CONTROL_POINT_UUID, HEART_RATE_MEASUREMENT_UUID, MANUFACTURER_NAME_UUID, TEMPERATURE_MEASUREMENT_UUID,
} from '../../shared/ble/uuids.ts'
import { codecFromPresentationFormat, controlCommand, knownName, resolveCharacteristic, serviceName } from './characteristic-profiles.ts'

const pf = (format: number, exponent = 0, unit = 0x2700) => ({ format, exponent, unit, namespace: 1, description: 0 })
const bytes = (...b: number[]) => new Uint8Array(b)

describe('known characteristic profiles', () => {
  it("decodes the paper's ECG service: sample in 10 µV, rate in Hz (RW), timestamping (RW)", () => {
    const value = resolveCharacteristic({ uuid: ECG_VALUE_UUID })
    expect(value).toMatchObject({ name: 'ECG Value', type: 'integer', units: '10uV', stream: 'ecg', source: 'profile' })
    expect(value.decode(encodeEcgPayload(7, -123))).toBe(-123)
    expect(value.decode(encodeEcgPayload(7, 456, 123_456))).toBe(456)
    expect(() => value.decode(bytes(1, 2, 3))).toThrow('ECG payload: length 3, expected 4 (seq + sample) or 8 (seq + timestamp + sample)')

    const rate = resolveCharacteristic({ uuid: ECG_SAMPLING_RATE_UUID, userDescription: 'Sampling rate (Hz)' })
    expect(rate).toMatchObject({ name: 'Sampling rate (Hz)', type: 'integer', units: 'Hz' })
    expect(rate.decode(encodeSamplingRate(150))).toBe(150)
    expect(Array.from(rate.encode?.(120) ?? [])).toEqual([120, 0])
    expect(() => rate.encode?.('fast')).toThrow('Sampling Rate needs a number, not string fast')

    const ts = resolveCharacteristic({ uuid: ECG_TIMESTAMPING_UUID })
    expect(ts.type).toBe('boolean')
    expect(ts.decode(bytes(1))).toBe(true)
    expect(Array.from(ts.encode?.(false) ?? [])).toEqual([0])
    expect(() => ts.encode?.(1)).toThrow('Timestamping needs a boolean, not number 1')
  })

  it('decodes Heart Rate Measurement to bpm, with the RR intervals as a derived value', () => {
    const hr = resolveCharacteristic({ uuid: HEART_RATE_MEASUREMENT_UUID })
    const payload = encodeHeartRateMeasurement({ heartRate: 72, contact: 'detected', rrIntervals: [1024, 512] })
    expect(hr).toMatchObject({ name: 'Heart Rate', type: 'integer', units: '/min' })
    expect(hr.decode(payload)).toBe(72)
    expect(hr.derived?.decode(payload)).toEqual([1, 0.5])
    expect(hr.derived).toMatchObject({ name: 'RR Intervals', type: 'float', units: 's', multiple: true })
  })

  it('decodes Battery Level, Temperature Measurement (°C, also from °F), Body Sensor Location and Device Information', () => {
    expect(resolveCharacteristic({ uuid: BATTERY_LEVEL_UUID }).decode(bytes(87))).toBe(87)
    expect(() => resolveCharacteristic({ uuid: BATTERY_LEVEL_UUID }).decode(bytes(101))).toThrow('Battery Level: 101 % exceeds 100 %')
    const temp = resolveCharacteristic({ uuid: TEMPERATURE_MEASUREMENT_UUID })
    expect(temp).toMatchObject({ type: 'float', units: 'Cel' })
    expect(temp.decode(encodeTemperatureMeasurement({ value: 36.85, unit: 'celsius' }))).toBeCloseTo(36.85, 6)
    expect(temp.decode(encodeTemperatureMeasurement({ value: 98.6, unit: 'fahrenheit' }))).toBeCloseTo(37, 6)
    expect(resolveCharacteristic({ uuid: BODY_SENSOR_LOCATION_UUID }).decode(bytes(1))).toBe(1)
    const maker = resolveCharacteristic({ uuid: MANUFACTURER_NAME_UUID })
    expect(maker).toMatchObject({ name: 'Manufacturer Name', type: 'string' })
    expect(maker.decode(new TextEncoder().encode('ObjectTwin Labs'))).toBe('ObjectTwin Labs')
  })

  it('makes the heart-rate control point executable, with a default command', () => {
    const cp = resolveCharacteristic({ uuid: HEART_RATE_CONTROL_POINT_UUID })
    expect(Array.from(cp.control?.command ?? [])).toEqual([1])
    expect(Array.from(controlCommand('', bytes(1)))).toEqual([1])
    expect(Array.from(controlCommand("0='0x02'", bytes(1)))).toEqual([2])
    expect(Array.from(controlCommand("0='1,2,255'", bytes(1)))).toEqual([1, 2, 255])
    expect(() => controlCommand("0='reset'", bytes(1))).toThrow("Execute argument 'reset' is neither hex (0x01) nor a list of bytes (1,2)")
  })

  it('names services and characteristics from 0x2901, the table, or the UUID', () => {
    expect(serviceName(ECG_SERVICE_UUID)).toBe('ECG')
    expect(serviceName('180d')).toBe('Heart Rate')
    expect(serviceName('6e400001b5a3f393e0a9e50e24dcca9e')).toBe('6e400001-b5a3-f393-e0a9-e50e24dcca9e')
    expect(knownName('2a05')).toBe('Service Changed')
    expect(resolveCharacteristic({ uuid: '2a6e' }).name).toBe('Temperature')
    expect(resolveCharacteristic({ uuid: '2a6e', userDescription: '  Room  ' }).name).toBe('Room')
    expect(resolveCharacteristic({ uuid: '6e400002b5a3f393e0a9e50e24dcca9e' }).name).toBe('6e400002-b5a3-f393-e0a9-e50e24dcca9e')
  })
})

describe('types from the 0x2904 presentation format, else Opaque', () => {
  it('maps the format codes of REFERENCE.md §3', () => {
    expect(codecFromPresentationFormat(pf(0x01))?.type).toBe('boolean')
    for (const f of [0x04, 0x06, 0x07, 0x08, 0x09, 0x0a]) expect(codecFromPresentationFormat(pf(f))?.type).toBe('unsigned')
    for (const f of [0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12]) expect(codecFromPresentationFormat(pf(f))?.type).toBe('integer')
    for (const f of [0x14, 0x15, 0x16, 0x17]) expect(codecFromPresentationFormat(pf(f))?.type).toBe('float')
    expect(codecFromPresentationFormat(pf(0x19))?.type).toBe('string')
    expect(codecFromPresentationFormat(pf(0x1b))).toBeUndefined()
    const unknown = resolveCharacteristic({ uuid: '1234', presentationFormat: pf(0x1b) })
    expect(unknown).toMatchObject({ type: 'opaque', source: 'opaque' })
    expect(Array.from(unknown.decode(bytes(1, 2)) as Uint8Array)).toEqual([1, 2])
  })

  it('decodes and encodes integers little-endian with sign, width and exponent', () => {
    const u16 = codecFromPresentationFormat(pf(0x06, 0, 0x2722))
    expect(u16?.units).toBe('Hz')
    expect(u16?.decode(bytes(0x34, 0x12))).toBe(0x1234)
    expect(Array.from(u16?.encode?.(0x1234) ?? [])).toEqual([0x34, 0x12])
    expect(() => u16?.encode?.(70000)).toThrow('70000 does not fit uint16')
    expect(() => u16?.decode(bytes(1))).toThrow('uint16: length 1, expected 2')
    const s16 = codecFromPresentationFormat(pf(0x0e))
    expect(s16?.decode(bytes(0xfe, 0xff))).toBe(-2)
    expect(Array.from(s16?.encode?.(-2) ?? [])).toEqual([0xfe, 0xff])
    const s12 = codecFromPresentationFormat(pf(0x0d))
    expect(s12?.decode(bytes(0xff, 0x0f))).toBe(-1)
    const s64 = codecFromPresentationFormat(pf(0x12))
    expect(s64?.decode(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toBe(-1)
    expect(s64?.decode(bytes(0, 0, 0, 0, 0, 0, 0, 0x80))).toBe(-(2n ** 63n))
    // An exponent makes a float: 0.01 °C steps.
    const centi = codecFromPresentationFormat(pf(0x0e, -2, 0x272f))
    expect(centi).toMatchObject({ type: 'float', units: 'Cel' })
    expect(centi?.decode(bytes(0x6a, 0x0e))).toBeCloseTo(36.9, 9)
    expect(Array.from(centi?.encode?.(36.9) ?? [])).toEqual([0x6a, 0x0e])
  })

  it('decodes IEEE floats, IEEE-11073 FLOAT/SFLOAT and UTF-8', () => {
    const f32 = codecFromPresentationFormat(pf(0x14))
    expect(f32?.decode(f32.encode?.(1.5) ?? bytes())).toBe(1.5)
    expect(codecFromPresentationFormat(pf(0x17))?.decode(encodeFloat11073(36.6, -1))).toBeCloseTo(36.6, 9)
    expect(codecFromPresentationFormat(pf(0x16))?.decode(encodeSfloat11073(98.5, -1))).toBeCloseTo(98.5, 9)
    expect(codecFromPresentationFormat(pf(0x19))?.decode(new TextEncoder().encode('héllo'))).toBe('héllo')
  })
})
