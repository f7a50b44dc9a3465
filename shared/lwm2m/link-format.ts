import { CodecError, isCodecError } from './errors.ts'
import { MAX_ID, parsePath, type Lwm2mPath } from './path.ts'
import { decodeUtf8, encodeUtf8 } from './utf8.ts'

/*
 * CoRE link format (RFC 6690, content format 40) as LwM2M uses it: the Register / Update payload
 * `</>;rt="oma.lwm2m";ct=110,</1>;ver=1.1,</1/0>,</3/0>`, Discover answers `</3/0>;pmin=10,</3/0/1>`, and the
 * attributes of Write-Attributes queries (`pmin=10&pmax=60&gt=5.5`).
 */

const CODEC = 'Link format'

/** A parameter without a value (`obs`) is `true`; a repeated parameter collects its values in order. */
export type LinkParamValue = string | true | string[]

export interface Link {
  uri: string
  params: Record<string, LinkParamValue>
}

function fail(reason: string, offset?: number): never {
  throw new CodecError(CODEC, reason, offset)
}

function charTable(chars: string): Uint8Array {
  const table = new Uint8Array(128)
  for (let c = 0x30; c <= 0x39; c++) table[c] = 1
  for (let c = 0x41; c <= 0x5a; c++) table[c] = table[c + 0x20] = 1
  for (const ch of chars) table[ch.charCodeAt(0)] = 1
  return table
}

// RFC 6690 §2: parmname (RFC 5987 attr-char without "*", "'" and "%"), and ptokenchar.
const PARMNAME = charTable("!#$&+-.^_`|~")
const PTOKEN = charTable("!#$%&'()*+-./:<=>?@[]^_`{|}~")
// The relation-type parameters and title: Leshan and Wakaama always quote them (`rt="oma.lwm2m"`).
const ALWAYS_QUOTED = new Set(['rt', 'rel', 'rev', 'if', 'title', 'anchor'])

function inTable(table: Uint8Array, code: number): boolean {
  return code < 128 && table[code] === 1
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d
}

function describeChar(text: string, i: number): string {
  return i >= text.length ? 'end of input' : JSON.stringify(text[i])
}

function setParam(params: Record<string, LinkParamValue>, name: string, value: LinkParamValue): void {
  // defineProperty: a parameter named "__proto__" must stay a plain property.
  Object.defineProperty(params, name, { value, enumerable: true, writable: true, configurable: true })
}

function addParam(params: Record<string, LinkParamValue>, name: string, value: string | true): void {
  if (!Object.hasOwn(params, name)) return setParam(params, name, value)
  const previous = params[name] as LinkParamValue
  const list = Array.isArray(previous) ? previous : [previous === true ? '' : previous]
  list.push(value === true ? '' : value)
  setParam(params, name, list)
}

/** The index of the first character a link target cannot hold (space, control, `<`, `>`, `"`), or -1. */
function badUriChar(uri: string): number {
  for (let k = 0; k < uri.length; k++) {
    const c = uri.charCodeAt(k)
    if (c <= 0x20 || c === 0x7f || c === 0x3c || c === 0x3e || c === 0x22) return k
  }
  return -1
}

