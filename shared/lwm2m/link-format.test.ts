import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { codecError } from './fixtures.test-helper.ts'
import {
  formatAttributesQuery,
  formatLinks,
  parseAttributesQuery,
  parseDiscoverLinks,
  parseLinks,
  parseLinksBytes,
  parseRegistrationLinks,
  type Link,
} from './link-format.ts'
import { parsePath } from './path.ts'

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

const WAKAAMA = '</>;rt="oma.lwm2m";ct=110,</1>;ver=1.1,</1/0>,</3/0>,</4/0>,</5>'
const ANJAY = '</1>;ver=1.1,</1/1>,</3>;ver=1.2,</3/0>,</3303/0>'
const LESHAN_ALTERNATE_PATH = '</lwm2m>;rt="oma.lwm2m",</lwm2m/1/0>,</lwm2m/3/0>'

describe('link format: parseLinks', () => {
  it('parses the registration payload of Wakaama', () => {
    expect(parseLinks(WAKAAMA)).toEqual([
      { uri: '/', params: { rt: 'oma.lwm2m', ct: '110' } },
      { uri: '/1', params: { ver: '1.1' } },
      { uri: '/1/0', params: {} },
      { uri: '/3/0', params: {} },
      { uri: '/4/0', params: {} },
      { uri: '/5', params: {} },
    ])
  })

  it('keeps commas and semicolons inside quotes, and unescapes quoted pairs', () => {
    expect(parseLinks('</1/0>;title="a, b;c";rt="x \\"y\\" \\\\z",</3/0>')).toEqual([
      { uri: '/1/0', params: { title: 'a, b;c', rt: 'x "y" \\z' } },
      { uri: '/3/0', params: {} },
    ])
  })

  it('reads parameters without a value, repeated parameters, and RFC 5987 names', () => {
    expect(parseLinks('</3/0/1>;obs;rt=a;rt="b";if=x;title*=UTF-8\'\'%E2%82%AC')).toEqual([
      { uri: '/3/0/1', params: { obs: true, rt: ['a', 'b'], if: 'x', 'title*': "UTF-8''%E2%82%AC" } },
    ])
    expect(parseLinks('</a>;x;x=1')).toEqual([{ uri: '/a', params: { x: ['', '1'] } }])
  })

  it('tolerates whitespace and newlines between links, and empty payloads', () => {
    expect(parseLinks('')).toEqual([])
    expect(parseLinks(' \r\n\t')).toEqual([])
    expect(parseLinks('\n</1/0> ; ver=1.1 ,\r\n  </3/0>\n')).toEqual([
      { uri: '/1/0', params: { ver: '1.1' } },
      { uri: '/3/0', params: {} },
    ])
  })

  it('keeps a parameter named like an Object.prototype member as plain data', () => {
    const [link] = parseLinks('</a>;__proto__=x;constructor;toString=1;toString=2')
    expect(Object.getPrototypeOf(link?.params)).toBe(Object.prototype)
    expect(Object.entries(link?.params ?? {})).toEqual([
      ['__proto__', 'x'],
      ['constructor', true],
      ['toString', ['1', '2']],
    ])
  })

  it('rejects malformed links with the offset of the cause', () => {
    const cases: [string, string][] = [
      ['</1', 'unterminated "<": no ">" closes the link target at offset 0'],
      ['</1>,</2', 'unterminated "<": no ">" closes the link target at offset 5'],
      ['/1>', 'expected "<" to start a link, found "/" at offset 0'],
      ['</1>;rt="oma', 'unterminated quoted value of parameter "rt" at offset 8'],
      ['</1>;rt="oma\\', 'unterminated quoted value of parameter "rt" at offset 8'],
      ['</1>;=5', 'expected a parameter name after ";", found "=" at offset 5'],
      ['</1>;', 'expected a parameter name after ";", found end of input at offset 5'],
      ['</1>;a(b=1', 'expected "," or ";" after link </1>, found "(" at offset 6'],
      ['</1>;ct=', 'parameter "ct" has no value after "=", found end of input at offset 8'],
      ['</1>;ct=,</2>', 'parameter "ct" has no value after "=", found "," at offset 8'],
      ['</1> x', 'expected "," or ";" after link </1>, found "x" at offset 5'],
      ['</1>,', 'expected a link after "," at offset 5'],
      ['</1>,,</2>', 'expected "<" to start a link, found "," at offset 5'],
      ['</a b>', 'invalid character " " in link target at offset 3'],
      ['</a"b>', 'invalid character "\\"" in link target at offset 3'],
    ]
    for (const [text, message] of cases) expect(codecError(() => parseLinks(text)).message, text).toBe(`Link format: ${message}`)
  })

  it('decodes bytes as strict UTF-8, with offsets in bytes', () => {
    expect(parseLinksBytes(utf8('</é>;title="ü"'))).toEqual([{ uri: '/é', params: { title: 'ü' } }])
    expect(codecError(() => parseLinksBytes(new Uint8Array([0x3c, 0x2f, 0xc0, 0xaf, 0x3e]))).message).toBe('Link format: invalid UTF-8 at offset 2')
    const e = codecError(() => parseLinksBytes(utf8('</é>;a="x')))
    expect(e.message).toBe('Link format: unterminated quoted value of parameter "a" at offset 8')
    expect(e.offset).toBe(8)
  })
})

