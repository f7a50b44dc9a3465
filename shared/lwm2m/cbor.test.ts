import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { cborCodec } from './cbor.ts'
import { codecError, modelsBy } from './fixtures.test-helper.ts'
import type { ModelLookup } from './object-model.ts'
import { parsePath } from './path.ts'
import { bytesToHex, hexToBytes, type Lwm2mRecord, type Lwm2mValue, type ResourceType } from './values.ts'

const p = parsePath
const hex = hexToBytes

/** Every resource has `type`. */
const modelOf = (type: ResourceType): ModelLookup => modelsBy(() => type)

function decode(h: string, path: string, type?: ResourceType): Lwm2mRecord[] {
  return cborCodec.decode(hex(h), { basePath: p(path), ...(type ? { models: modelOf(type) } : {}) })
}

describe('CBOR (60): decoding a single value', () => {
  const cases: [string, string, ResourceType | undefined, Lwm2mValue, ResourceType][] = [
    ['text, Device manufacturer', '74 4f70656e204d6f62696c6520416c6c69616e6365', 'string', 'Open Mobile Alliance', 'string'],
    ['text without model', '61 55', undefined, 'U', 'string'],
    ['uint8', '18 64', undefined, 100, 'integer'],
    ['negative', '38 63', undefined, -100, 'integer'],
    ['uint64 max', '1b ffffffffffffffff', undefined, 2n ** 64n - 1n, 'unsigned'],
    ['int64 min', '3b 7fffffffffffffff', 'integer', -(2n ** 63n), 'integer'],
    ['bignum tag', 'c2 42 0100', 'unsigned', 256, 'unsigned'],
    ['float64', 'fb 4036666666666666', undefined, 22.4, 'float'],
    ['float16 whole number stays float', 'f9 3c00', undefined, 1, 'float'],
    ['float32', 'fa 3fc00000', 'float', 1.5, 'float'],
    ['integer for a float model', '05', 'float', 5, 'float'],
    ['boolean', 'f5', undefined, true, 'boolean'],
    ['byte string', '43 010203', undefined, new Uint8Array([1, 2, 3]), 'opaque'],
    ['tag 1 time (Leshan)', 'c1 1a 5182428f', undefined, 1367491215, 'time'],
    ['tag 0 time string (Zephyr)', 'c0 74 323031332d30352d30325431303a34303a31355a', undefined, 1367491215, 'time'],
    ['untagged time', '1a 5182428f', 'time', 1367491215, 'time'],
    ['objlnk text', '63 333a30', 'objlnk', { objectId: 3, instanceId: 0 }, 'objlnk'],
    ['objlnk text with NUL (Zephyr)', '64 333a3000', 'objlnk', { objectId: 3, instanceId: 0 }, 'objlnk'],
    ['corelnk', '64 3c313e3b', 'corelnk', '<1>;', 'corelnk'],
  ]
  it.each(cases)('%s', (_name, h, model, value, type) => {
    expect(decode(h, '/3/0/0', model)).toEqual([{ path: p('/3/0/0'), value, type }])
  })

  it('decodes at a resource instance and under a gateway prefix', () => {
    expect(decode('01', '/dev0/3/0/6/1')).toEqual([{ path: p('/dev0/3/0/6/1'), value: 1, type: 'integer' }])
  })

  it('returns opaque values as their own plain Uint8Array (no view of the payload)', () => {
    const payload = hex('42 0102')
    const [record] = cborCodec.decode(payload, { basePath: p('/3/0/0') })
    payload[1] = 9
    expect(record?.value).toEqual(new Uint8Array([1, 2]))
    expect(Object.getPrototypeOf(record?.value)).toBe(Uint8Array.prototype)
  })
})

