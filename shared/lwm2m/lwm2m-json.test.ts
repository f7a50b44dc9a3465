import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { DecodeOptions } from './codec.ts'
import type { CodecError } from './errors.ts'
import {
  BUILTIN_MODELS,
  codecError,
  DEVICE_RECORDS as TS_DEVICE_RECORDS,
  FULL_RANGE_VALUES,
  modelsBy,
  modelsOf,
  rec,
  valueArbitrary,
  VALUE_TYPES,
} from './fixtures.test-helper.ts'
import { lwm2mJsonCodec } from './lwm2m-json.ts'
import { makePath, parsePath } from './path.ts'
import type { Lwm2mRecord, ResourceType } from './values.ts'

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array): string => new TextDecoder().decode(b)
const p = parsePath

// The Device object, plus test resources 100-104 with the types it lacks.
const deviceModels = modelsOf({ '3/100': 'opaque', '3/101': 'objlnk', '3/102': 'boolean', '3/103': 'unsigned', '3/104': 'none' }, BUILTIN_MODELS)

// TS 1.0 §6.4.4 / TS 1.1 §7.4.5: Read of the Device object instance /3/0 in LwM2M JSON.
const DEVICE_JSON =
  '{"bn":"/3/0/","e":[' +
  '{"n":"0","sv":"Open Mobile Alliance"},{"n":"1","sv":"Lightweight M2M Client"},{"n":"2","sv":"345000123"},' +
  '{"n":"3","sv":"1.0"},{"n":"6/0","v":1},{"n":"6/1","v":5},{"n":"7/0","v":3800},{"n":"7/1","v":5000},' +
  '{"n":"8/0","v":125},{"n":"8/1","v":900},{"n":"9","v":100},{"n":"10","v":15},{"n":"11/0","v":0},' +
  '{"n":"13","v":1367491215},{"n":"14","sv":"+02:00"},{"n":"15","sv":"U"}]}'

// Unlike the other appendices, this example writes the binding "U" at /3/0/15.
const DEVICE_RECORDS: Lwm2mRecord[] = [...TS_DEVICE_RECORDS.slice(0, -1), rec('/3/0/15', 'U', 'string')]

const decodeError = (json: string | Uint8Array, options: DecodeOptions = {}): CodecError =>
  codecError(() => lwm2mJsonCodec.decode(typeof json === 'string' ? utf8(json) : json, options))

afterEach(() => {
  vi.useRealTimers()
})