/** Parses a link-format payload. Tolerates whitespace between links and around ";". */
export function parseLinks(text: string): Link[] {
  const links: Link[] = []
  const n = text.length
  const skipWhitespace = (i: number): number => {
    while (i < n && isWhitespace(text.charCodeAt(i))) i++
    return i
  }
  let i = skipWhitespace(0)
  if (i === n) return links
  for (;;) {
    if (text.charCodeAt(i) !== 0x3c) fail(`expected "<" to start a link, found ${describeChar(text, i)}`, i)
    const close = text.indexOf('>', i + 1)
    if (close < 0) fail('unterminated "<": no ">" closes the link target', i)
    const uri = text.slice(i + 1, close)
    const bad = badUriChar(uri)
    if (bad >= 0) fail(`invalid character ${describeChar(uri, bad)} in link target`, i + 1 + bad)
    const params: Record<string, LinkParamValue> = {}
    i = skipWhitespace(close + 1)
    while (text.charCodeAt(i) === 0x3b) {
      i = skipWhitespace(i + 1)
      const nameStart = i
      while (i < n && inTable(PARMNAME, text.charCodeAt(i))) i++
      if (i > nameStart && text.charCodeAt(i) === 0x2a) i++ // RFC 5987 "title*"
      if (i === nameStart) fail(`expected a parameter name after ";", found ${describeChar(text, i)}`, i)
      const name = text.slice(nameStart, i)
      let value: string | true = true
      if (text.charCodeAt(i) === 0x3d) {
        i++
        if (text.charCodeAt(i) === 0x22) {
          const quoteAt = i
          let out = ''
          let segment = ++i
          for (;;) {
            if (i >= n) fail(`unterminated quoted value of parameter "${name}"`, quoteAt)
            const c = text.charCodeAt(i)
            if (c === 0x22) break
            if (c === 0x5c) {
              if (i + 1 >= n) fail(`unterminated quoted value of parameter "${name}"`, quoteAt)
              out += text.slice(segment, i) + text[i + 1]
              segment = i += 2
            } else i++
          }
          value = out + text.slice(segment, i++)
        } else {
          const valueStart = i
          while (i < n && inTable(PTOKEN, text.charCodeAt(i))) i++
          if (i === valueStart) fail(`parameter "${name}" has no value after "=", found ${describeChar(text, i)}`, i)
          value = text.slice(valueStart, i)
        }
      }
      addParam(params, name, value)
      i = skipWhitespace(i)
    }
    links.push({ uri, params })
    if (i === n) return links
    if (text.charCodeAt(i) !== 0x2c) fail(`expected "," or ";" after link <${uri}>, found ${describeChar(text, i)}`, i)
    i = skipWhitespace(i + 1)
    if (i === n) fail('expected a link after ","', i)
  }
}

/** `parseLinks` on a payload: strict UTF-8, and error offsets in bytes. */
export function parseLinksBytes(bytes: Uint8Array): Link[] {
  const text = decodeUtf8(bytes, CODEC)
  try {
    return parseLinks(text)
  } catch (e) {
    if (!isCodecError(e) || e.offset === undefined || text.length === bytes.length) throw e
    throw new CodecError(CODEC, e.reason, encodeUtf8(text.slice(0, e.offset)).length)
  }
}

function isToken(value: string, table: Uint8Array): boolean {
  if (value === '') return false
  for (let i = 0; i < value.length; i++) if (!inTable(table, value.charCodeAt(i))) return false
  return true
}

function formatParamValue(name: string, value: string): string {
  if (!ALWAYS_QUOTED.has(name) && isToken(value, PTOKEN)) return value
  return `"${value.replace(/["\\]/g, '\\$&')}"`
}

/** Writes links the way Leshan and Wakaama do: `</>;rt="oma.lwm2m";ct=110,</1>;ver=1.1,</1/0>`. */
export function formatLinks(links: readonly Link[]): string {
  const out: string[] = []
  for (const { uri, params } of links) {
    if (badUriChar(uri) >= 0) fail(`link target ${JSON.stringify(uri)} has a character a link cannot carry`)
    let s = `<${uri}>`
    for (const [name, value] of Object.entries(params)) {
      const bare = name.endsWith('*') ? name.slice(0, -1) : name
      if (!isToken(bare, PARMNAME)) fail(`parameter name ${JSON.stringify(name)} of <${uri}> is not a valid name`)
      for (const v of Array.isArray(value) ? value : [value]) s += v === true ? `;${name}` : `;${name}=${formatParamValue(name, v)}`
    }
    out.push(s)
  }
  return out.join(',')
}

/** The space-separated values of a parameter (`rt="a b"`, `ct="60 110"`), over all its repetitions. */
function paramWords(value: LinkParamValue | undefined): string[] {
  if (value === undefined || value === true) return []
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(/\s+/).filter((w) => w !== ''))
}

export interface RegisteredObject {
  objectId: number
  /** The object version from `ver=`, when the client states one (1.0 is implied otherwise). */
  version?: string
  /** Sorted, without duplicates; empty when the object has no instances. */
  instances: number[]
}

export interface RegistrationLinks {
  /** "/" or the alternate path of `rt="oma.lwm2m"` (e.g. "/lwm2m"), without a trailing "/". */
  rootPath: string
  /** From `ct=` on the root link, in the order given. */
  contentFormats: number[]
  /** Sorted by object id, one entry per object. */
  objects: RegisteredObject[]
  /** Every link as parsed, those that are not LwM2M objects included. */
  links: Link[]
}

const ID_RE = /^(0|[1-9][0-9]{0,4})$/
const VERSION_RE = /^\d+\.\d+$/

