import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { DecodeOptions, EncodeOptions } from './codec.ts'
import type { CodecError } from './errors.ts'
import { BUILTIN_MODELS, codecError, FULL_RANGE_VALUES, TYPE_BY_RESOURCE_ID, valueArbitrary, type ValueArbitraries } from './fixtures.test-helper.ts'
import { parsePath } from './path.ts'
import { textCodec } from './text.ts'
import { RESOURCE_TYPES, type Lwm2mRecord, type ResourceType } from './values.ts'

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array): string => new TextDecoder().decode(b)
const p = parsePath

// Resource r of any object has type RESOURCE_TYPES[r]: 0 string, 1 integer, 2 unsigned, 3 float, 4 boolean, 5 opaque, 6 time, 7 objlnk, 8 corelnk, 9 none.
const models = TYPE_BY_RESOURCE_ID

function decodeAt(path: string, payload: string | Uint8Array, options: DecodeOptions = { models }): Lwm2mRecord[] {
  return textCodec.decode(typeof payload === 'string' ? utf8(payload) : payload, { ...options, basePath: p(path) })
}

const decodeError = (path: string | undefined, payload: string | Uint8Array): CodecError =>
  codecError(() => textCodec.decode(typeof payload === 'string' ? utf8(payload) : payload, path === undefined ? { models } : { basePath: p(path), models }))

const encodeError = (records: Lwm2mRecord[], options: EncodeOptions = { models }): string => codecError(() => textCodec.encode(records, options)).message

describe('text/plain: the TS examples (Device object)', () => {
  it('reads manufacturer, battery level and current time of /3/0', () => {
    expect(decodeAt('/3/0/0', 'Open Mobile Alliance', { models: BUILTIN_MODELS })).toEqual([{ path: p('/3/0/0'), value: 'Open Mobile Alliance', type: 'string' }])
    expect(decodeAt('/3/0/9', '100', { models: BUILTIN_MODELS })).toEqual([{ path: p('/3/0/9'), value: 100, type: 'integer' }])
    expect(decodeAt('/3/0/13', '1367491215', { models: BUILTIN_MODELS })).toEqual([{ path: p('/3/0/13'), value: 0x5182428f, type: 'time' }])
    expect(decodeAt('/3/0/14', '+02:00', { models: BUILTIN_MODELS })).toEqual([{ path: p('/3/0/14'), value: '+02:00', type: 'string' }])
  })

  it('writes them back byte for byte', () => {
    expect(text(textCodec.encode([{ path: p('/3/0/0'), value: 'Open Mobile Alliance' }], { models: BUILTIN_MODELS }))).toBe('Open Mobile Alliance')
    expect(text(textCodec.encode([{ path: p('/3/0/13'), value: 0x5182428f }], { basePath: p('/3/0/13'), models: BUILTIN_MODELS }))).toBe('1367491215')
  })
})

describe('text/plain: decoding by the model', () => {
  it('reads integers strictly, exact beyond 2^53 as bigint', () => {
    expect(decodeAt('/9/0/1', '-42')[0]).toEqual({ path: p('/9/0/1'), value: -42, type: 'integer' })
    expect(decodeAt('/9/0/1', '007')[0]?.value).toBe(7)
    expect(Object.is(decodeAt('/9/0/1', '-0')[0]?.value, 0)).toBe(true)
    expect(decodeAt('/9/0/1', '9223372036854775807')[0]?.value).toBe(2n ** 63n - 1n)
    expect(decodeAt('/9/0/1', '-9223372036854775808')[0]?.value).toBe(-(2n ** 63n))
    expect(decodeAt('/9/0/1', '9007199254740991')[0]?.value).toBe(Number.MAX_SAFE_INTEGER)
    expect(decodeAt('/9/0/2', '18446744073709551615')[0]).toEqual({ path: p('/9/0/2'), value: 2n ** 64n - 1n, type: 'unsigned' })
    expect(decodeAt('/9/0/6', '1700000000')[0]).toEqual({ path: p('/9/0/6'), value: 1700000000, type: 'time' })
    expect(decodeAt('/9/0/1/3', '5')[0]).toEqual({ path: p('/9/0/1/3'), value: 5, type: 'integer' })
  })

  it('reads floats, exponents included', () => {
    expect(decodeAt('/9/0/3', '22.5')[0]).toEqual({ path: p('/9/0/3'), value: 22.5, type: 'float' })
    expect(decodeAt('/9/0/3', '-1.5E-3')[0]?.value).toBe(-0.0015)
    expect(decodeAt('/9/0/3', '1e+21')[0]?.value).toBe(1e21)
    expect(decodeAt('/9/0/3', '5')[0]?.value).toBe(5)
  })

  it('reads booleans, opaque, object links and strings', () => {
    expect(decodeAt('/9/0/4', '1')[0]).toEqual({ path: p('/9/0/4'), value: true, type: 'boolean' })
    expect(decodeAt('/9/0/4', '0')[0]?.value).toBe(false)
    expect(decodeAt('/9/0/5', 'AQID/w==')[0]).toEqual({ path: p('/9/0/5'), value: new Uint8Array([1, 2, 3, 255]), type: 'opaque' })
    expect(decodeAt('/9/0/5', 'AQID_w')[0]?.value).toEqual(new Uint8Array([1, 2, 3, 255]))
    expect(decodeAt('/9/0/5', '')[0]?.value).toEqual(new Uint8Array(0))
    expect(decodeAt('/9/0/7', '3:0')[0]).toEqual({ path: p('/9/0/7'), value: { objectId: 3, instanceId: 0 }, type: 'objlnk' })
    expect(decodeAt('/9/0/8', '</3/0>,</1/0>')[0]).toEqual({ path: p('/9/0/8'), value: '</3/0>,</1/0>', type: 'corelnk' })
    expect(decodeAt('/9/0/0', '\uFEFFé 😀')[0]?.value).toBe('\uFEFFé 😀')
    expect(decodeAt('/9/0/0', '')[0]?.value).toBe('')
  })

  it('reads a string when there is no model', () => {
    expect(decodeAt('/dev0/3303/0/5700', '21.5', {})).toEqual([{ path: p('/dev0/3303/0/5700'), value: '21.5' }])
  })
})

