import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { BUILTIN_MODELS, codecError, DEVICE_RECORDS, modelsOf, rec, SENML_MODELS, senmlPackArbitrary, type ValueArbitraries } from './fixtures.test-helper.ts'
import { parsePath } from './path.ts'
import { senmlCborCodec } from './senml-cbor.ts'
import { bytesToHex, hexToBytes } from './values.ts'

const p = parsePath

// LwM2M TS 1.1 §7.4.5: the Device object /3/0 in SenML CBOR, byte for byte:
// [{-2: "/3/0/", 0: "0", 3: "Open Mobile Alliance"}, {0: "1", 3: "Lightweight M2M Client"}, ...]
const DEVICE_CBOR =
  '90' +
  'a3 21 65 2f332f302f 00 61 30 03 74 4f70656e204d6f62696c6520416c6c69616e6365' +
  'a2 00 61 31 03 76 4c69676874776569676874204d324d20436c69656e74' +
  'a2 00 61 32 03 69 333435303030313233' +
  'a2 00 61 33 03 63 312e30' +
  'a2 00 63 362f30 02 01' +
  'a2 00 63 362f31 02 05' +
  'a2 00 63 372f30 02 19 0ed8' +
  'a2 00 63 372f31 02 19 1388' +
  'a2 00 63 382f30 02 18 7d' +
  'a2 00 63 382f31 02 19 0384' +
  'a2 00 61 39 02 18 64' +
  'a2 00 62 3130 02 0f' +
  'a2 00 64 31312f30 02 00' +
  'a2 00 62 3133 02 1a 5182428f' +
  'a2 00 62 3134 03 66 2b30323a3030' +
  'a2 00 62 3136 03 61 55'

const hex = hexToBytes

describe('SenML CBOR: TS appendix examples', () => {
  it('decodes the Device object /3/0', () => {
    expect(senmlCborCodec.decode(hex(DEVICE_CBOR), { basePath: p('/3/0'), models: BUILTIN_MODELS })).toEqual(DEVICE_RECORDS)
  })

  it('encodes the Device object to exactly those bytes (plain CBOR: no tags, no record extension)', () => {
    expect(bytesToHex(senmlCborCodec.encode(DEVICE_RECORDS, { basePath: p('/3/0') }))).toBe(DEVICE_CBOR.replace(/\s+/g, ''))
  })

  describe('multiple timestamped values', () => {
    beforeEach(() => {
      vi.useFakeTimers()
      vi.setSystemTime(new Date('2024-01-01T00:00:00Z'))
    })
    afterEach(() => {
      vi.useRealTimers()
    })

    it('decodes [{bn:/3303/0/5700, bt:25462634, v:22.4, t:-5}, {v:22.9, t:-30}, {v:24.1, t:-50}]', () => {
      const now = Date.parse('2024-01-01T00:00:00Z') / 1000
      const bytes = hex(
        '83 a4 21 6c 2f333330332f302f35373030 22 1a 0184876a 02 fb 4036666666666666 06 24' +
          'a2 02 fb 4036e66666666666 06 38 1d' +
          'a2 02 fb 403819999999999a 06 38 31',
      )
      expect(senmlCborCodec.decode(bytes, { basePath: p('/3303/0/5700') })).toEqual([
        rec('/3303/0/5700', 22.4, 'float', now + 25462629),
        rec('/3303/0/5700', 22.9, 'float', now + 25462604),
        rec('/3303/0/5700', 24.1, 'float', now + 25462584),
      ])
    })
  })
})