function registrationId(segment: string, what: string, uri: string): number {
  if (!ID_RE.test(segment)) fail(`${what} "${segment}" in <${uri}> is not a decimal id`)
  const id = Number(segment)
  if (id > MAX_ID) fail(`${what} ${id} in <${uri}> is out of range 0-${MAX_ID}`)
  return id
}

/** The ids an object or instance link names under the root path; undefined for links that are not LwM2M objects. */
function objectLinkIds(uri: string, rootPath: string): [number, number | undefined] | undefined {
  let relative: string
  if (rootPath === '/') relative = uri
  else if (uri.startsWith(`${rootPath}/`)) relative = uri.slice(rootPath.length)
  else return undefined
  if (!relative.startsWith('/')) return undefined
  const segments = relative.slice(1).split('/')
  if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop()
  const [objectSegment, instanceSegment] = segments
  if (objectSegment === undefined || !/^[0-9]+$/.test(objectSegment)) return undefined
  if (segments.length > 2) fail(`registration link <${uri}> names a resource; only objects and object instances are registered`)
  const objectId = registrationId(objectSegment, 'object id', uri)
  return [objectId, instanceSegment === undefined ? undefined : registrationId(instanceSegment, 'instance id', uri)]
}

function parseContentFormats(link: Link | undefined): number[] {
  const formats = new Set<number>()
  for (const word of paramWords(link?.params.ct)) {
    const code = /^[0-9]{1,5}$/.test(word) ? Number(word) : NaN
    if (!(code <= 65535)) fail(`content format "${word}" in ct= of <${link?.uri}> is not a number 0-65535`)
    formats.add(code)
  }
  return [...formats]
}

/** Interprets a Register or Update payload: root path, content formats and the object/instance list. */
export function parseRegistrationLinks(text: string): RegistrationLinks {
  const links = parseLinks(text)
  const rtLink = links.find((l) => paramWords(l.params.rt).includes('oma.lwm2m'))
  let rootPath = '/'
  if (rtLink) {
    if (!rtLink.uri.startsWith('/')) fail(`alternate path <${rtLink.uri}> of rt="oma.lwm2m" does not start with "/"`)
    rootPath = rtLink.uri.length > 1 && rtLink.uri.endsWith('/') ? rtLink.uri.slice(0, -1) : rtLink.uri
  }
  const rootLink = rtLink ?? links.find((l) => l.uri === '/')
  const objects = new Map<number, { objectId: number; version?: string; instances: Set<number> }>()
  for (const link of links) {
    if (link === rootLink) continue
    const ids = objectLinkIds(link.uri, rootPath)
    if (!ids) continue
    const [objectId, instanceId] = ids
    let object = objects.get(objectId)
    if (!object) objects.set(objectId, (object = { objectId, instances: new Set() }))
    const ver = link.params.ver
    if (ver !== undefined) {
      if (typeof ver !== 'string' || !VERSION_RE.test(ver)) fail(`ver of <${link.uri}> is ${describeParam(ver)}, not of the form major.minor`)
      if (object.version !== undefined && object.version !== ver) fail(`object ${objectId} is given two versions, ${object.version} and ${ver}`)
      object.version = ver
    }
    if (instanceId !== undefined) object.instances.add(instanceId)
  }
  const sorted = [...objects.values()]
    .sort((a, b) => a.objectId - b.objectId)
    .map(({ objectId, version, instances }) => ({ objectId, ...(version === undefined ? {} : { version }), instances: [...instances].sort((a, b) => a - b) }))
  return { rootPath, contentFormats: parseContentFormats(rootLink), objects: sorted, links }
}

function describeParam(value: LinkParamValue): string {
  if (value === true) return 'without a value'
  if (Array.isArray(value)) return `repeated (${value.map((v) => JSON.stringify(v)).join(', ')})`
  return JSON.stringify(value)
}

/** Attributes a Discover answer may carry (TS 1.1 §5.1.2). */
export interface DiscoverAttributes {
  pmin?: number
  pmax?: number
  gt?: number
  lt?: number
  st?: number
  epmin?: number
  epmax?: number
  /** Number of instances of a multiple resource. */
  dim?: number
  /** Object version. */
  ver?: string
}

export interface DiscoveredLink {
  path: Lwm2mPath
  attributes: DiscoverAttributes
}

const INTEGER_ATTRIBUTES = ['pmin', 'pmax', 'epmin', 'epmax'] as const
const FLOAT_ATTRIBUTES = ['gt', 'lt', 'st'] as const
const FLOAT_RE = /^-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/

