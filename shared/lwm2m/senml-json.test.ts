import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { BUILTIN_MODELS, codecError, DEVICE_RECORDS, modelsOf, rec, SENML_MODELS, senmlPackArbitrary, type ValueArbitraries } from './fixtures.test-helper.ts'
import { parsePath } from './path.ts'
import { senmlJsonCodec } from './senml-json.ts'

const te = new TextEncoder()
const td = new TextDecoder()
const json = (text: string): Uint8Array => te.encode(text)
const p = parsePath

// LwM2M TS 1.1 §7.4.4: Read /3/0 of the Device object in SenML JSON.
const DEVICE_JSON =
  '[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"1","vs":"Lightweight M2M Client"},' +
  '{"n":"2","vs":"345000123"},{"n":"3","vs":"1.0"},{"n":"6/0","v":1},{"n":"6/1","v":5},' +
  '{"n":"7/0","v":3800},{"n":"7/1","v":5000},{"n":"8/0","v":125},{"n":"8/1","v":900},' +
  '{"n":"9","v":100},{"n":"10","v":15},{"n":"11/0","v":0},{"n":"13","v":1367491215},' +
  '{"n":"14","vs":"+02:00"},{"n":"16","vs":"U"}]'

describe('SenML JSON: TS appendix examples and real devices', () => {
  it('decodes the Device object /3/0 (Wakaama layout) with models', () => {
    expect(senmlJsonCodec.decode(json(DEVICE_JSON), { basePath: p('/3/0'), models: BUILTIN_MODELS })).toEqual(DEVICE_RECORDS)
  })

  it('encodes the Device object /3/0 to exactly the TS example', () => {
    expect(td.decode(senmlJsonCodec.encode(DEVICE_RECORDS, { basePath: p('/3/0') }))).toBe(DEVICE_JSON)
  })

  it('decodes Anjay-style full names in bn, one record each', () => {
    const anjay =
      '[{"bn":"/3/0/0","vs":"AVSystem"},{"bn":"/3/0/1","vs":"Anjay client"},{"bn":"/3/0/9","v":87},' +
      '{"bn":"/3/0/6/0","v":1},{"bn":"/3/0/13","v":1700000000}]'
    expect(senmlJsonCodec.decode(json(anjay), { basePath: p('/3/0'), models: BUILTIN_MODELS })).toEqual([
      rec('/3/0/0', 'AVSystem', 'string'),
      rec('/3/0/1', 'Anjay client', 'string'),
      rec('/3/0/9', 87, 'integer'),
      rec('/3/0/6/0', 1, 'integer'),
      rec('/3/0/13', 1700000000, 'time'),
    ])
  })

  it('decodes without models: whole numbers are integers, others floats', () => {
    expect(senmlJsonCodec.decode(json('[{"n":"/3303/0/5700","v":21},{"n":"/3303/0/5701","v":21.5},{"n":"/3303/0/5750","vs":"Cel"}]'))).toEqual([
      rec('/3303/0/5700', 21, 'integer'),
      rec('/3303/0/5701', 21.5, 'float'),
      rec('/3303/0/5750', 'Cel', 'string'),
    ])
  })

  describe('multiple timestamped values (TS §7.4.4 notification)', () => {
    beforeEach(() => {
      vi.useFakeTimers()
      vi.setSystemTime(new Date('2024-01-01T00:00:00Z'))
    })
    afterEach(() => {
      vi.useRealTimers()
    })

    it('keeps every sample; bt + t below 2^28 counts from now', () => {
      const now = Date.parse('2024-01-01T00:00:00Z') / 1000
      const payload = '[{"bn":"/3303/0/5700","bt":25462634,"v":22.4,"t":-5},{"v":22.9,"t":-30},{"v":24.1,"t":-50}]'
      expect(senmlJsonCodec.decode(json(payload), { basePath: p('/3303/0/5700') })).toEqual([
        rec('/3303/0/5700', 22.4, 'float', now + 25462629),
        rec('/3303/0/5700', 22.9, 'float', now + 25462604),
        rec('/3303/0/5700', 24.1, 'float', now + 25462584),
      ])
    })

    it('a bare t of 0 or a small t means "now" plus that offset', () => {
      const now = Date.parse('2024-01-01T00:00:00Z') / 1000
      expect(senmlJsonCodec.decode(json('[{"n":"/1/0/1","v":5,"t":0},{"n":"/1/0/1","v":6,"t":-10}]'))).toEqual([
        rec('/1/0/1', 5, 'integer', now),
        rec('/1/0/1', 6, 'integer', now - 10),
      ])
    })
  })

  it('absolute times: bt persists; records without bt or t have no time', () => {
    const payload = '[{"n":"/3/0/9","v":1},{"bn":"/3303/0/5700","bt":1700000000,"v":1},{"t":0.5,"v":2},{"v":3}]'
    expect(senmlJsonCodec.decode(json(payload))).toEqual([
      rec('/3/0/9', 1, 'integer'),
      rec('/3303/0/5700', 1, 'integer', 1700000000),
      rec('/3303/0/5700', 2, 'integer', 1700000000.5),
      rec('/3303/0/5700', 3, 'integer', 1700000000),
    ])
  })

  it('all value labels: vb, vd (base64url and padded base64), vlo, and gateway prefixes', () => {
    const payload =
      '[{"bn":"/dev0/3/0/","n":"21","vb":true},{"n":"18","vd":"AQL-_w"},{"n":"19","vd":"AQL+/w=="},{"n":"20","vlo":"3:0"},{"n":"22","vs":"</1/0>"}]'
    const models = modelsOf({ '3/20': 'objlnk', '3/22': 'corelnk' })
    expect(senmlJsonCodec.decode(json(payload), { models })).toEqual([
      rec('/dev0/3/0/21', true, 'boolean'),
      rec('/dev0/3/0/18', new Uint8Array([1, 2, 0xfe, 0xff]), 'opaque'),
      rec('/dev0/3/0/19', new Uint8Array([1, 2, 0xfe, 0xff]), 'opaque'),
      rec('/dev0/3/0/20', { objectId: 3, instanceId: 0 }, 'objlnk'),
      rec('/dev0/3/0/22', '</1/0>', 'corelnk'),
    ])
  })

  it('ignores units, sums and unknown labels; honours bv; accepts bver 10', () => {
    const payload = '[{"bver":10,"bn":"/3303/0/","n":"5700","u":"Cel","s":3,"foo":1,"bu":"x","bv":20,"v":1.5}]'
    expect(senmlJsonCodec.decode(json(payload))).toEqual([rec('/3303/0/5700', 21.5, 'float')])
  })

  it('keeps integers beyond 2^53 exact', () => {
    expect(senmlJsonCodec.decode(json('[{"n":"/3/0/9","v":9007199254740993}]'))).toEqual([rec('/3/0/9', 9007199254740993n, 'integer')])
    expect(senmlJsonCodec.decode(json('[{"n":"/3/0/9","v":18446744073709551615}]'))).toEqual([rec('/3/0/9', 18446744073709551615n, 'unsigned')])
  })

  it('resolves relative names against the request path', () => {
    expect(senmlJsonCodec.decode(json('[{"bn":"3303/0/","n":"5700","v":1}]'), { basePath: p('/') })).toEqual([rec('/3303/0/5700', 1, 'integer')])
  })

  it('decodes an empty pack', () => {
    expect(senmlJsonCodec.decode(json('[]'))).toEqual([])
  })
})

