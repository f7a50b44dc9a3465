import { describe, expect, it } from 'vitest'
import { bytesToHex, coerceValue, hexToBytes, inferType, parseObjlnk, valueFromJson, valueToJson } from './values.ts'

describe('values', () => {
  it('converts hex both ways and tolerates separators', () => {
    expect(bytesToHex(hexToBytes('0x0A:ff 10'))).toBe('0aff10')
    expect(() => hexToBytes('abc')).toThrow('Value: "abc" is not an even-length hex string')
    expect(() => hexToBytes('zz')).toThrow(/not an even-length hex string/)
  })

  it('infers types of bare values', () => {
    expect(inferType(1)).toBe('integer')
    expect(inferType(1.5)).toBe('float')
    expect(inferType(2n ** 64n - 1n)).toBe('unsigned')
    expect(inferType(new Uint8Array(1))).toBe('opaque')
    expect(inferType({ objectId: 3, instanceId: 0 })).toBe('objlnk')
  })

  it('coerces only lossless conversions', () => {
    expect(coerceValue(5n, 'integer')).toBe(5)
    expect(coerceValue(3, 'float')).toBe(3)
    expect(() => coerceValue(1.5, 'integer')).toThrow('Value: number 1.5 is not a valid integer')
    expect(() => coerceValue(-1, 'unsigned')).toThrow(/not a valid unsigned/)
    expect(() => coerceValue('1', 'boolean')).toThrow(/string "1" is not a valid boolean/)
  })

  it('parses object links in range', () => {
    expect(parseObjlnk('3:0')).toEqual({ objectId: 3, instanceId: 0 })
    expect(parseObjlnk('65535:65535')).toEqual({ objectId: 65535, instanceId: 65535 })
    expect(() => parseObjlnk('3-0')).toThrow(/objectId:instanceId/)
    expect(() => parseObjlnk('70000:0')).toThrow(/out of range/)
  })

  it('round-trips plain JSON values by type', () => {
    expect(valueToJson(valueFromJson('9223372036854775807', 'integer'))).toBe('9223372036854775807')
    expect(valueFromJson('0a0b', 'opaque')).toEqual(new Uint8Array([10, 11]))
    expect(valueFromJson('1:2', 'objlnk')).toEqual({ objectId: 1, instanceId: 2 })
    expect(() => valueFromJson('x', 'integer')).toThrow('Value: "x" is not a valid integer')
  })
})
