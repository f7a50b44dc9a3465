import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { CodecError } from './errors.ts'
import { BUILTIN_MODELS, codecError, DEVICE_RECORDS, modelsBy, modelsOf, rec, valueArbitrary, type ValueArbitraries } from './fixtures.test-helper.ts'
import { parsePath } from './path.ts'
import { bytesToHex, hexToBytes, normalizeInteger } from './values.ts'
import type { Lwm2mRecord, ResourceType } from './values.ts'
import { decodeTlvEntries, encodeTlvEntries, legacyTlvCodec, tlvCodec } from './tlv.ts'

// Device (/3) and Access Control (/2) as built in, and a test object 9000 with one resource per type.
const models = modelsOf(
  {
    '9000/0': 'integer', '9000/1': 'unsigned', '9000/2': 'float', '9000/3': 'boolean', '9000/4': 'string', '9000/5': 'corelnk',
    '9000/6': 'time', '9000/7': 'objlnk', '9000/8': 'opaque', '9000/9': 'none', '9000/10': 'integer',
  },
  BUILTIN_MODELS,
)

const hex = hexToBytes
const p = parsePath
const decode = (bytes: Uint8Array, base: string) => tlvCodec.decode(bytes, { basePath: p(base), models })
const encode = (records: readonly Lwm2mRecord[], base: string) => bytesToHex(tlvCodec.encode(records, { basePath: p(base), models }))

const decodeError = (bytes: Uint8Array, base: string): CodecError => codecError(() => decode(bytes, base))
const encodeError = (records: Lwm2mRecord[], base: string): CodecError => codecError(() => encode(records, base))

// LwM2M TS 1.0 §6.4.3.1 example: Read /3/0 on a single-instance Device object (121 bytes).
const DEVICE_TLV =
  'C8 00 14 4F 70 65 6E 20 4D 6F 62 69 6C 65 20 41 6C 6C 69 61 6E 63 65' + // 0 Manufacturer "Open Mobile Alliance"
  ' C8 01 16 4C 69 67 68 74 77 65 69 67 68 74 20 4D 32 4D 20 43 6C 69 65 6E 74' + // 1 Model "Lightweight M2M Client"
  ' C8 02 09 33 34 35 30 30 30 31 32 33' + // 2 Serial "345000123"
  ' C3 03 31 2E 30' + // 3 Firmware "1.0"
  ' 86 06 41 00 01 41 01 05' + // 6 Available power sources [1, 5]
  ' 88 07 08 42 00 0E D8 42 01 13 88' + // 7 Power source voltage [3800, 5000]
  ' 87 08 41 00 7D 42 01 03 84' + // 8 Power source current [125, 900]
  ' C1 09 64' + // 9 Battery level 100
  ' C1 0A 0F' + // 10 Memory free 15
  ' 83 0B 41 00 00' + // 11 Error code [0]
  ' C4 0D 51 82 42 8F' + // 13 Current time 0x5182428F
  ' C6 0E 2B 30 32 3A 30 30' + // 14 UTC offset "+02:00"
  ' C1 10 55' // 16 Binding "U"

// LwM2M TS 1.0 §6.4.3.1 example: Read /2 on Access Control with instances 0 and 2.
const ACL_TLV =
  '08 00 0E C1 00 01 C1 01 00 83 02 41 7F 07 C1 03 7F' + // instance 0: object 1, instance 0, ACL[127]=7, owner 127
  ' 08 02 12 C1 00 03 C1 01 00 87 02 41 7F 07 61 01 36 01 C1 03 7F' // instance 2: object 3, instance 0, ACL[127]=7, ACL[310]=1, owner 127

const ACL_RECORDS: Lwm2mRecord[] = [
  rec('/2/0/0', 1, 'integer'),
  rec('/2/0/1', 0, 'integer'),
  rec('/2/0/2/127', 7, 'integer'),
  rec('/2/0/3', 127, 'integer'),
  rec('/2/2/0', 3, 'integer'),
  rec('/2/2/1', 0, 'integer'),
  rec('/2/2/2/127', 7, 'integer'),
  rec('/2/2/2/310', 1, 'integer'),
  rec('/2/2/3', 127, 'integer'),
]