describe('link format: formatLinks', () => {
  it('writes links the way Wakaama and Leshan do', () => {
    expect(formatLinks(parseLinks(WAKAAMA))).toBe(WAKAAMA)
    expect(formatLinks(parseLinks(ANJAY))).toBe(ANJAY)
    expect(formatLinks(parseLinks(LESHAN_ALTERNATE_PATH))).toBe(LESHAN_ALTERNATE_PATH)
    expect(
      formatLinks([
        { uri: '/', params: { rt: 'oma.lwm2m', ct: '60 110' } },
        { uri: '/3/0/1', params: { obs: true, title: 'a "b"', ext: ['1', 'x\\y'], sz: '' } },
      ]),
    ).toBe('</>;rt="oma.lwm2m";ct="60 110",</3/0/1>;obs;title="a \\"b\\"";ext=1;ext="x\\\\y";sz=""')
    expect(formatLinks([])).toBe('')
  })

  it('refuses targets and names a link cannot carry', () => {
    expect(codecError(() => formatLinks([{ uri: '/a>b', params: {} }])).message).toBe('Link format: link target "/a>b" has a character a link cannot carry')
    expect(codecError(() => formatLinks([{ uri: '/a', params: { 'a b': true } }])).message).toBe('Link format: parameter name "a b" of </a> is not a valid name')
    expect(codecError(() => formatLinks([{ uri: '/a', params: { '': true } }])).message).toBe('Link format: parameter name "" of </a> is not a valid name')
  })

  it('round trips any links', () => {
    const uriArb = fc.stringMatching(/^\/[A-Za-z0-9._~/%?=&:@!$'()*+-]{0,20}$/)
    const nameArb = fc.stringMatching(/^[A-Za-z0-9!#$&+.^_`|~-]{1,8}\*?$/)
    const valueArb = fc.oneof(
      fc.constant(true as const),
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.array(fc.string({ unit: 'grapheme', maxLength: 6 }), { minLength: 2, maxLength: 3 }),
    )
    const linkArb: fc.Arbitrary<Link> = fc.record({ uri: uriArb, params: fc.dictionary(nameArb, valueArb, { maxKeys: 4 }) })
    fc.assert(
      fc.property(fc.array(linkArb, { maxLength: 6 }), (links) => {
        const text = formatLinks(links)
        expect(parseLinks(text)).toEqual(links)
        expect(parseLinksBytes(utf8(text))).toEqual(links)
      }),
      { numRuns: 500 },
    )
  })
})

describe('link format: registration payloads', () => {
  it('reads Wakaama: rt="oma.lwm2m", ct=110, versions and an object without instances', () => {
    expect(parseRegistrationLinks(WAKAAMA)).toEqual({
      rootPath: '/',
      contentFormats: [110],
      objects: [
        { objectId: 1, version: '1.1', instances: [0] },
        { objectId: 3, instances: [0] },
        { objectId: 4, instances: [0] },
        { objectId: 5, instances: [] },
      ],
      links: parseLinks(WAKAAMA),
    })
  })

  it('reads Anjay: no root link, versions on object links', () => {
    const registration = parseRegistrationLinks(ANJAY)
    expect(registration.rootPath).toBe('/')
    expect(registration.contentFormats).toEqual([])
    expect(registration.objects).toEqual([
      { objectId: 1, version: '1.1', instances: [1] },
      { objectId: 3, version: '1.2', instances: [0] },
      { objectId: 3303, instances: [0] },
    ])
  })

  it('reads the Leshan client with an alternate path, and keeps links outside it out of the objects', () => {
    expect(parseRegistrationLinks(LESHAN_ALTERNATE_PATH)).toMatchObject({
      rootPath: '/lwm2m',
      contentFormats: [],
      objects: [
        { objectId: 1, instances: [0] },
        { objectId: 3, instances: [0] },
      ],
    })
    const mixed = parseRegistrationLinks('</lwm2m/>;rt="oma.lwm2m";ct="60 110 112",</lwm2m/3/0>,</3/1>,</foo>,</lwm2mx/4/0>')
    expect(mixed.rootPath).toBe('/lwm2m')
    expect(mixed.contentFormats).toEqual([60, 110, 112])
    expect(mixed.objects).toEqual([{ objectId: 3, instances: [0] }])
    expect(mixed.links.map((l) => l.uri)).toEqual(['/lwm2m/', '/lwm2m/3/0', '/3/1', '/foo', '/lwm2mx/4/0'])
  })

  it('sorts objects and instances and drops duplicates', () => {
    expect(parseRegistrationLinks('</3303/1>,</3/1>,</3303/0>,</3/0>,</1/0>,</3/1>,</3>,</foo/1>,</>').objects).toEqual([
      { objectId: 1, instances: [0] },
      { objectId: 3, instances: [0, 1] },
      { objectId: 3303, instances: [0, 1] },
    ])
  })

  it('stays fast with many instances and content formats', () => {
    const instances = Array.from({ length: 60_000 }, (_, i) => `</3/${59_999 - i}>`).join(',')
    const registration = parseRegistrationLinks(`</>;ct="${Array.from({ length: 60_000 }, (_, i) => i).join(' ')}",${instances}`)
    expect(registration.contentFormats.length).toBe(60_000)
    expect(registration.objects[0]?.instances.slice(0, 3)).toEqual([0, 1, 2])
    expect(registration.objects[0]?.instances.length).toBe(60_000)
  })

  it('reads ct from a </> link without rt, and accepts a version on an instance link', () => {
    const registration = parseRegistrationLinks('</>;ct=110;ct=112,</3/0>;ver=1.2')
    expect(registration.contentFormats).toEqual([110, 112])
    expect(registration.objects).toEqual([{ objectId: 3, version: '1.2', instances: [0] }])
  })

  it('rejects ids, versions and content formats that are not valid', () => {
    const cases: [string, string][] = [
      ['</70000/0>', 'object id 70000 in </70000/0> is out of range 0-65534'],
      ['</65535>', 'object id 65535 in </65535> is out of range 0-65534'],
      ['</3/0x>', 'instance id "0x" in </3/0x> is not a decimal id'],
      ['</03/0>', 'object id "03" in </03/0> is not a decimal id'],
      ['</3/0/1>', 'registration link </3/0/1> names a resource; only objects and object instances are registered'],
      ['</1>;ver=1', 'ver of </1> is "1", not of the form major.minor'],
      ['</1>;ver', 'ver of </1> is without a value, not of the form major.minor'],
      ['</1>;ver=1.0;ver=1.1', 'ver of </1> is repeated ("1.0", "1.1"), not of the form major.minor'],
      ['</1>;ver=1.0,</1/0>;ver=1.1', 'object 1 is given two versions, 1.0 and 1.1'],
      ['</>;ct="60 abc"', 'content format "abc" in ct= of </> is not a number 0-65535'],
      ['</>;rt="oma.lwm2m";ct=70000', 'content format "70000" in ct= of </> is not a number 0-65535'],
      ['<lwm2m>;rt="oma.lwm2m"', 'alternate path <lwm2m> of rt="oma.lwm2m" does not start with "/"'],
      ['</1', 'unterminated "<": no ">" closes the link target at offset 0'],
    ]
    for (const [text, message] of cases) expect(codecError(() => parseRegistrationLinks(text)).message, text).toBe(`Link format: ${message}`)
  })

  it('reads back any object list it formats', () => {
    const objectArb = fc.record({
      objectId: fc.integer({ min: 0, max: 65534 }),
      version: fc.option(fc.tuple(fc.nat(20), fc.nat(20)).map(([a, b]) => `${a}.${b}`), { nil: undefined }),
      instances: fc.uniqueArray(fc.integer({ min: 0, max: 65534 }), { maxLength: 4 }),
    })
    fc.assert(
      fc.property(fc.uniqueArray(objectArb, { selector: (o) => o.objectId, maxLength: 8 }), fc.constantFrom('/', '/lwm2m', '/a/b'), (objects, root) => {
        const prefix = root === '/' ? '' : root
        const links: Link[] = [{ uri: root, params: { rt: 'oma.lwm2m', ct: '60 110' } }]
        for (const o of objects) {
          links.push({ uri: `${prefix}/${o.objectId}`, params: o.version === undefined ? {} : { ver: o.version } })
          for (const i of o.instances) links.push({ uri: `${prefix}/${o.objectId}/${i}`, params: {} })
        }
        const registration = parseRegistrationLinks(formatLinks(links))
        expect(registration.rootPath).toBe(root)
        expect(registration.contentFormats).toEqual([60, 110])
        const expected = [...objects]
          .sort((a, b) => a.objectId - b.objectId)
          .map((o) => ({ objectId: o.objectId, ...(o.version === undefined ? {} : { version: o.version }), instances: [...o.instances].sort((a, b) => a - b) }))
        expect(registration.objects).toEqual(expected)
      }),
      { numRuns: 300 },
    )
  })
})

describe('link format: Discover answers', () => {
  it('reads the Discover example of the TS', () => {
    const answer = '</3/0>;pmin=10;pmax=60,</3/0/1>,</3/0/2>,</3/0/3>,</3/0/4>,</3/0/6>;dim=8,</3/0/7>;dim=8;gt=50;lt=42.2,</3/0/8>;st=0.5;epmin=1;epmax=300'
    expect(parseDiscoverLinks(answer)).toEqual([
      { path: parsePath('/3/0'), attributes: { pmin: 10, pmax: 60 } },
      { path: parsePath('/3/0/1'), attributes: {} },
      { path: parsePath('/3/0/2'), attributes: {} },
      { path: parsePath('/3/0/3'), attributes: {} },
      { path: parsePath('/3/0/4'), attributes: {} },
      { path: parsePath('/3/0/6'), attributes: { dim: 8 } },
      { path: parsePath('/3/0/7'), attributes: { dim: 8, gt: 50, lt: 42.2 } },
      { path: parsePath('/3/0/8'), attributes: { st: 0.5, epmin: 1, epmax: 300 } },
    ])
  })

  it('reads object versions, gateway prefixes and negative thresholds; ignores other parameters', () => {
    expect(parseDiscoverLinks('</3>;ver=1.2,</dev0/3303/0/5700>;gt=-10.5;lt=-2e1;obs;con=1')).toEqual([
      { path: parsePath('/3'), attributes: { ver: '1.2' } },
      { path: parsePath('/dev0/3303/0/5700'), attributes: { gt: -10.5, lt: -20 } },
    ])
    expect(parseDiscoverLinks('')).toEqual([])
  })

  it('parses numbers strictly', () => {
    const cases: [string, string][] = [
      ['</3/0>;pmin=-1', 'attribute pmin of </3/0> is "-1", not a non-negative integer'],
      ['</3/0>;pmax=1.5', 'attribute pmax of </3/0> is "1.5", not a non-negative integer'],
      ['</3/0/6>;dim=x', 'attribute dim of </3/0/6> is "x", not a non-negative integer'],
      ['</3/0>;epmax=99999999999999999', 'attribute epmax of </3/0> is "99999999999999999", not a non-negative integer'],
      ['</3/0/7>;gt=abc', 'attribute gt of </3/0/7> is "abc", not a decimal number'],
      ['</3/0/7>;lt=1e999', 'attribute lt of </3/0/7> is "1e999", not a decimal number'],
      ['</3/0/7>;st=-1', 'attribute st of </3/0/7> is -1; a step cannot be negative'],
      ['</3/0>;pmin', 'attribute pmin of </3/0> is without a value'],
      ['</3/0>;pmin=1;pmin=2', 'attribute pmin of </3/0> is repeated ("1", "2")'],
      ['</3>;ver=v1', 'ver of </3> is "v1", not of the form major.minor'],
      ['</foo/bar>', 'link </foo/bar> is not an LwM2M path: object id "bar" in "/foo/bar" is not a decimal id'],
    ]
    for (const [text, message] of cases) expect(codecError(() => parseDiscoverLinks(text)).message, text).toBe(`Link format: ${message}`)
  })
})

describe('link format: Write-Attributes queries', () => {
  it('formats attributes in a fixed order, null meaning "unset"', () => {
    expect(formatAttributesQuery({ gt: 5.5, pmax: 60, pmin: 10 })).toBe('pmin=10&pmax=60&gt=5.5')
    expect(formatAttributesQuery({ pmin: null, st: 0.5, lt: -1, epmin: 0, epmax: null })).toBe('pmin&lt=-1&st=0.5&epmin=0&epmax')
    expect(formatAttributesQuery({})).toBe('')
  })

  it('parses Uri-Query options or a query string', () => {
    expect(parseAttributesQuery('pmin=10&pmax=60&gt=5.5')).toEqual({ pmin: 10, pmax: 60, gt: 5.5 })
    expect(parseAttributesQuery(['pmin', 'st=0.5', 'lt=-3e2'])).toEqual({ pmin: null, st: 0.5, lt: -300 })
    expect(parseAttributesQuery('')).toEqual({})
    expect(parseAttributesQuery([])).toEqual({})
  })

  it('rejects unknown, repeated and malformed attributes', () => {
    expect(codecError(() => parseAttributesQuery('pmin=10&foo=1')).message).toBe('Link format: unknown attribute "foo" in the query')
    expect(codecError(() => parseAttributesQuery('pmin=10&pmin')).message).toBe('Link format: attribute pmin is given twice in the query')
    expect(codecError(() => parseAttributesQuery('pmin=1.5')).message).toBe('Link format: attribute pmin is "1.5", not a non-negative integer')
    expect(codecError(() => parseAttributesQuery('pmin=')).message).toBe('Link format: attribute pmin is "", not a non-negative integer')
    expect(codecError(() => parseAttributesQuery('gt=abc')).message).toBe('Link format: attribute gt is "abc", not a decimal number')
    expect(codecError(() => parseAttributesQuery('st=-1')).message).toBe('Link format: attribute st is -1; a step cannot be negative')
    expect(codecError(() => formatAttributesQuery({ pmin: -1 })).message).toBe('Link format: attribute pmin cannot be -1; it takes a non-negative integer')
    expect(codecError(() => formatAttributesQuery({ gt: NaN })).message).toBe('Link format: attribute gt cannot be NaN; it takes a finite number')
    expect(codecError(() => formatAttributesQuery({ st: -0.5 })).message).toBe('Link format: attribute st cannot be -0.5; it takes a non-negative number')
  })

  it('round trips', () => {
    const intArb = fc.option(fc.nat(), { nil: undefined }).chain((v) => (v === undefined ? fc.constant(undefined) : fc.constantFrom(v, null)))
    const floatArb = (min?: number) =>
      fc.option(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, ...(min === undefined ? {} : { min }) }), fc.constant(null)), { nil: undefined })
    const attrsArb = fc.record({ pmin: intArb, pmax: intArb, gt: floatArb(), lt: floatArb(), st: floatArb(0), epmin: intArb, epmax: intArb }).map((a) =>
      Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)),
    )
    fc.assert(
      fc.property(attrsArb, (attrs) => {
        // -0 is written as "0": a device has no use for the sign of zero.
        const expected = Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, Object.is(v, -0) ? 0 : v]))
        expect(parseAttributesQuery(formatAttributesQuery(attrs))).toEqual(expected)
      }),
      { numRuns: 500 },
    )
  })
})