describe('text/plain: malformed input', () => {
  it('rejects sloppy numbers and booleans with the value in the message', () => {
    const cases: [string, string, string][] = [
      ['/9/0/1', ' 1', '" 1" is not a decimal integer (the model says integer)'],
      ['/9/0/1', '1 ', '"1 " is not a decimal integer (the model says integer)'],
      ['/9/0/1', '+1', '"+1" is not a decimal integer (the model says integer)'],
      ['/9/0/1', '1.0', '"1.0" is not a decimal integer (the model says integer)'],
      ['/9/0/1', '', '"" is not a decimal integer (the model says integer)'],
      ['/9/0/1', '9223372036854775808', '"9223372036854775808" is out of range for a 64-bit signed integer'],
      ['/9/0/1', '1'.repeat(5000), `"${'1'.repeat(40)}…" is out of range for a 64-bit signed integer`],
      ['/9/0/2', '-1', '"-1" is negative (the model says unsigned)'],
      ['/9/0/2', '-0', '"-0" is negative (the model says unsigned)'],
      ['/9/0/2', '18446744073709551616', '"18446744073709551616" is out of range for a 64-bit unsigned integer'],
      ['/9/0/3', 'abc', '"abc" is not a decimal float'],
      ['/9/0/3', '', '"" is not a decimal float'],
      ['/9/0/3', '1.2.3', '"1.2.3" is not a decimal float'],
      ['/9/0/3', 'NaN', '"NaN" is not a decimal float'],
      ['/9/0/3', '.5', '".5" is not a decimal float'],
      ['/9/0/3', '1e999', '"1e999" is out of range for a 64-bit float'],
      ['/9/0/4', 'true', '"true" is not a boolean; LwM2M text/plain booleans are "0" or "1"'],
      ['/9/0/4', '2', '"2" is not a boolean; LwM2M text/plain booleans are "0" or "1"'],
      ['/9/0/7', '3', 'object link "3" is not of the form objectId:instanceId'],
      ['/9/0/7', '3:70000', 'object link "3:70000" is out of range 0-65535'],
      ['/9/0/9', '', 'resource /9/0/9 is executable; it has no value'],
    ]
    for (const [path, payload, reason] of cases) expect(decodeError(path, payload).message, payload).toBe(`Text: ${reason}`)
  })

  it('names the offset of bad base64 and invalid UTF-8', () => {
    const e = decodeError('/9/0/5', 'AQI*')
    expect(e.message).toBe('Text: opaque value is not valid base64: character "*" at index 3 at offset 3')
    expect(e.offset).toBe(3)
    expect(decodeError('/9/0/5', 'AQIDB').message).toBe('Text: opaque value is not valid base64: length 5 leaves a lone character at offset 4')
    expect(decodeError('/9/0/5', 'AQI==').message).toBe('Text: opaque value is not valid base64: padded length 5 is not a multiple of 4 at offset 3')
    expect(decodeError('/9/0/0', new Uint8Array([0x61, 0x62, 0xe2, 0x82])).message).toBe('Text: invalid UTF-8 at offset 2')
    expect(decodeError('/9/0/0', new Uint8Array([0x61, 0xed, 0xa0, 0x80])).message).toBe('Text: invalid UTF-8 at offset 1')
    expect(decodeError('/9/0/1', new Uint8Array([0x31, 0xff])).message).toBe('Text: invalid UTF-8 at offset 1')
  })

  it('needs a resource or resource instance path', () => {
    expect(decodeError('/3/0', '1').message).toBe('Text: request path /3/0 is not a resource or resource instance path; text/plain carries one value')
    expect(decodeError(undefined, '1').message).toBe('Text: request path / is not a resource or resource instance path; text/plain carries one value')
  })
})