const norm = (h: string) => h.replace(/\s/g, '').toLowerCase()

describe('TLV spec examples', () => {
  it('spec bytes are what the spec says (121 bytes for /3/0)', () => {
    expect(hex(DEVICE_TLV).length).toBe(121)
  })

  it('decodes the Device object read on /3/0', () => {
    expect(decode(hex(DEVICE_TLV), '/3/0')).toEqual(DEVICE_RECORDS)
  })

  it('encodes the Device object for /3/0 to the exact spec bytes', () => {
    expect(encode(DEVICE_RECORDS, '/3/0')).toBe(norm(DEVICE_TLV))
  })

  it('encodes in path order whatever the record order', () => {
    expect(encode([...DEVICE_RECORDS].reverse(), '/3/0')).toBe(norm(DEVICE_TLV))
  })

  it('reads /3 as one object instance of 121 bytes', () => {
    const wrapped = '08 00 79 ' + DEVICE_TLV
    expect(decode(hex(wrapped), '/3')).toEqual(DEVICE_RECORDS)
    expect(encode(DEVICE_RECORDS, '/3')).toBe(norm(wrapped))
  })

  it('decodes and encodes the multiple-instance Access Control object on /2', () => {
    expect(decode(hex(ACL_TLV), '/2')).toEqual(ACL_RECORDS)
    expect(encode(ACL_RECORDS, '/2')).toBe(norm(ACL_TLV))
  })

  it('reads the single resource /3/0/0', () => {
    const bytes = 'C8 00 14 4F 70 65 6E 20 4D 6F 62 69 6C 65 20 41 6C 6C 69 61 6E 63 65'
    expect(decode(hex(bytes), '/3/0/0')).toEqual([rec('/3/0/0', 'Open Mobile Alliance', 'string')])
    expect(encode([rec('/3/0/0', 'Open Mobile Alliance', 'string')], '/3/0/0')).toBe(norm(bytes))
  })

  it('reads the multiple resource /3/0/6', () => {
    const records = [rec('/3/0/6/0', 1, 'integer'), rec('/3/0/6/1', 5, 'integer')]
    expect(decode(hex('86 06 41 00 01 41 01 05'), '/3/0/6')).toEqual(records)
    expect(encode(records, '/3/0/6')).toBe('8606410001410105')
  })

  it('reads one resource instance /3/0/6/1', () => {
    expect(decode(hex('41 01 05'), '/3/0/6/1')).toEqual([rec('/3/0/6/1', 5, 'integer')])
    expect(encode([rec('/3/0/6/1', 5, 'integer')], '/3/0/6/1')).toBe('410105')
  })
})

describe('TLV decoding leniency', () => {
  it('accepts the /3/0 resources wrapped in their object instance', () => {
    expect(decode(hex('08 00 79 ' + DEVICE_TLV), '/3/0')).toEqual(DEVICE_RECORDS)
  })

  it('accepts bare resources on an object read as instance 0', () => {
    expect(decode(hex(DEVICE_TLV), '/3')).toEqual(DEVICE_RECORDS)
  })

  it('accepts bare resource instances on a resource read', () => {
    expect(decode(hex('41 00 01 41 01 05'), '/3/0/6')).toEqual([rec('/3/0/6/0', 1, 'integer'), rec('/3/0/6/1', 5, 'integer')])
  })

  it('returns no records for an empty payload', () => {
    expect(decode(new Uint8Array(0), '/3/0')).toEqual([])
    expect(decode(new Uint8Array(0), '/3/0/6')).toEqual([])
  })

  it('keeps the gateway prefix of the base path', () => {
    expect(decode(hex('C1 09 64'), '/dev0/3/0')).toEqual([rec('/dev0/3/0/9', 100, 'integer')])
    expect(encode([rec('/dev0/3/0/9', 100, 'integer')], '/dev0/3/0')).toBe('c10964')
  })

  it('is registered under 11542 and legacy 1542', () => {
    expect(tlvCodec.format).toBe(11542)
    expect(legacyTlvCodec.format).toBe(1542)
    expect(legacyTlvCodec.decode(hex('C1 09 64'), { basePath: p('/3/0'), models })).toEqual([rec('/3/0/9', 100, 'integer')])
  })
})