describe('CBOR (60): malformed input', () => {
  const cases: [string, string, string, ResourceType | undefined, string][] = [
    ['object-level path', '01', '/3/0', undefined, 'CBOR: a single CBOR value belongs to a resource or resource instance; /3/0 is neither'],
    ['root path', '01', '/', undefined, 'CBOR: a single CBOR value belongs to a resource or resource instance; / is neither'],
    ['array', '82 01 02', '/3/0/0', undefined, 'CBOR: expected a single value, got an array'],
    ['map', 'a1 01 02', '/3/0/0', undefined, 'CBOR: expected a single value, got a map'],
    ['null', 'f6', '/3/0/0', undefined, 'CBOR: expected a single value, got null'],
    ['empty', '', '/3/0/0', undefined, 'CBOR: empty payload at offset 0'],
    ['two items', '01 02', '/3/0/0', undefined, 'CBOR: 1 bytes left after the CBOR data item at offset 1'],
    ['truncated', '1a 0001', '/3/0/0', undefined, 'CBOR: truncated: 4-byte argument needs 4 bytes, 2 left at offset 0'],
    ['huge byte string', '5b 00000000ffffffff', '/3/0/0', undefined, 'CBOR: byte string length 4294967295 exceeds remaining 0 bytes at offset 0'],
    ['invalid UTF-8', '62 c328', '/3/0/0', undefined, 'CBOR: text string is not valid UTF-8 at offset 0'],
    ['unknown tag', 'd8 25 50 00000000000000000000000000000000', '/3/0/0', undefined, 'CBOR: unsupported tag 37 at offset 0'],
    ['structured clone tag', 'd8 1c 01', '/3/0/0', undefined, 'CBOR: unsupported tag 28 at offset 0'],
    ['bad date string', 'c0 63 616263', '/3/0/0', undefined, 'CBOR: tag 0 does not hold a valid date/time'],
    ['date tag inside an array', '81 c1 1b 0000010000000000', '/3/0/0', undefined, 'CBOR: date/time tag 1 is allowed on the top-level item only at offset 1'],
    ['nested tags', 'c1 c1 01', '/3/0/0', undefined, 'CBOR: nested tags are not supported at offset 1'],
    ['tag 1 on text', 'c1 61 41', '/3/0/0', undefined, 'CBOR: tag 1 wraps the wrong kind of item at offset 0'],
    ['deep nesting', '81'.repeat(20) + '01', '/3/0/0', undefined, 'CBOR: nesting deeper than 16 levels at offset 17'],
    ['text for an integer', '61 31', '/3/0/9', 'integer', 'CBOR: /3/0/9: string "1" is not a valid integer'],
    ['negative unsigned', '20', '/3/0/9', 'unsigned', 'CBOR: /3/0/9: number -1 is not a valid unsigned'],
    ['integer below int64', '3b ffffffffffffffff', '/3/0/9', 'integer', 'CBOR: /3/0/9: -18446744073709551616 is out of range for a signed 64-bit integer'],
    ['bad objlnk', '63 333b30', '/3/0/9', 'objlnk', 'CBOR: /3/0/9: object link "3;0" is not of the form objectId:instanceId'],
    ['executable resource', '01', '/3/0/4', 'none', 'CBOR: /3/0/4: number 1 is not a valid none'],
  ]
  it.each(cases)('%s', (_name, h, path, model, message) => {
    expect(codecError(() => decode(h, path, model)).message).toBe(message)
  })

  it('refuses a missing basePath', () => {
    expect(codecError(() => cborCodec.decode(hex('01'))).message).toBe('CBOR: a single CBOR value belongs to a resource or resource instance; / is neither')
  })
})