describe('text/plain: encoding', () => {
  it('writes each type', () => {
    const enc = (path: string, value: Lwm2mRecord['value']): string => text(textCodec.encode([{ path: p(path), value }], { models }))
    expect(enc('/9/0/0', 'é')).toBe('é')
    expect(enc('/9/0/1', -(2n ** 63n))).toBe('-9223372036854775808')
    expect(enc('/9/0/1', 2 ** 60)).toBe('1152921504606846976')
    expect(enc('/9/0/2', 2n ** 64n - 1n)).toBe('18446744073709551615')
    expect(enc('/9/0/3', 0.1)).toBe('0.1')
    expect(enc('/9/0/3', 1e21)).toBe('1e+21')
    expect(enc('/9/0/3', -0)).toBe('-0')
    expect(enc('/9/0/3', 7)).toBe('7')
    expect(enc('/9/0/4', true)).toBe('1')
    expect(enc('/9/0/4', false)).toBe('0')
    expect(enc('/9/0/5', new Uint8Array([1, 2, 3, 255]))).toBe('AQID/w==')
    expect(enc('/9/0/5', new Uint8Array([0xfb, 0xff]))).toBe('+/8=')
    expect(enc('/9/0/7', { objectId: 65535, instanceId: 65535 })).toBe('65535:65535')
    // Without a model, the value's own type decides.
    expect(text(textCodec.encode([{ path: p('/10/0/10'), value: 1.25 }]))).toBe('1.25')
    expect(text(textCodec.encode([{ path: p('/10/0/10'), value: 'x', type: 'string' }]))).toBe('x')
  })

  it('refuses what text/plain cannot carry', () => {
    expect(encodeError([])).toBe('Text: text/plain carries exactly one value, not 0')
    expect(encodeError([{ path: p('/9/0/0'), value: 'a' }, { path: p('/9/0/0'), value: 'b' }])).toBe('Text: text/plain carries exactly one value, not 2')
    expect(encodeError([{ path: p('/9/0'), value: 'a' }])).toBe('Text: record path /9/0 is not a resource or resource instance path; text/plain carries one value')
    expect(encodeError([{ path: p('/9/0/0'), value: 'a' }], { basePath: p('/9/0/1'), models })).toBe('Text: record path /9/0/0 is not the request path /9/0/1')
    expect(encodeError([{ path: p('/9/0/1'), value: 1.5 }])).toBe('Text: value at /9/0/1: number 1.5 is not a valid integer')
    expect(encodeError([{ path: p('/9/0/1'), value: 2 ** 64 }])).toBe('Text: value 18446744073709551616 at /9/0/1 is out of range for integer')
    expect(encodeError([{ path: p('/9/0/3'), value: Infinity }])).toBe('Text: value Infinity at /9/0/3 has no decimal form')
    expect(encodeError([{ path: p('/9/0/9'), value: 1 }])).toBe('Text: resource /9/0/9 is executable; it has no value')
    expect(encodeError([{ path: p('/9/0/0'), value: 'a\uD800b' }])).toBe('Text: string at /9/0/0 has a lone surrogate, which UTF-8 cannot carry')
  })
})

const VALUES: ValueArbitraries = { ...FULL_RANGE_VALUES, opaque: fc.uint8Array({ maxLength: 64 }) }

describe('text/plain: round trips', () => {
  it('decode(encode(record)) gives the record back for every type', () => {
    const recordArb = fc
      .tuple(fc.integer({ min: 0, max: 8 }), fc.option(fc.integer({ min: 0, max: 65534 }), { nil: undefined }))
      .chain(([r, ri]) => {
        const type = RESOURCE_TYPES[r] as ResourceType
        return valueArbitrary(type, VALUES).map((value) => ({ path: p(ri === undefined ? `/9/1/${r}` : `/9/1/${r}/${ri}`), value, type }))
      })
    fc.assert(
      fc.property(recordArb, (record) => {
        const bytes = textCodec.encode([record], { basePath: record.path, models })
        const [decoded] = textCodec.decode(bytes, { basePath: record.path, models })
        expect(decoded).toEqual(record)
        if (typeof record.value === 'number') expect(Object.is(decoded?.value, record.value)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })
})