describe('TLV value types', () => {
  const one = (h: string, path: string) => decode(hex(h), path)[0]

  it('decodes integers of 1, 2, 4 and 8 bytes, signed', () => {
    expect(one('C1 00 FF', '/9000/0/0')?.value).toBe(-1)
    expect(one('C2 00 80 00', '/9000/0/0')?.value).toBe(-32768)
    expect(one('C4 00 7F FF FF FF', '/9000/0/0')?.value).toBe(2147483647)
    expect(one('C8 00 08 00 1F FF FF FF FF FF FF', '/9000/0/0')?.value).toBe(Number.MAX_SAFE_INTEGER)
    expect(one('C8 00 08 7F FF FF FF FF FF FF FF', '/9000/0/0')?.value).toBe(2n ** 63n - 1n)
    expect(one('C8 00 08 80 00 00 00 00 00 00 00', '/9000/0/0')?.value).toBe(-(2n ** 63n))
  })

  it('decodes unsigned integers', () => {
    expect(one('C1 01 FF', '/9000/0/1')).toEqual(rec('/9000/0/1', 255, 'unsigned'))
    expect(one('C4 01 FF FF FF FF', '/9000/0/1')?.value).toBe(0xffffffff)
    expect(one('C8 01 08 FF FF FF FF FF FF FF FF', '/9000/0/1')?.value).toBe(2n ** 64n - 1n)
  })

  it('decodes floats of 4 and 8 bytes', () => {
    expect(one('C4 02 3F C0 00 00', '/9000/0/2')).toEqual(rec('/9000/0/2', 1.5, 'float'))
    expect(one('C8 02 08 3F B9 99 99 99 99 99 9A', '/9000/0/2')?.value).toBe(0.1)
  })

  it('decodes booleans, strings, core links, time and object links', () => {
    expect(one('C1 03 01', '/9000/0/3')).toEqual(rec('/9000/0/3', true, 'boolean'))
    expect(one('C1 03 00', '/9000/0/3')?.value).toBe(false)
    expect(one('C4 04 C3 A9 C3 A9', '/9000/0/4')?.value).toBe('éé')
    expect(one('C0 04', '/9000/0/4')?.value).toBe('')
    expect(one('C3 04 EF BB BF', '/9000/0/4')?.value).toBe('\uFEFF')
    expect(one('C4 05 3C 2F 33 3E', '/9000/0/5')).toEqual(rec('/9000/0/5', '</3>', 'corelnk'))
    expect(one('C4 06 51 82 42 8F', '/9000/0/6')).toEqual(rec('/9000/0/6', 1367491215, 'time'))
    expect(one('C4 07 00 03 FF FF', '/9000/0/7')).toEqual(rec('/9000/0/7', { objectId: 3, instanceId: 65535 }, 'objlnk'))
  })

  it('decodes opaque, none and unknown resources as copied bytes', () => {
    const input = hex('C2 08 01 02 C1 09 07 C3 63 0A 0B 0C')
    const records = decode(input, '/9000/0')
    expect(records).toEqual([
      rec('/9000/0/8', Uint8Array.of(1, 2), 'opaque'),
      rec('/9000/0/9', Uint8Array.of(7), 'opaque'),
      rec('/9000/0/99', Uint8Array.of(10, 11, 12), 'opaque'),
    ])
    input.fill(0)
    expect(records[0]?.value).toEqual(Uint8Array.of(1, 2))
    expect(records[2]?.value).toEqual(Uint8Array.of(10, 11, 12))
  })

  it('decodes as opaque when no models are given', () => {
    expect(tlvCodec.decode(hex('C1 09 64'), { basePath: p('/3/0') })).toEqual([rec('/3/0/9', Uint8Array.of(100), 'opaque')])
  })
})