describe('LwM2M JSON: the TS examples', () => {
  it('decodes the Device object /3/0', () => {
    expect(lwm2mJsonCodec.decode(utf8(DEVICE_JSON), { basePath: p('/3/0'), models: deviceModels })).toEqual(DEVICE_RECORDS)
  })

  it('encodes the Device object /3/0 byte for byte', () => {
    expect(text(lwm2mJsonCodec.encode(DEVICE_RECORDS, { basePath: p('/3/0'), models: deviceModels }))).toBe(DEVICE_JSON)
  })

  it('reads and writes object links: the /66 example of TS 1.1 §7.4.5', () => {
    const json =
      '{"bn":"/66/","e":[{"n":"0/0","sv":"myService1"},{"n":"0/1","sv":"Internet.15.234"},{"n":"0/2","ov":"67:0"},' +
      '{"n":"1/0","sv":"myService2"},{"n":"1/1","sv":"Internet.15.235"},{"n":"1/2","ov":"65535:65535"}]}'
    const records: Lwm2mRecord[] = [
      { path: p('/66/0/0'), value: 'myService1', type: 'string' },
      { path: p('/66/0/1'), value: 'Internet.15.234', type: 'string' },
      { path: p('/66/0/2'), value: { objectId: 67, instanceId: 0 }, type: 'objlnk' },
      { path: p('/66/1/0'), value: 'myService2', type: 'string' },
      { path: p('/66/1/1'), value: 'Internet.15.235', type: 'string' },
      { path: p('/66/1/2'), value: { objectId: 65535, instanceId: 65535 }, type: 'objlnk' },
    ]
    expect(lwm2mJsonCodec.decode(utf8(json), { basePath: p('/66') })).toEqual(records)
    expect(text(lwm2mJsonCodec.encode(records, { basePath: p('/66') }))).toBe(json)
  })

  it('decodes the pretty-printed form of the TS too', () => {
    const pretty = JSON.stringify(JSON.parse(DEVICE_JSON), null, 2)
    expect(lwm2mJsonCodec.decode(utf8(pretty), { basePath: p('/3/0'), models: deviceModels })).toEqual(DEVICE_RECORDS)
  })

  it('reads timestamped values: bt is the base, t is relative to it', () => {
    const json = '{"bn":"/3303/0/5700","bt":1367491215,"e":[{"v":22.4,"t":-5},{"v":22.9,"t":-30},{"v":24.1,"t":-50}]}'
    expect(lwm2mJsonCodec.decode(utf8(json), { models: deviceModels })).toEqual([
      { path: p('/3303/0/5700'), value: 22.4, type: 'float', time: 1367491210 },
      { path: p('/3303/0/5700'), value: 22.9, type: 'float', time: 1367491185 },
      { path: p('/3303/0/5700'), value: 24.1, type: 'float', time: 1367491165 },
    ])
  })

  it('reads times below 2^28 as relative to now, as SenML does (the TS example bt 25462634)', () => {
    vi.useFakeTimers()
    vi.setSystemTime(1_700_000_000_000)
    const json = '{"bn":"/3303/0/5700","bt":25462634,"e":[{"v":22.4,"t":-5},{"v":22.9,"t":-30}]}'
    expect(lwm2mJsonCodec.decode(utf8(json)).map((r) => r.time)).toEqual([1_700_000_000 + 25462629, 1_700_000_000 + 25462604])
    const relative = '{"bn":"/3303/0/5700","e":[{"v":1,"t":-5}]}'
    expect(lwm2mJsonCodec.decode(utf8(relative))[0]?.time).toBe(1_699_999_995)
  })

  it('encodes a timestamped batch at resource level the way the TS writes it', () => {
    const records: Lwm2mRecord[] = [
      { path: p('/3303/0/5700'), value: 22.4, time: 1367491210 },
      { path: p('/3303/0/5700'), value: 22.9, time: 1367491185 },
      { path: p('/3303/0/5700'), value: 24.1, time: 1367491165.25 },
    ]
    const json = text(lwm2mJsonCodec.encode(records, { basePath: p('/3303/0/5700') }))
    expect(json).toBe('{"bn":"/3303/0/5700","bt":1367491210,"e":[{"v":22.4},{"v":22.9,"t":-25},{"v":24.1,"t":-44.75}]}')
    expect(lwm2mJsonCodec.decode(utf8(json), { models: deviceModels })).toEqual(records.map((r) => ({ ...r, type: 'float' })))
  })
})