describe('CBOR (60): encoding', () => {
  const cases: [string, Lwm2mValue, ResourceType | undefined, string][] = [
    ['string', 'Open Mobile Alliance', 'string', '744f70656e204d6f62696c6520416c6c69616e6365'],
    ['small integer', 100, 'integer', '1864'],
    ['negative integer', -100, 'integer', '3863'],
    ['integer beyond 32 bits as a CBOR integer', 2 ** 40, 'integer', '1b0000010000000000'],
    ['negative beyond 32 bits', -(2 ** 40), 'integer', '3b000000ffffffffff'],
    ['unsigned 64-bit', 2n ** 64n - 1n, 'unsigned', '1bffffffffffffffff'],
    ['float is always a float', 2, 'float', 'fb4000000000000000'],
    ['float', 22.4, undefined, 'fb4036666666666666'],
    ['time as tag 1 (Leshan)', 1367491215, 'time', 'c11a5182428f'],
    ['boolean', false, undefined, 'f4'],
    ['opaque, untagged', new Uint8Array([1, 2]), undefined, '420102'],
    ['objlnk', { objectId: 3, instanceId: 0 }, undefined, '63333a30'],
    ['corelnk', '</1>', 'corelnk', '643c2f313e'],
  ]
  it.each(cases)('%s', (_name, value, type, expected) => {
    const record: Lwm2mRecord = type ? { path: p('/3/0/0'), value, type } : { path: p('/3/0/0'), value }
    const bytes = cborCodec.encode([record])
    expect(bytesToHex(bytes)).toBe(expected)
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype)
  })

  it('takes the type from the model when the record has none', () => {
    expect(bytesToHex(cborCodec.encode([{ path: p('/3/0/13'), value: 5 }], { models: modelOf('float') }))).toBe('fb4014000000000000')
  })

  it('refuses what a single value can not carry', () => {
    expect(codecError(() => cborCodec.encode([])).message).toBe('CBOR: plain CBOR carries exactly one value; got 0 records')
    const one: Lwm2mRecord = { path: p('/3/0/0'), value: 1 }
    expect(codecError(() => cborCodec.encode([one, one])).message).toBe('CBOR: plain CBOR carries exactly one value; got 2 records')
    expect(codecError(() => cborCodec.encode([{ path: p('/3/0'), value: 1 }])).message).toBe(
      'CBOR: a single CBOR value belongs to a resource or resource instance; /3/0 is neither',
    )
    expect(codecError(() => cborCodec.encode([{ path: p('/3/0/1'), value: 1.5, type: 'integer' }])).message).toBe('CBOR: /3/0/1: number 1.5 is not a valid integer')
  })
})

describe('CBOR (60): property round trip', () => {
  const typed: fc.Arbitrary<[ResourceType, Lwm2mValue]> = fc.oneof(
    fc.string({ unit: 'binary' }).map((v): [ResourceType, Lwm2mValue] => ['string', v]),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n): [ResourceType, Lwm2mValue] => ['integer', n >= -(2n ** 53n) && n <= 2n ** 53n ? Number(n) : n]),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n): [ResourceType, Lwm2mValue] => ['unsigned', n <= 2n ** 53n ? Number(n) : n]),
    fc.double().map((v): [ResourceType, Lwm2mValue] => ['float', Object.is(v, -0) ? 0 : v]),
    fc.integer({ min: -(2 ** 31), max: 2 ** 40 }).map((v): [ResourceType, Lwm2mValue] => ['time', v]),
    fc.boolean().map((v): [ResourceType, Lwm2mValue] => ['boolean', v]),
    fc.uint8Array().map((v): [ResourceType, Lwm2mValue] => ['opaque', v]),
    fc.record({ objectId: fc.integer({ min: 0, max: 65535 }), instanceId: fc.integer({ min: 0, max: 65535 }) }).map((v): [ResourceType, Lwm2mValue] => ['objlnk', v]),
  )
  it('decode(encode(record)) gives the record back, with the model', () => {
    fc.assert(
      fc.property(typed, fc.integer({ min: 0, max: 65534 }), ([type, value], resourceId) => {
        const path = p(`/3/0/${resourceId}`)
        const record: Lwm2mRecord = { path, value, type }
        expect(cborCodec.decode(cborCodec.encode([record]), { basePath: path, models: modelOf(type) })).toEqual([record])
      }),
      { numRuns: 1000 },
    )
  })
})
