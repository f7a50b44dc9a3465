import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bytesToBase64 } from './base64.ts'
import { codecError } from './fixtures.test-helper.ts'
import { parsePath } from './path.ts'
import { convertValue, decodeSenmlPack, decodeVd, encodeSenmlPack, numberType, readSenmlRecord } from './senml.ts'
import type { Lwm2mRecord } from './values.ts'

const p = parsePath

describe('decodeSenmlPack', () => {
  it('resolves the same pack from JSON objects and from CBOR maps', () => {
    const fromJson = decodeSenmlPack([{ bn: '/3/0/', n: '0', vs: 'x' }, { n: '9', v: 5 }, { n: '18', vd: 'AQI' }], 'SenML JSON')
    const fromCbor = decodeSenmlPack(
      [
        new Map<number, unknown>([
          [-2, '/3/0/'],
          [0, '0'],
          [3, 'x'],
        ]),
        new Map<number, unknown>([
          [0, '9'],
          [2, 5],
        ]),
        new Map<number, unknown>([
          [0, '18'],
          [8, new Uint8Array([1, 2])],
        ]),
      ],
      'SenML CBOR',
    )
    const expected: Lwm2mRecord[] = [
      { path: p('/3/0/0'), value: 'x', type: 'string' },
      { path: p('/3/0/9'), value: 5, type: 'integer' },
      { path: p('/3/0/18'), value: new Uint8Array([1, 2]), type: 'opaque' },
    ]
    expect(fromJson).toEqual(expected)
    expect(fromCbor).toEqual(expected)
  })

  it('bn persists until changed; a later bn replaces it', () => {
    expect(decodeSenmlPack([{ bn: '/1/0/', n: '1', v: 1 }, { n: '2', v: 2 }, { bn: '/3/0/', n: '9', v: 3 }, { n: '10', v: 4 }], 'SenML JSON').map((r) => r.path)).toEqual([
      p('/1/0/1'),
      p('/1/0/2'),
      p('/3/0/9'),
      p('/3/0/10'),
    ])
  })

  it('keeps several timestamped records of one path, in order', () => {
    const records = decodeSenmlPack([{ bn: '/3303/0/5700', bt: 1700000010, v: 1 }, { t: -10, v: 2 }, { t: 5, v: 3 }], 'SenML JSON')
    expect(records.map((r) => [r.value, r.time])).toEqual([
      [1, 1700000010],
      [2, 1700000000],
      [3, 1700000015],
    ])
  })

  it('names the record index in errors', () => {
    expect(codecError(() => decodeSenmlPack([{ n: '/3/0/1', v: 1 }, { n: '/3/0/1' }], 'SenML JSON')).message).toBe(
      'SenML JSON: record 1 (/3/0/1): no value (one of v, vs, vb, vd, vlo)',
    )
    expect(codecError(() => readSenmlRecord(5, 3, 'SenML JSON')).message).toBe('SenML JSON: record 3 is not a JSON object')
    expect(codecError(() => readSenmlRecord({ n: '/3/0/1' }, 2, 'SenML CBOR')).message).toBe('SenML CBOR: record 2 is not a CBOR map')
  })
})