describe('LwM2M JSON: names, values and types', () => {
  it('resolves names against bn, and against the request path when bn is absent', () => {
    expect(lwm2mJsonCodec.decode(utf8('{"e":[{"n":"1","v":5}]}'), { basePath: p('/3/0') })).toEqual([{ path: p('/3/0/1'), value: 5 }])
    expect(lwm2mJsonCodec.decode(utf8('{"e":[{"v":5}]}'), { basePath: p('/3/0/9') })).toEqual([{ path: p('/3/0/9'), value: 5 }])
    expect(lwm2mJsonCodec.decode(utf8('{"e":[{"n":"/4/0/2","v":-71}]}'), { basePath: p('/3/0') })).toEqual([{ path: p('/4/0/2'), value: -71 }])
    expect(lwm2mJsonCodec.decode(utf8('{"bn":"/","e":[{"n":"3/0/6/1","v":5}]}'))).toEqual([{ path: p('/3/0/6/1'), value: 5 }])
    expect(lwm2mJsonCodec.decode(utf8('{"bn":"/3/0/6","e":[{"n":"/1","v":5}]}'))).toEqual([{ path: p('/3/0/6/1'), value: 5 }])
    // A missing or doubled "/" between bn and n is forgiven.
    expect(lwm2mJsonCodec.decode(utf8('{"bn":"/3/0","e":[{"n":"6","v":1},{"n":"/7","v":2}]}')).map((r) => r.path)).toEqual([p('/3/0/6'), p('/3/0/7')])
    expect(lwm2mJsonCodec.decode(utf8('{"bn":"/3/0/","e":[{"n":"/6","v":1}]}'))[0]?.path).toEqual(p('/3/0/6'))
  })

  it('keeps gateway prefixes (LwM2M Gateway end devices)', () => {
    const json = '{"bn":"/dev0/3/0/","e":[{"n":"0","sv":"ACME"}]}'
    expect(lwm2mJsonCodec.decode(utf8(json))).toEqual([{ path: makePath([3, 0, 0], 'dev0'), value: 'ACME', type: 'string' }])
    expect(text(lwm2mJsonCodec.encode([{ path: makePath([3, 0, 0], 'dev0'), value: 'ACME' }], { basePath: makePath([3, 0], 'dev0') }))).toBe(json)
    expect(text(lwm2mJsonCodec.encode([{ path: makePath([3, 0, 0], 'dev0'), value: 'ACME' }], { basePath: makePath([], 'dev0') }))).toBe(
      '{"bn":"/dev0/","e":[{"n":"3/0/0","sv":"ACME"}]}',
    )
  })

  it('reads sv, v, bv and ov, and uses the model for opaque, integer and float', () => {
    const json =
      '{"bn":"/3/0/","e":[{"n":"100","sv":"AQID/w=="},{"n":"101","ov":"3:0"},{"n":"102","bv":true},{"n":"5700","v":1},' +
      '{"n":"9","v":1e2},{"n":"103","v":0},{"n":"16","sv":"U"}]}'
    const models = modelsOf({ '3/5700': 'float' }, deviceModels)
    expect(lwm2mJsonCodec.decode(utf8(json), { models })).toEqual([
      { path: p('/3/0/100'), value: new Uint8Array([1, 2, 3, 255]), type: 'opaque' },
      { path: p('/3/0/101'), value: { objectId: 3, instanceId: 0 }, type: 'objlnk' },
      { path: p('/3/0/102'), value: true, type: 'boolean' },
      { path: p('/3/0/5700'), value: 1, type: 'float' },
      { path: p('/3/0/9'), value: 100, type: 'integer' },
      { path: p('/3/0/103'), value: 0, type: 'unsigned' },
      { path: p('/3/0/16'), value: 'U', type: 'string' },
    ])
  })

  it('types what the format tells when there is no model', () => {
    const json = '{"bn":"/9/0/","e":[{"n":"0","sv":"x"},{"n":"1","v":1.5},{"n":"2","bv":false},{"n":"3","ov":"65535:65535"}]}'
    expect(lwm2mJsonCodec.decode(utf8(json))).toEqual([
      { path: p('/9/0/0'), value: 'x', type: 'string' },
      { path: p('/9/0/1'), value: 1.5 },
      { path: p('/9/0/2'), value: false, type: 'boolean' },
      { path: p('/9/0/3'), value: { objectId: 65535, instanceId: 65535 }, type: 'objlnk' },
    ])
  })

  it('keeps integers beyond 2^53 exact, as bigint', () => {
    const json = '{"bn":"/3/0/","e":[{"n":"9","v":-9223372036854775808},{"n":"103","v":18446744073709551615},{"n":"10","v":9007199254740993}]}'
    expect(lwm2mJsonCodec.decode(utf8(json), { models: deviceModels }).map((r) => r.value)).toEqual([-(2n ** 63n), 2n ** 64n - 1n, 9007199254740993n])
    expect(text(lwm2mJsonCodec.encode([{ path: p('/3/0/9'), value: -(2n ** 63n) }], { basePath: p('/3/0') }))).toBe(
      '{"bn":"/3/0/","e":[{"n":"9","v":-9223372036854775808}]}',
    )
  })

  it('encodes every value type', () => {
    const records: Lwm2mRecord[] = [
      { path: p('/3/0/100'), value: new Uint8Array([1, 2, 3, 255]) },
      { path: p('/3/0/101'), value: { objectId: 3, instanceId: 0 } },
      { path: p('/3/0/102'), value: false },
      { path: p('/3/0/5700'), value: -0.5 },
      { path: p('/3/0/5701'), value: -0 },
      { path: p('/3/0/0'), value: 'quote " and \\ and é' },
    ]
    expect(text(lwm2mJsonCodec.encode(records))).toBe(
      '{"bn":"/","e":[{"n":"3/0/100","sv":"AQID/w=="},{"n":"3/0/101","ov":"3:0"},{"n":"3/0/102","bv":false},' +
        '{"n":"3/0/5700","v":-0.5},{"n":"3/0/5701","v":-0},{"n":"3/0/0","sv":"quote \\" and \\\\ and é"}]}',
    )
  })

  it('writes absolute t on each entry when some records have no time', () => {
    const records: Lwm2mRecord[] = [
      { path: p('/3/0/9'), value: 1, time: 1700000000 },
      { path: p('/3/0/10'), value: 2 },
    ]
    const json = text(lwm2mJsonCodec.encode(records, { basePath: p('/3/0') }))
    expect(json).toBe('{"bn":"/3/0/","e":[{"n":"9","v":1,"t":1700000000},{"n":"10","v":2}]}')
    expect(lwm2mJsonCodec.decode(utf8(json))).toEqual(records)
  })

  it('accepts an empty entry list', () => {
    expect(lwm2mJsonCodec.decode(utf8('{"bn":"/3/0/","e":[]}'))).toEqual([])
    expect(text(lwm2mJsonCodec.encode([], { basePath: p('/3/0') }))).toBe('{"bn":"/3/0/","e":[]}')
  })
})