describe('SenML CBOR: encoding', () => {
  it('timestamped samples of one path: bn and bt once, then integer offsets', () => {
    const records = [rec('/3303/0/5700', 21, 'integer', 1700000000), rec('/3303/0/5700', 22, 'integer', 1700000001), rec('/3303/0/5700', -3, 'integer', 1700000002)]
    const bytes = senmlCborCodec.encode(records)
    expect(bytesToHex(bytes)).toBe('83a3216c2f333330332f302f35373030221a6553f1000215a206010216a206020222')
    expect(senmlCborCodec.decode(bytes)).toEqual(records)
  })

  it('labels by type: vs, v as float64, vd as a byte string, vb, vlo as a text key', () => {
    const records = [rec('/3/0/0', 'x', 'string'), rec('/3/0/9', 2.5, 'float'), rec('/3/0/18', new Uint8Array([1, 2]), 'opaque'), rec('/3/0/21', true, 'boolean')]
    expect(bytesToHex(senmlCborCodec.encode(records))).toBe('84a321652f332f302f006130036178a200613902fb4004000000000000a20062313808420102a20062323104f5')
    expect(bytesToHex(senmlCborCodec.encode([rec('/18/0/0', { objectId: 3, instanceId: 0 }, 'objlnk')]))).toBe('81a221672f31382f302f3063766c6f63333a30')
  })

  it('writes 64-bit integers as CBOR integers, and beyond as bignums', () => {
    const records = [rec('/3/0/9', 2 ** 40, 'integer'), rec('/3/0/10', 2n ** 64n - 1n, 'unsigned'), rec('/3/0/11', -(2n ** 63n), 'integer')]
    const bytes = senmlCborCodec.encode(records)
    expect(bytesToHex(bytes)).toBe(
      '83' + 'a321652f332f302f00613902' + '1b0000010000000000' + 'a20062313002' + '1bffffffffffffffff' + 'a20062313102' + '3b7fffffffffffffff',
    )
    expect(senmlCborCodec.decode(bytes, { models: modelsOf({ '3/9': 'integer', '3/10': 'unsigned', '3/11': 'integer' }) })).toEqual(records)
  })

  it('refuses values that do not fit their type', () => {
    expect(codecError(() => senmlCborCodec.encode([rec('/3/0/9', 2n ** 64n, 'unsigned')])).message).toBe(
      'SenML CBOR: record 0 (/3/0/9): 18446744073709551616 is out of range for an unsigned 64-bit unsigned',
    )
    expect(codecError(() => senmlCborCodec.encode([rec('/3/0/9', true, 'string')])).message).toBe('SenML CBOR: record 0 (/3/0/9): boolean true is not a valid string')
  })
})

describe('SenML CBOR: decoding variants', () => {
  it('accepts indefinite-length arrays and maps', () => {
    // [_ {_ 0: "/3/0/9", 2: 7}]
    expect(senmlCborCodec.decode(hex('9f bf 00 66 2f332f302f39 02 07 ff ff'))).toEqual([rec('/3/0/9', 7, 'integer')])
  })

  it('reads bignum tags and ignores unknown integer and text keys', () => {
    // [{0: "/3/0/9", 2: 2(h'010000000000000000'), 99: 1, "foo": 2}]
    expect(senmlCborCodec.decode(hex('81 a4 00 66 2f332f302f39 02 c2 49 010000000000000000 18 63 01 63 666f6f 02'))).toEqual([
      rec('/3/0/9', 2 ** 64, 'float'),
    ])
  })

  it('decodes a time given as 64-bit integers and floats', () => {
    // [{-2: "/3/0/9", -3: 1700000000.5 (float64), 2: 1}]
    expect(senmlCborCodec.decode(hex('81 a3 21 66 2f332f302f39 22 fb 41d954fc40200000 02 01'))).toEqual([rec('/3/0/9', 1, 'integer', 1700000000.5)])
    expect(senmlCborCodec.decode(hex('81 a3 21 66 2f332f302f39 22 1b 000000006553f100 02 01'))).toEqual([rec('/3/0/9', 1, 'integer', 1700000000)])
  })
})

