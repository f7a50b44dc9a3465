import { describe, it, expect } from 'vitest'
import { BleCodecError } from './errors.ts'
import { TEMPERATURE_TYPE_BODY, dateTimeFromDate, decodeTemperatureMeasurement, encodeTemperatureMeasurement } from './thermometer.ts'

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
const bytes = (h: string): Uint8Array => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16))

describe('Temperature Measurement (0x2A1C)', () => {
  it('encodes °C as an IEEE-11073 FLOAT with hundredths', () => {
    expect(hex(encodeTemperatureMeasurement({ value: 36.85, unit: 'celsius' }))).toBe('00' + '650e00fe')
  })

  it('adds the timestamp and the temperature type when present', () => {
    const timestamp = dateTimeFromDate(new Date(Date.UTC(2024, 4, 17, 9, 30, 5)))
    expect(timestamp).toEqual({ year: 2024, month: 5, day: 17, hours: 9, minutes: 30, seconds: 5 })
    const b = encodeTemperatureMeasurement({ value: 98.6, unit: 'fahrenheit', timestamp, temperatureType: TEMPERATURE_TYPE_BODY }, 1)
    expect(hex(b)).toBe('07' + 'da0300ff' + 'e807' + '05' + '11' + '09' + '1e' + '05' + '02')
    const m = decodeTemperatureMeasurement(b)
    expect(m.value).toBeCloseTo(98.6, 10)
    expect(m).toMatchObject({ unit: 'fahrenheit', timestamp, temperatureType: 2 })
  })

  it('decodes NaN from a sensor that has no reading', () => {
    expect(decodeTemperatureMeasurement(bytes('00ffff7f00')).value).toBeNaN()
  })

  it('names the cause of malformed packets', () => {
    expect(() => decodeTemperatureMeasurement(bytes('0065'))).toThrow('Temperature Measurement: length 2, need at least 5 (flags + FLOAT)')
    expect(() => decodeTemperatureMeasurement(bytes('02650e00fe'))).toThrow('Temperature Measurement: length 5, flags 0x02 need exactly 12')
    expect(() => decodeTemperatureMeasurement(bytes('02650e00fe' + 'e8070d0100000000'.slice(0, 14)))).toThrow(BleCodecError)
  })
})