describe('LwM2M JSON: malformed input', () => {
  it('wraps JSON syntax errors with their byte offset', () => {
    const e = decodeError('{"bn":"/é/","e":[{"n":"0" "v":1}]}')
    expect(e.message).toBe(`LwM2M JSON: invalid JSON: Expected ',' or '}' after property value at offset 27`)
    expect(e.offset).toBe(27)
    expect(decodeError('{"bn":"/3/0/","e":[').message).toBe('LwM2M JSON: invalid JSON: Unexpected end of JSON input at offset 19')
    expect(decodeError('').message).toBe('LwM2M JSON: invalid JSON: Unexpected end of JSON input at offset 0')
    expect(decodeError('{"bn":x}').message).toMatch(/^LwM2M JSON: invalid JSON: Unexpected token 'x'/)
  })

  it('refuses deep nesting before parsing', () => {
    const deep = '{"e":[{"n":"0","v":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}]}'
    expect(decodeError(deep).message).toBe('LwM2M JSON: JSON nesting is deeper than 16 levels at offset 32')
    // Brackets inside strings do not count.
    expect(lwm2mJsonCodec.decode(utf8(`{"e":[{"n":"0","sv":"${'[{\\"'.repeat(50)}"}]}`), { basePath: p('/3/0') })[0]?.value).toBe('[{"'.repeat(50))
  })

  it('rejects invalid UTF-8 at its offset', () => {
    const bytes = utf8('{"bn":"/3/0/","e":[{"n":"0","sv":"ab"}]}')
    bytes[35] = 0xc3
    expect(decodeError(bytes).message).toBe('LwM2M JSON: invalid UTF-8 at offset 35')
  })

  it('names the entry of a shape error', () => {
    const cases: [string, string][] = [
      ['[]', 'payload is an array, not a JSON object'],
      ['"x"', 'payload is "x", not a JSON object'],
      ['{"bn":"/3/0/"}', 'payload has no "e" array'],
      ['{"e":{}}', '"e" is an object, not an array'],
      ['{"e":[],"x":1}', 'unknown label "x" at top level'],
      ['{"bn":3,"e":[]}', '"bn" is 3, not a string'],
      ['{"bt":"1","e":[]}', '"bt" is "1", not a number'],
      ['{"bn":"/3/0/","e":[{"n":"0","sv":"a"},{"n":"1","v":1},{"n":"2","bv":true},{"n":"3"}]}', 'entry 3 has no value (sv, v, bv or ov)'],
      ['{"bn":"/3/0/","e":[{"n":"0","sv":"a","v":1}]}', 'entry 0 has more than one value ("sv" and "v")'],
      ['{"bn":"/3/0/","e":[{"n":"0","vs":"a"}]}', 'entry 0 has unknown label "vs"'],
      ['{"bn":"/3/0/","e":[null]}', 'entry 0 is null, not an object'],
      ['{"bn":"/3/0/","e":[{"n":0,"v":1}]}', 'entry 0 "n" is 0, not a string'],
      ['{"bn":"/3/0/","e":[{"n":"0","v":1,"t":"now"}]}', 'entry 0 "t" is "now", not a number'],
      ['{"bn":"/3/0/","e":[{"n":"0","v":"1"}]}', 'entry 0 (/3/0/0) "v" is "1", not a number'],
      ['{"bn":"/3/0/","e":[{"n":"0","bv":1}]}', 'entry 0 (/3/0/0) "bv" is 1, not a boolean'],
      ['{"bn":"/3/0/","e":[{"n":"0","sv":true}]}', 'entry 0 (/3/0/0) "sv" is true, not a string'],
      ['{"bn":"/3/0/","e":[{"n":"0","ov":"3"}]}', 'entry 0 (/3/0/0): object link "3" is not of the form objectId:instanceId'],
      ['{"bn":"/3/","e":[{"n":"0","v":1}]}', 'entry 0 name "/3/0" is not a resource or resource instance path'],
      ['{"bn":"/3/0/","e":[{"n":"1/2/3","v":1}]}', 'entry 0 name "/3/0/1/2/3" is not a valid path: "/3/0/1/2/3" has 5 levels; at most 4 are allowed'],
      ['{"bn":"/3/0/","e":[{"n":"70000","v":1}]}', 'entry 0 name "/3/0/70000" is not a valid path: resource id 70000 in "/3/0/70000" is out of range 0-65534'],
      ['{"bn":"3/0/","e":[{"n":"1","v":1}]}', 'entry 0 name "3/0/1" is not a valid path: "3/0/1" does not start with "/"'],
    ]
    for (const [json, reason] of cases) expect(decodeError(json).message, json).toBe(`LwM2M JSON: ${reason}`)
  })

  it('rejects values that contradict the model', () => {
    const o = { models: deviceModels }
    expect(decodeError('{"bn":"/3/0/","e":[{"n":"9","v":1.5}]}', o).message).toBe('LwM2M JSON: entry 0 (/3/0/9) value 1.5 is not an integer (the model says integer)')
    expect(decodeError('{"bn":"/3/0/","e":[{"n":"103","v":-1}]}', o).message).toBe('LwM2M JSON: entry 0 (/3/0/103) value -1 is negative (the model says unsigned)')
    expect(decodeError('{"bn":"/3/0/","e":[{"n":"9","sv":"1"}]}', o).message).toBe('LwM2M JSON: entry 0 (/3/0/9) carries "sv" but the model says integer')
    expect(decodeError('{"bn":"/3/0/","e":[{"n":"0","v":1}]}', o).message).toBe('LwM2M JSON: entry 0 (/3/0/0) carries "v" but the model says string')
    expect(decodeError('{"bn":"/3/0/","e":[{"n":"104","v":1}]}', o).message).toBe('LwM2M JSON: entry 0 (/3/0/104) carries "v" but the model says none')
    expect(decodeError('{"bn":"/3/0/","e":[{"n":"100","sv":"AQ*D"}]}', o).message).toBe(
      'LwM2M JSON: entry 0 (/3/0/100) "sv" is not valid base64: character "*" at index 2',
    )
  })

  it('refuses to encode what JSON or the path cannot carry', () => {
    const encodeError = (records: Lwm2mRecord[], basePath = p('/')): string => codecError(() => lwm2mJsonCodec.encode(records, { basePath, models: deviceModels })).message
    expect(encodeError([{ path: p('/3/0/5700'), value: NaN }])).toBe('LwM2M JSON: value NaN at /3/0/5700 cannot be written in JSON')
    expect(encodeError([{ path: p('/4/0/1'), value: 1 }], p('/3/0'))).toBe('LwM2M JSON: record path /4/0/1 is outside the request path /3/0')
    expect(encodeError([{ path: p('/3/0'), value: 1 }])).toBe('LwM2M JSON: record path /3/0 is not a resource or resource instance path')
    expect(encodeError([{ path: p('/3/0/9'), value: 'x' }])).toBe('LwM2M JSON: value at /3/0/9: string "x" is not a valid integer')
    expect(encodeError([{ path: p('/3/0/104'), value: 1 }])).toBe('LwM2M JSON: resource /3/0/104 is executable; it has no value')
  })
})