describe('SenML CBOR: malformed input', () => {
  const ok = '81 a2 00 66 2f332f302f39 02 07' // [{0: "/3/0/9", 2: 7}]
  const cases: [string, string, string][] = [
    ['empty', '', 'SenML CBOR: empty payload at offset 0'],
    ['truncated string', ok.slice(0, 16), 'SenML CBOR: text string length 6 exceeds remaining 2 bytes at offset 3'],
    ['truncated map', '81 a2 00 66 2f332f302f39', 'SenML CBOR: truncated: a data item is missing at offset 10'],
    ['huge map', 'b9 ffff 00', 'SenML CBOR: map of 65535 pairs exceeds remaining 1 bytes at offset 0'],
    ['huge array', '9b 0000000100000000 00', 'SenML CBOR: array of 4294967296 items exceeds remaining 1 bytes at offset 0'],
    ['huge byte string', '81 a2 00 66 2f332f302f39 08 5a ffffffff 00', 'SenML CBOR: byte string length 4294967295 exceeds remaining 1 bytes at offset 11'],
    ['huge 64-bit text length', '7b ffffffffffffffff', 'SenML CBOR: text string length 18446744073709552000 exceeds remaining 0 bytes at offset 0'],
    ['truncated argument', '81 a2 00 66 2f332f302f39 02 1a 0001', 'SenML CBOR: truncated: 4-byte argument needs 4 bytes, 2 left at offset 11'],
    ['reserved additional information', '1c', 'SenML CBOR: reserved additional information 28 at offset 0'],
    ['invalid UTF-8', '81 a2 00 66 2f332f302fff 02 07', 'SenML CBOR: text string is not valid UTF-8 at offset 3'],
    ['deep nesting', '81'.repeat(40) + '00', 'SenML CBOR: nesting deeper than 16 levels at offset 17'],
    ['trailing bytes', ok + '00', 'SenML CBOR: 1 bytes left after the CBOR data item at offset 12'],
    ['unsupported tag (cbor-x record extension)', 'd9 dfff 82 00 00', 'SenML CBOR: unsupported tag 57343 at offset 0'],
    ['bignum tag on a non-byte-string', '81 a2 00 66 2f332f302f39 02 c2 01', 'SenML CBOR: tag 2 wraps the wrong kind of item at offset 11'],
    ['indefinite string', '7f 61 61 ff', 'SenML CBOR: indefinite-length strings are not supported at offset 0'],
    ['stray break', '81 ff', 'SenML CBOR: unexpected break code at offset 1'],
    ['map with a dangling key', 'bf 00 ff', 'SenML CBOR: indefinite-length map ends after a key without its value at offset 2'],
    ['unterminated indefinite array', '9f 00', 'SenML CBOR: truncated: indefinite-length array has no break code at offset 0'],
    ['simple value', '81 e0', 'SenML CBOR: unsupported simple value 0 at offset 1'],
    ['not an array', 'a2 00 66 2f332f302f39 02 07', 'SenML CBOR: expected a CBOR array of SenML records'],
    ['record not a map', '81 82 00 01', 'SenML CBOR: record 0 is not a CBOR map'],
    ['must-understand text key', '81 a3 00 66 2f332f302f39 02 07 64 6e65775f 01', 'SenML CBOR: record 0: unknown must-understand label "new_"'],
    ['vd not bytes', '81 a2 00 66 2f332f302f39 08 61 41', 'SenML CBOR: record 0: "vd" must be a byte string, got string'],
    ['n not text', '81 a2 00 01 02 07', 'SenML CBOR: record 0: "n" must be a string, got number'],
    ['no value', '81 a1 00 66 2f332f302f39', 'SenML CBOR: record 0 (/3/0/9): no value (one of v, vs, vb, vd, vlo)'],
    ['two values', '81 a3 00 66 2f332f302f39 02 07 04 f5', 'SenML CBOR: record 0 (/3/0/9): 2 values (v, vb); exactly one is allowed'],
    ['name not a path', '81 a2 00 63 2f2f33 02 07', 'SenML CBOR: record 0 (//3): name "//3" is not an LwM2M path'],
    ['NaN time', '81 a3 00 66 2f332f302f39 06 f9 7e00 02 07', 'SenML CBOR: record 0 (/3/0/9): time is not a finite number'],
  ]
  it.each(cases)('%s', (_name, payload, message) => {
    const error = codecError(() => senmlCborCodec.decode(hex(payload)))
    expect(error.message.startsWith(message), error.message).toBe(true)
  })
})

describe('SenML CBOR: property round trip', () => {
  const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => (n >= -(2n ** 53n) && n <= 2n ** 53n ? Number(n) : n))
  const values: ValueArbitraries = {
    string: fc.string({ unit: 'binary', maxLength: 20 }),
    integer: fc.oneof(int64, fc.integer({ min: -70000, max: 70000 })),
    unsigned: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => (n <= 2n ** 53n ? Number(n) : n)),
    float: fc.double().map((d) => (Object.is(d, -0) ? 0 : d)),
    opaque: fc.uint8Array({ maxLength: 20 }),
  }
  const models = SENML_MODELS

  it('decode(encode(records)) gives the records back', () => {
    fc.assert(
      fc.property(senmlPackArbitrary(values, 2 ** 40), (records) => {
        expect(senmlCborCodec.decode(senmlCborCodec.encode(records, { models }), { models })).toEqual(records)
      }),
      { numRuns: 500 },
    )
  })
})