describe('encodeSenmlPack', () => {
  const r = (path: string, value: Lwm2mRecord['value'], time?: number): Lwm2mRecord => (time === undefined ? { path: p(path), value } : { path: p(path), value, time })

  it('puts the shared path in bn on the first record, with a trailing slash when names differ below it', () => {
    expect(encodeSenmlPack([r('/3/0/0', 'a'), r('/3/0/6/0', 1), r('/3/0/6/1', 5)], 'SenML JSON')).toEqual([{ bn: '/3/0/', n: '0', vs: 'a' }, { n: '6/0', v: 1 }, { n: '6/1', v: 5 }])
  })

  it('one path: bn is the full name and n is omitted (Anjay style)', () => {
    expect(encodeSenmlPack([r('/3/0/9', 80)], 'SenML CBOR')).toEqual([{ bn: '/3/0/9', v: 80 }])
  })

  it('a record at the shared path itself omits n', () => {
    expect(encodeSenmlPack([r('/3/0/6', 1), r('/3/0/6/0', 2)], 'SenML JSON')).toEqual([{ bn: '/3/0/6/', v: 1 }, { n: '0', v: 2 }])
    expect(decodeSenmlPack([{ bn: '/3/0/6/', v: 1 }, { n: '0', v: 2 }], 'SenML JSON').map((x) => x.path)).toEqual([p('/3/0/6'), p('/3/0/6/0')])
  })

  it('keeps gateway prefixes in bn; paths from different end devices get full names', () => {
    expect(encodeSenmlPack([r('/dev0/3/0/0', 'a'), r('/dev0/4/0/2', -70)], 'SenML JSON')).toEqual([{ bn: '/dev0/', n: '3/0/0', vs: 'a' }, { n: '4/0/2', v: -70 }])
    expect(encodeSenmlPack([r('/dev0/3/0/0', 'a'), r('/dev1/3/0/0', 'b')], 'SenML JSON')).toEqual([{ n: '/dev0/3/0/0', vs: 'a' }, { n: '/dev1/3/0/0', vs: 'b' }])
  })

  it('bt on the first record, t as the shortest exact offset, none where equal to bt', () => {
    const t0 = 1700000000.1
    expect(encodeSenmlPack([r('/3303/0/5700', 1, t0), r('/3303/0/5700', 2, t0), r('/3303/0/5700', 3, t0 + 0.004), r('/3303/0/5700', 4, t0 - 5)], 'SenML JSON')).toEqual([
      { bn: '/3303/0/5700', bt: t0, v: 1 },
      { v: 2 },
      { t: 0.004, v: 3 },
      { t: -5, v: 4 },
    ])
  })

  it('25 timestamped int samples of one path: one small record each, times exact', () => {
    const t0 = 1712345678.123
    const samples = Array.from({ length: 25 }, (_, i) => r('/3303/0/5700', 1000 + i, t0 + i / 250))
    const pack = encodeSenmlPack(samples, 'SenML CBOR')
    expect(pack[0]).toEqual({ bn: '/3303/0/5700', bt: t0, v: 1000 })
    expect(pack.slice(1).every((rec, i) => Object.keys(rec).join() === 't,v' && rec.v === 1001 + i)).toBe(true)
    expect(pack.every((rec) => (rec.bt ?? t0) + (rec.t ?? 0) === samples[pack.indexOf(rec)]?.time)).toBe(true)
  })

  it('absolute t when a record has no time, since bt would give it one', () => {
    expect(encodeSenmlPack([r('/3/0/9', 1, 1700000000), r('/3/0/9', 2)], 'SenML JSON')).toEqual([{ bn: '/3/0/9', t: 1700000000, v: 1 }, { v: 2 }])
  })

  it('refuses non-finite times', () => {
    expect(codecError(() => encodeSenmlPack([r('/3/0/9', 1, Infinity)], 'SenML CBOR')).message).toBe('SenML CBOR: record 0 (/3/0/9): time is not a finite number')
  })

  it('an empty list gives an empty pack', () => {
    expect(encodeSenmlPack([], 'SenML JSON')).toEqual([])
  })
})

describe('convertValue and numberType', () => {
  const fail = (reason: string): never => {
    throw new Error(reason)
  }
  it('converts and range-checks', () => {
    expect(convertValue('3:4\0', 'objlnk', fail)).toEqual({ objectId: 3, instanceId: 4 })
    expect(convertValue(5n, 'float', fail)).toBe(5)
    expect(convertValue(2n ** 60n, 'integer', fail)).toBe(2n ** 60n)
    expect(convertValue(2n ** 40n, 'integer', fail)).toBe(2 ** 40)
    expect(() => convertValue(2n ** 63n, 'integer', fail)).toThrow('9223372036854775808 is out of range for a signed 64-bit integer')
    expect(() => convertValue(-1, 'unsigned', fail)).toThrow('number -1 is not a valid unsigned')
  })
  it('types numbers by what they hold', () => {
    expect([numberType(1), numberType(1.5), numberType(2n ** 63n), numberType(-(2n ** 63n)), numberType(2n ** 64n), numberType(1e300)]).toEqual([
      'integer',
      'float',
      'unsigned',
      'integer',
      'float',
      'float',
    ])
  })
})

describe('base64 for vd', () => {
  const fail = (reason: string): never => {
    throw new Error(reason)
  }
  it('writes RFC 8428 base64url without padding', () => {
    expect(bytesToBase64(new Uint8Array([]), { url: true })).toBe('')
    expect(bytesToBase64(new Uint8Array([0xfb]), { url: true })).toBe('-w')
    expect(bytesToBase64(new Uint8Array([0xfb, 0xff]), { url: true })).toBe('-_8')
    expect(bytesToBase64(new TextEncoder().encode('foobar'), { url: true })).toBe('Zm9vYmFy')
  })
  it('reads base64url and padded standard base64', () => {
    expect(decodeVd('-_8', fail)).toEqual(new Uint8Array([0xfb, 0xff]))
    expect(decodeVd('+/8=', fail)).toEqual(new Uint8Array([0xfb, 0xff]))
    expect(decodeVd('Zg==', fail)).toEqual(new Uint8Array([0x66]))
    expect(() => decodeVd('Zg=', fail)).toThrow('has wrong base64 padding')
    expect(() => decodeVd('Zm9v!A', fail)).toThrow('is not base64: unexpected character at position 4')
  })
  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(decodeVd(bytesToBase64(bytes, { url: true }), fail)).toEqual(bytes)
      }),
    )
  })
})