describe('TLV encoding', () => {
  const enc = (path: string, value: Lwm2mRecord['value'], type?: ResourceType) =>
    encode([type === undefined ? { path: p(path), value } : rec(path, value, type)], path)

  it('writes integers in the smallest of 1, 2, 4 and 8 bytes', () => {
    expect(enc('/9000/0/0', 127)).toBe('c1007f')
    expect(enc('/9000/0/0', -128)).toBe('c10080')
    expect(enc('/9000/0/0', 128)).toBe('c2000080')
    expect(enc('/9000/0/0', -129)).toBe('c200ff7f')
    expect(enc('/9000/0/0', 32768)).toBe('c40000008000')
    expect(enc('/9000/0/0', -2147483648)).toBe('c40080000000')
    expect(enc('/9000/0/0', 2147483648)).toBe('c800080000000080000000')
    expect(enc('/9000/0/0', -(2n ** 63n))).toBe('c800088000000000000000')
    expect(enc('/9000/0/0', 5n)).toBe('c10005')
  })

  it('writes unsigned integers unsigned', () => {
    expect(enc('/9000/0/1', 255)).toBe('c101ff')
    expect(enc('/9000/0/1', 0xffffffff)).toBe('c401ffffffff')
    expect(enc('/9000/0/1', 2n ** 64n - 1n)).toBe('c80108ffffffffffffffff')
  })

  it('writes floats as float32 only when exact', () => {
    expect(enc('/9000/0/2', 1.5)).toBe('c4023fc00000')
    expect(enc('/9000/0/2', 0.1)).toBe('c802083fb999999999999a')
    expect(enc('/9000/0/2', 3)).toBe('c40240400000') // the model says float, not integer
    expect(enc('/9000/0/2', -0)).toBe('c40280000000')
  })

  it('writes the other types', () => {
    expect(enc('/9000/0/3', true)).toBe('c10301')
    expect(enc('/9000/0/4', 'é')).toBe('c204c3a9')
    expect(enc('/9000/0/6', 1367491215)).toBe('c4065182428f')
    expect(enc('/9000/0/7', { objectId: 3, instanceId: 65535 })).toBe('c4070003ffff')
    expect(enc('/9000/0/9', Uint8Array.of(7))).toBe('c10907')
  })

  it('infers the type without a model and prefers the record type', () => {
    expect(enc('/9000/0/99', 1.5)).toBe('c4633fc00000')
    expect(enc('/9000/0/99', 'a')).toBe('c16361')
    expect(enc('/9000/0/2', 7, 'integer')).toBe('c10207')
  })

  it('uses 16-bit ids from 256 and the smallest length field', () => {
    expect(enc('/9000/0/256', Uint8Array.of(1))).toBe('e1010001')
    expect(enc('/9000/0/8', new Uint8Array(7))).toBe('c708' + '00'.repeat(7))
    expect(enc('/9000/0/8', new Uint8Array(8))).toBe('c80808' + '00'.repeat(8))
    expect(enc('/9000/0/8', new Uint8Array(256))).toBe('d0080100' + '00'.repeat(256))
    expect(enc('/9000/0/8', new Uint8Array(65536)).slice(0, 10)).toBe('d808010000')
  })

  it('drops record times but rejects several values for one path', () => {
    expect(encode([{ ...rec('/3/0/9', 100, 'integer'), time: 1700000000 }], '/3/0')).toBe('c10964')
    const e = encodeError([{ ...rec('/3/0/9', 100, 'integer'), time: 1 }, { ...rec('/3/0/9', 99, 'integer'), time: 2 }], '/3/0')
    expect(e.message).toBe('TLV: /3/0/9 appears more than once; TLV carries one value per path and no timestamps (use SenML)')
  })

  it('rejects records it cannot place', () => {
    expect(encodeError([rec('/3/1/9', 1, 'integer')], '/3/0').message).toBe('TLV: record /3/1/9 is outside the base path /3/0')
    expect(encodeError([{ path: p('/3/0'), value: 1 }], '/3').message).toBe('TLV: record /3/0 has no resource id')
    expect(encodeError([rec('/3/0/6', 1, 'integer'), rec('/3/0/6/0', 1, 'integer')], '/3/0').message).toBe(
      'TLV: /3/0/6 has both a single value and resource instances',
    )
    expect(() => tlvCodec.encode([rec('/3/0/9', 1, 'integer')])).toThrow('TLV: needs a base path with an object id')
  })

  it('rejects values that do not fit their type', () => {
    expect(encodeError([{ path: p('/3/0/9'), value: 'x' }], '/3/0').message).toBe('TLV: /3/0/9: string "x" is not a valid integer')
    expect(encodeError([rec('/9000/0/0', 2n ** 63n, 'integer')], '/9000/0').message).toBe(
      'TLV: /9000/0/0: integer 9223372036854775808 does not fit in 8 bytes',
    )
    expect(encodeError([rec('/9000/0/7', { objectId: 70000, instanceId: 0 }, 'objlnk')], '/9000/0').message).toBe(
      'TLV: /9000/0/7: object link 70000:0 is out of range 0-65535',
    )
  })
})