const typeOf = (resourceId: number): ResourceType => VALUE_TYPES[resourceId % VALUE_TYPES.length] as ResourceType
const propertyModels = modelsBy((_o, r) => typeOf(r))

const recordArb: fc.Arbitrary<Lwm2mRecord> = fc
  .record({
    objectId: fc.constantFrom(3, 3303, 10241),
    ids: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 40 })),
    ri: fc.option(fc.integer({ min: 0, max: 65534 }), { nil: undefined }),
    time: fc.option(fc.oneof(fc.integer({ min: 2 ** 28, max: 2 ** 32 }), fc.double({ min: 2 ** 28, max: 2 ** 33, noNaN: true })), { nil: undefined }),
  })
  .chain(({ objectId, ids: [instanceId, resourceId], ri, time }) =>
    valueArbitrary(typeOf(resourceId), FULL_RANGE_VALUES).map((value) => ({
      path: makePath(ri === undefined ? [objectId, instanceId, resourceId] : [objectId, instanceId, resourceId, ri]),
      value,
      type: typeOf(resourceId),
      ...(time === undefined ? {} : { time }),
    })),
  )

describe('LwM2M JSON: round trips', () => {
  it('decode(encode(records)) gives the records back', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 12 }), (records) => {
        const bytes = lwm2mJsonCodec.encode(records, { models: propertyModels })
        expect(lwm2mJsonCodec.decode(bytes, { models: propertyModels })).toEqual(records)
      }),
      { numRuns: 300 },
    )
  })

  it('round trips under an instance base path, with relative names', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 8 }), (all) => {
        const records = all.map((r) => ({ ...r, path: makePath([3, 0, ...[r.path.resourceId ?? 0], ...(r.path.resourceInstanceId === undefined ? [] : [r.path.resourceInstanceId])]) }))
        const basePath = p('/3/0')
        const bytes = lwm2mJsonCodec.encode(records, { basePath, models: propertyModels })
        expect(text(bytes).startsWith('{"bn":"/3/0/",')).toBe(true)
        expect(lwm2mJsonCodec.decode(bytes, { basePath, models: propertyModels })).toEqual(records)
      }),
      { numRuns: 200 },
    )
  })
})