describe('SenML JSON: encoding', () => {
  it('25 timestamped samples of one path: bn once, bt then short offsets', () => {
    const t0 = 1700000000.25
    const samples = Array.from({ length: 25 }, (_, i) => ({ path: p('/3303/0/5700'), value: 100 + i, time: t0 + i * 0.004 }))
    const text = td.decode(senmlJsonCodec.encode(samples))
    const expected = [{ bn: '/3303/0/5700', bt: t0, v: 100 }, ...samples.slice(1).map((s, i) => ({ t: Number(((i + 1) * 0.004).toPrecision(3)), v: s.value }))]
    expect(text).toBe(JSON.stringify(expected))
    expect(senmlJsonCodec.decode(te.encode(text), { models: modelsOf({ '3303/5700': 'integer' }) })).toEqual(samples.map((s) => ({ ...s, type: 'integer' })))
  })

  it('writes absolute t when some record has no time, and full names when paths share nothing', () => {
    const records = [rec('/3/0/9', 1, 'integer', 1700000000), rec('/4/0/2', -70, 'integer')]
    expect(td.decode(senmlJsonCodec.encode(records))).toBe('[{"n":"/3/0/9","t":1700000000,"v":1},{"n":"/4/0/2","v":-70}]')
  })

  it('labels by type: vs, vb, vd (base64url, unpadded), vlo, v', () => {
    const records = [
      rec('/3/0/14', '+02:00', 'string'),
      rec('/3/0/21', false, 'boolean'),
      rec('/3/0/18', new Uint8Array([1, 2, 0xfe, 0xff]), 'opaque'),
      rec('/3/0/20', { objectId: 65535, instanceId: 65535 }, 'objlnk'),
      rec('/3/0/22', '</1>', 'corelnk'),
      rec('/3/0/23', 0.1, 'float'),
    ]
    expect(td.decode(senmlJsonCodec.encode(records))).toBe(
      '[{"bn":"/3/0/","n":"14","vs":"+02:00"},{"n":"21","vb":false},{"n":"18","vd":"AQL-_w"},{"n":"20","vlo":"65535:65535"},{"n":"22","vs":"</1>"},{"n":"23","v":0.1}]',
    )
  })

  it('types from the model when the record has none', () => {
    const bytes = senmlJsonCodec.encode([{ path: p('/3/0/20'), value: { objectId: 1, instanceId: 2 } }, { path: p('/3/0/9'), value: 3n }], {
      models: modelsOf({ '3/9': 'integer' }),
    })
    expect(td.decode(bytes)).toBe('[{"bn":"/3/0/","n":"20","vlo":"1:2"},{"n":"9","v":3}]')
  })

  it('refuses what JSON can not carry and values that do not fit their type', () => {
    expect(codecError(() => senmlJsonCodec.encode([rec('/3/0/9', 2n ** 60n, 'integer')])).message).toBe(
      'SenML JSON: record 0: integer 1152921504606846976 is beyond what SenML JSON carries exactly (2^53)',
    )
    expect(codecError(() => senmlJsonCodec.encode([rec('/3/0/9', NaN, 'float')])).message).toBe('SenML JSON: record 0: "v" NaN can not be written in JSON')
    expect(codecError(() => senmlJsonCodec.encode([rec('/3/0/9', 'x', 'integer')])).message).toBe('SenML JSON: record 0 (/3/0/9): string "x" is not a valid integer')
    expect(codecError(() => senmlJsonCodec.encode([rec('/3/0', 1, 'integer')])).message).toBe('SenML JSON: record 0 (/3/0): not a resource or resource instance path')
    expect(codecError(() => senmlJsonCodec.encode([rec('/3/0/4', 1, 'none')])).message).toBe('SenML JSON: record 0 (/3/0/4): type none carries no value')
  })
})