describe('TLV raw entries', () => {
  it('decodes entries with views and offsets', () => {
    const bytes = hex('08 00 05 83 0B 41 00 00')
    expect(decodeTlvEntries(bytes)).toEqual([
      {
        kind: 'objectInstance',
        id: 0,
        offset: 0,
        children: [{ kind: 'multipleResource', id: 11, offset: 3, children: [{ kind: 'resourceInstance', id: 0, offset: 5, value: Uint8Array.of(0) }] }],
      },
    ])
  })

  it('encodes entries and checks their nesting', () => {
    expect(bytesToHex(encodeTlvEntries([{ kind: 'multipleResource', id: 300, children: [{ kind: 'resourceInstance', id: 1, value: Uint8Array.of(9) }] }]))).toBe(
      'a3012c410109',
    )
    expect(() => encodeTlvEntries([{ kind: 'objectInstance', id: 0, children: [{ kind: 'resourceInstance', id: 1, value: Uint8Array.of(9) }] }])).toThrow(
      'TLV: resource instance 1 cannot sit inside object instance 0',
    )
    expect(() => encodeTlvEntries([{ kind: 'resource', id: 65535, value: new Uint8Array(0) }])).toThrow('TLV: resource id 65535 is out of range 0-65534')
  })
})

describe('TLV malformed input', () => {
  const cases: [name: string, bytes: string, base: string, message: string][] = [
    ['truncated 16-bit identifier', 'C1 09 64 E1 00', '/3/0', 'TLV: truncated identifier: needs 2 bytes, 1 remaining at offset 3'],
    ['missing identifier', 'C1', '/3/0', 'TLV: truncated identifier: needs 1 bytes, 0 remaining at offset 0'],
    ['truncated length field', 'D0 00 01', '/3/0', 'TLV: truncated length field: needs 2 bytes, 1 remaining at offset 0'],
    ['truncated value', 'C4 09 00 00', '/3/0', 'TLV: length 4 exceeds remaining 2 bytes at offset 0'],
    ['length past the end', 'C3 00 61 62 63 D0 01 01 2C' + ' 00'.repeat(12), '/3/0', 'TLV: length 300 exceeds remaining 12 bytes at offset 5'],
    ['huge declared length', 'D8 00 FF FF FF 00', '/3/0', 'TLV: length 16777215 exceeds remaining 1 bytes at offset 0'],
    ['child longer than its container', '08 00 03 C4 09 00', '/3', 'TLV: length 4 exceeds remaining 1 bytes at offset 3'],
    ['reserved identifier', 'E1 FF FF 00', '/3/0', 'TLV: resource identifier 65535 is reserved at offset 0'],
    ['resource instance directly in an object instance', '08 00 03 41 00 01', '/3', 'TLV: resource instance 0 cannot sit inside object instance 0 at offset 3'],
    ['resource in a multiple resource', '86 06 41 00 01 C1 01 05', '/3/0', 'TLV: resource 1 cannot sit inside multiple resource 6 at offset 5'],
    ['object instance in an object instance', '08 00 03 08 01 00', '/3', 'TLV: object instance 1 cannot sit inside object instance 0 at offset 3'],
    ['object instance among resources at /o/i', 'C1 09 64 08 00 00', '/3/0', 'TLV: unexpected object instance 0 in a payload for /3/0 at offset 3'],
    ['two object instances at /o/i', '08 00 00 08 01 00', '/3/0', 'TLV: unexpected object instance 0 in a payload for /3/0 at offset 0'],
    ['wrong object instance at /o/i', '08 01 03 C1 09 64', '/3/0', 'TLV: object instance 1 does not match the base path /3/0 at offset 0'],
    ['resource instance at /o/i', '41 00 01', '/3/0', 'TLV: unexpected resource instance 0 in a payload for /3/0 at offset 0'],
    ['resources mixed with object instances at /o', '08 00 00 C1 09 64', '/3', 'TLV: unexpected resource 9 in a payload for /3 at offset 3'],
    ['resource instance at /o', '41 00 01', '/3', 'TLV: unexpected resource instance 0 in a payload for /3 at offset 0'],
    ['wrong resource at /o/i/r', 'C1 09 64', '/3/0/10', 'TLV: resource 9 does not match the base path /3/0/10 at offset 0'],
    ['object instance at /o/i/r', '08 00 00', '/3/0/9', 'TLV: unexpected object instance 0 in a payload for /3/0/9 at offset 0'],
    ['two resources at /o/i/r', 'C1 09 64 C1 09 64', '/3/0/9', 'TLV: unexpected resource 9 in a payload for /3/0/9 at offset 0'],
    ['wrong resource instance at /o/i/r/ri', '41 02 05', '/3/0/6/1', 'TLV: resource instance 2 does not match the base path /3/0/6/1 at offset 0'],
    ['resource at /o/i/r/ri', 'C1 06 05', '/3/0/6/1', 'TLV: unexpected resource 6 in a payload for /3/0/6/1 at offset 0'],
    ['two resource instances at /o/i/r/ri', '41 01 05 41 01 05', '/3/0/6/1', 'TLV: unexpected resource instance 1 in a payload for /3/0/6/1 at offset 3'],
    ['empty integer', 'C0 09', '/3/0', 'TLV: /3/0/9: integer value of 0 bytes (must be 1, 2, 4 or 8) at offset 0'],
    ['3-byte integer', 'C1 0A 01 C3 09 00 00 01', '/3/0', 'TLV: /3/0/9: integer value of 3 bytes (must be 1, 2, 4 or 8) at offset 3'],
    ['5-byte time', 'C5 0D 00 00 00 00 01', '/3/0', 'TLV: /3/0/13: time value of 5 bytes (must be 1, 2, 4 or 8) at offset 0'],
    ['3-byte unsigned', 'C3 01 00 00 01', '/9000/0', 'TLV: /9000/0/1: unsigned value of 3 bytes (must be 1, 2, 4 or 8) at offset 0'],
    ['2-byte float', 'C2 02 3F C0', '/9000/0', 'TLV: /9000/0/2: float value of 2 bytes (must be 4 or 8) at offset 0'],
    ['boolean 2', 'C1 03 02', '/9000/0', 'TLV: /9000/0/3: boolean value 2 (must be 0 or 1) at offset 0'],
    ['2-byte boolean', 'C2 03 00 01', '/9000/0', 'TLV: /9000/0/3: boolean value of 2 bytes (must be 1) at offset 0'],
    ['3-byte objlnk', 'C3 07 00 03 00', '/9000/0', 'TLV: /9000/0/7: objlnk value of 3 bytes (must be 4) at offset 0'],
    ['invalid UTF-8', 'C1 09 64 C2 00 C3 28', '/3/0', 'TLV: /3/0/0: string value is not valid UTF-8 at offset 3'],
    ['truncated UTF-8 sequence', 'C2 05 E2 82', '/9000/0', 'TLV: /9000/0/5: corelnk value is not valid UTF-8 at offset 0'],
    ['invalid UTF-8 in a resource instance', '86 0E 41 00 61 41 01 FF', '/3/0', 'TLV: /3/0/14/1: string value is not valid UTF-8 at offset 5'],
  ]

  for (const [name, bytes, base, message] of cases) {
    it(`rejects ${name}`, () => {
      const e = decodeError(hex(bytes), base)
      expect(e.message).toBe(message)
      expect(e.codec).toBe('TLV')
    })
  }

  it('needs a base path with an object id', () => {
    expect(() => tlvCodec.decode(hex('C1 09 64'))).toThrow(new CodecError('TLV', 'needs a base path with an object id'))
    expect(() => tlvCodec.decode(hex('C1 09 64'), { basePath: p('/dev0') })).toThrow('TLV: needs a base path with an object id')
  })
})