function parseAttributeNumber(name: string, value: string, where: string): number {
  const integer = name !== 'gt' && name !== 'lt' && name !== 'st'
  const n = (integer ? /^[0-9]+$/ : FLOAT_RE).test(value) ? Number(value) : NaN
  if (integer ? !Number.isSafeInteger(n) : !Number.isFinite(n)) {
    fail(`attribute ${name}${where} is ${JSON.stringify(value)}, not ${integer ? 'a non-negative integer' : 'a decimal number'}`)
  }
  if (name === 'st' && n < 0) fail(`attribute st${where} is ${value}; a step cannot be negative`)
  return n
}

function attributeValue(link: Link, name: string): string | undefined {
  const value = link.params[name]
  if (value === undefined || typeof value === 'string') return value
  return fail(`attribute ${name} of <${link.uri}> is ${describeParam(value)}`)
}

/** Interprets a Discover answer: each link's path and its attributes. Other parameters are ignored. */
export function parseDiscoverLinks(text: string): DiscoveredLink[] {
  return parseLinks(text).map((link) => {
    let path: Lwm2mPath
    try {
      path = parsePath(link.uri)
    } catch (e) {
      fail(`link <${link.uri}> is not an LwM2M path: ${isCodecError(e) ? e.reason : String(e)}`)
    }
    const attributes: DiscoverAttributes = {}
    const where = ` of <${link.uri}>`
    for (const name of [...INTEGER_ATTRIBUTES, 'dim', ...FLOAT_ATTRIBUTES] as const) {
      const value = attributeValue(link, name)
      if (value !== undefined) attributes[name] = parseAttributeNumber(name, value, where)
    }
    const ver = attributeValue(link, 'ver')
    if (ver !== undefined) {
      if (!VERSION_RE.test(ver)) fail(`ver${where} is ${JSON.stringify(ver)}, not of the form major.minor`)
      attributes.ver = ver
    }
    return { path, attributes }
  })
}

/** Write-Attributes (TS 1.1 §5.4.4): a number sets an attribute, null unsets it (`pmin` without a value). */
export interface WriteAttributes {
  pmin?: number | null
  pmax?: number | null
  gt?: number | null
  lt?: number | null
  st?: number | null
  epmin?: number | null
  epmax?: number | null
}

const WRITE_ATTRIBUTES = ['pmin', 'pmax', 'gt', 'lt', 'st', 'epmin', 'epmax'] as const
type WriteAttributeName = (typeof WRITE_ATTRIBUTES)[number]

function isWriteAttribute(name: string): name is WriteAttributeName {
  return (WRITE_ATTRIBUTES as readonly string[]).includes(name)
}

/** `pmin=10&pmax=60&gt=5.5`, in a fixed order; split on "&" for the Uri-Query options. */
export function formatAttributesQuery(attrs: WriteAttributes): string {
  const pairs: string[] = []
  for (const name of WRITE_ATTRIBUTES) {
    const value = attrs[name]
    if (value === undefined) continue
    if (value === null) {
      pairs.push(name)
      continue
    }
    const integer = (INTEGER_ATTRIBUTES as readonly string[]).includes(name)
    if (integer ? !Number.isSafeInteger(value) || value < 0 : !Number.isFinite(value) || (name === 'st' && value < 0)) {
      fail(`attribute ${name} cannot be ${value}; it takes ${integer ? 'a non-negative integer' : name === 'st' ? 'a non-negative number' : 'a finite number'}`)
    }
    pairs.push(`${name}=${Object.is(value, -0) ? '0' : String(value)}`)
  }
  return pairs.join('&')
}

/** Reads Write-Attributes from Uri-Query options (`["pmin=10", "gt"]`) or a query string (`pmin=10&gt`). */
export function parseAttributesQuery(queryPairs: string | readonly string[]): WriteAttributes {
  const pairs = typeof queryPairs === 'string' ? (queryPairs === '' ? [] : queryPairs.split('&')) : queryPairs
  const attrs: WriteAttributes = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    const name = eq < 0 ? pair : pair.slice(0, eq)
    if (!isWriteAttribute(name)) fail(`unknown attribute ${JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name)} in the query`)
    if (attrs[name] !== undefined) fail(`attribute ${name} is given twice in the query`)
    attrs[name] = eq < 0 ? null : parseAttributeNumber(name, pair.slice(eq + 1), '')
  }
  return attrs
}