describe('SenML JSON: malformed input', () => {
  const cases: [string, string | Uint8Array, string][] = [
    ['truncated', DEVICE_JSON.slice(0, 40), 'SenML JSON: invalid JSON'],
    ['invalid UTF-8', new Uint8Array([0x5b, 0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d, 0x5d]), 'SenML JSON: payload is not valid UTF-8'],
    ['not an array', '{"n":"/3/0/0","vs":"x"}', 'SenML JSON: expected a JSON array of SenML records'],
    ['record not an object', '[["/3/0/0"]]', 'SenML JSON: record 0 is not a JSON object'],
    ['deep nesting', '['.repeat(100_000) + ']'.repeat(100_000), 'SenML JSON: nesting deeper than 16 levels at offset 16'],
    ['no value', '[{"n":"/3/0/0"}]', 'SenML JSON: record 0 (/3/0/0): no value (one of v, vs, vb, vd, vlo)'],
    ['two values', '[{"n":"/3/0/0","v":1,"vs":"a"}]', 'SenML JSON: record 0 (/3/0/0): 2 values (v, vs); exactly one is allowed'],
    ['name not a path', '[{"bn":"/3/0/","n":"x","v":1},{"n":"1","v":2}]', 'SenML JSON: record 0 (/3/0/x): name "/3/0/x" is not an LwM2M path'],
    ['second record bad', '[{"bn":"/3/0/","n":"9","v":1},{"n":"70000","v":2}]', 'SenML JSON: record 1 (/3/0/70000): name "/3/0/70000" is not an LwM2M path'],
    ['no name', '[{"v":1}]', 'SenML JSON: record 0: no name'],
    ['object-level name', '[{"n":"/3/0","v":1}]', 'SenML JSON: record 0 (/3/0): not a resource or resource instance path'],
    ['outside request', '[{"n":"/4/0/1","v":1}]', 'SenML JSON: record 0 (/4/0/1): outside the requested path /3/0'],
    ['must-understand label', '[{"n":"/3/0/1","v":1,"new_":2}]', 'SenML JSON: record 0: unknown must-understand label "new_"'],
    ['bver too new', '[{"bver":11,"n":"/3/0/1","v":1}]', 'SenML JSON: record 0 (/3/0/1): SenML version 11 is not supported'],
    ['vs not a string', '[{"n":"/3/0/1","vs":5}]', 'SenML JSON: record 0: "vs" must be a string, got number'],
    ['vb not a boolean', '[{"n":"/3/0/1","vb":"true"}]', 'SenML JSON: record 0: "vb" must be a boolean, got string'],
    ['t not a number', '[{"n":"/3/0/1","v":1,"t":"now"}]', 'SenML JSON: record 0: "t" must be a number, got string'],
    ['bad base64', '[{"n":"/3/0/1","vd":"AQ*C"}]', 'SenML JSON: record 0: "vd" is not base64: unexpected character at position 2'],
    ['impossible base64 length', '[{"n":"/3/0/1","vd":"AQIDB"}]', 'SenML JSON: record 0: "vd" is not base64: its length is impossible'],
    ['bad objlnk', '[{"n":"/3/0/50","vlo":"3-0"}]', 'SenML JSON: record 0 (/3/0/50): object link "3-0" is not of the form objectId:instanceId'],
    ['huge number for an integer', '[{"n":"/3/0/9","v":1e300}]', 'SenML JSON: record 0 (/3/0/9): 1e+300 is out of range for a signed 64-bit integer'],
    ['fraction for an integer', '[{"n":"/3/0/9","v":1.5}]', 'SenML JSON: record 0 (/3/0/9): number 1.5 is not a valid integer'],
    ['string for an integer', '[{"n":"/3/0/9","vs":"1"}]', 'SenML JSON: record 0 (/3/0/9): string "1" is not a valid integer'],
  ]
  it.each(cases)('%s', (_name, payload, message) => {
    const bytes = typeof payload === 'string' ? json(payload) : payload
    const error = codecError(() => senmlJsonCodec.decode(bytes, { basePath: p('/3/0'), models: BUILTIN_MODELS }))
    expect(error.message.startsWith(message)).toBe(true)
  })
})

describe('SenML JSON: property round trip', () => {
  const values: ValueArbitraries = {
    string: fc.string({ unit: 'binary', maxLength: 20 }),
    integer: fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    unsigned: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    float: fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)),
    opaque: fc.uint8Array({ maxLength: 20 }),
  }
  const models = SENML_MODELS

  it('decode(encode(records)) gives the records back', () => {
    fc.assert(
      fc.property(senmlPackArbitrary(values, 2 ** 33), (records) => {
        const decoded = senmlJsonCodec.decode(senmlJsonCodec.encode(records, { models }), { models })
        expect(decoded).toEqual(records)
      }),
      { numRuns: 500 },
    )
  })
})