describe('TLV property round trip', () => {
  const TYPES: readonly ResourceType[] = ['integer', 'unsigned', 'float', 'boolean', 'string', 'corelnk', 'time', 'objlnk', 'opaque']
  const typeOf = (resourceId: number): ResourceType => TYPES[resourceId % TYPES.length] as ResourceType
  const propModels = modelsBy((_o, r) => typeOf(r))
  const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(normalizeInteger)
  const smallInt = fc.oneof(fc.integer({ min: -200, max: 200 }), fc.integer(), int64)
  const values: ValueArbitraries = {
    string: fc.string({ unit: 'grapheme', maxLength: 300 }),
    integer: smallInt,
    unsigned: fc.oneof(fc.nat(70000), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(normalizeInteger)),
    float: fc.oneof(fc.double(), fc.float()),
    opaque: fc.uint8Array({ maxLength: 300 }),
  }
  const id = fc.oneof(fc.nat(20), fc.nat(65534))
  // Unique (instance, resource) slots, each a single value or a few resource instances, typed by resource id.
  const slot = fc.tuple(fc.nat(3), id, fc.option(fc.uniqueArray(id, { minLength: 1, maxLength: 4 }), { nil: undefined }))
  const records = fc
    .uniqueArray(slot, { maxLength: 12, selector: ([i, r]) => `${i}/${r}` })
    .map((slots) => slots.flatMap(([i, r, ris]) => (ris === undefined ? [`/77/${i}/${r}`] : ris.map((ri) => `/77/${i}/${r}/${ri}`))))
    .chain((paths) =>
      fc.tuple(
        ...paths.map((path) => {
          const type = typeOf(p(path).resourceId as number)
          return valueArbitrary(type, values).map((value): Lwm2mRecord => ({ path: p(path), value, type }))
        }),
      ),
    )

  const sortKey = (r: Lwm2mRecord) => [r.path.instanceId ?? 0, r.path.resourceId ?? 0, r.path.resourceInstanceId ?? -1]
  const sorted = (rs: readonly Lwm2mRecord[]) =>
    [...rs].sort((a, b) => {
      const ka = sortKey(a)
      const kb = sortKey(b)
      return (ka[0] as number) - (kb[0] as number) || (ka[1] as number) - (kb[1] as number) || (ka[2] as number) - (kb[2] as number)
    })

  it('decode(encode(records)) gives the records back on /o', () => {
    fc.assert(
      fc.property(records, (rs) => {
        const bytes = tlvCodec.encode(rs, { basePath: p('/77'), models: propModels })
        expect(tlvCodec.decode(bytes, { basePath: p('/77'), models: propModels })).toEqual(sorted(rs))
        // Re-encoding the decoded records gives the same bytes.
        expect(tlvCodec.encode(tlvCodec.decode(bytes, { basePath: p('/77'), models: propModels }), { basePath: p('/77'), models: propModels })).toEqual(bytes)
      }),
      { numRuns: 300 },
    )
  })

  it('round trips one instance on /o/i and one resource on /o/i/r', () => {
    fc.assert(
      fc.property(records, (rs) => {
        const inInstance = rs.filter((r) => r.path.instanceId === 0)
        const opts = { basePath: p('/77/0'), models: propModels }
        expect(tlvCodec.decode(tlvCodec.encode(inInstance, opts), opts)).toEqual(sorted(inInstance))
        const first = inInstance[0]
        if (first === undefined) return
        const resource = p(`/77/0/${first.path.resourceId}`)
        const ropts = { basePath: resource, models: propModels }
        expect(tlvCodec.decode(tlvCodec.encode([first], ropts), ropts)).toEqual([first])
      }),
      { numRuns: 300 },
    )
  })
})
