import { XMLParser, XMLValidator, type EntityDecoderOptions } from 'fast-xml-parser'
import { CodecError } from './errors.ts'
import type { ObjectModel, Operations, ResourceModel } from './object-model.ts'
import { MAX_ID } from './path.ts'
import type { ResourceType } from './values.ts'

/** Registry DDF files are a few hundred KB at most; this bounds the work an untrusted file can cause. */
export const MAX_DDF_CHARS = 4 * 1024 * 1024

const TYPES: ReadonlyMap<string, ResourceType> = new Map([
  ['string', 'string'],
  ['integer', 'integer'],
  ['unsigned integer', 'unsigned'],
  ['float', 'float'],
  ['boolean', 'boolean'],
  ['opaque', 'opaque'],
  ['time', 'time'],
  ['objlnk', 'objlnk'],
  ['corelnk', 'corelnk'],
  ['none', 'none'],
  ['', 'none'],
])

const OPERATIONS: ReadonlySet<string> = new Set<Operations>(['', 'R', 'W', 'RW', 'E'])
const VERSION_RE = /^\d{1,3}\.\d{1,3}$/
const ID_RE = /^\d{1,6}$/
const XML_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function ddfError(reason: string): CodecError {
  return new CodecError('DDF', reason)
}

// Decodes the five XML entities and character references only. DDF files never need a DOCTYPE, and
// refusing it rules out entity-expansion attacks ("billion laughs") whatever the parser's defaults.
const entityDecoder: EntityDecoderOptions = {
  setExternalEntities: () => {},
  addInputEntities: () => {
    throw ddfError('DOCTYPE declarations are not allowed')
  },
  reset: () => {},
  setXmlVersion: () => {},
  decode: (text) => (text.includes('&') ? text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]{2,4});/g, decodeEntity) : text),
}

function decodeEntity(match: string, name: string): string {
  if (!name.startsWith('#')) return XML_ENTITIES[name] ?? match
  const code = name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10)
  const isXmlChar =
    code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff)
  return isXmlChar ? String.fromCodePoint(code) : match
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  entityDecoder,
  maxNestedTags: 32,
  // Lists stay lists when a file holds one Object or one Item.
  isArray: (_name, jPath, _isLeaf, isAttribute) => !isAttribute && (jPath === 'LWM2M.Object' || jPath === 'LWM2M.Object.Resources.Item'),
})

type XmlNode = Record<string, unknown>

function isNode(v: unknown): v is XmlNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function own(node: XmlNode, key: string): unknown {
  return Object.hasOwn(node, key) ? node[key] : undefined
}

function short(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}

/** The trimmed text of a child element, or undefined when it is absent. */
function textOf(node: XmlNode, tag: string, where: string): string | undefined {
  const value = own(node, tag)
  if (value === undefined) return undefined
  if (Array.isArray(value)) throw ddfError(`${where} has ${value.length} <${tag}> elements`)
  if (typeof value === 'string') return value.trim()
  if (isNode(value) && Object.keys(value).every((k) => k === '#text' || k.startsWith('@_'))) {
    const text = own(value, '#text')
    return typeof text === 'string' ? text.trim() : ''
  }
  throw ddfError(`${where} <${tag}> holds elements instead of text`)
}

function optionalText(node: XmlNode, tag: string, where: string): string | undefined {
  const text = textOf(node, tag, where)
  return text === '' ? undefined : text
}

function parseId(raw: string, what: string): number {
  if (!ID_RE.test(raw)) throw ddfError(`${what} "${short(raw, 40)}" is not a decimal number`)
  const id = Number(raw)
  if (id > MAX_ID) throw ddfError(`${what} ${id} is out of range 0-${MAX_ID}`)
  return id
}

function parseFlag(node: XmlNode, tag: string, where: string, yes: string, no: string): boolean {
  const text = textOf(node, tag, where) ?? ''
  if (text === '') return false
  const lower = text.toLowerCase()
  if (lower === yes.toLowerCase()) return true
  if (lower === no.toLowerCase()) return false
  throw ddfError(`${where} has <${tag}> "${short(text, 40)}", expected ${yes} or ${no}`)
}

function parseVersion(node: XmlNode, tag: string, where: string): string | undefined {
  const text = optionalText(node, tag, where)
  if (text !== undefined && !VERSION_RE.test(text)) throw ddfError(`${where} has <${tag}> "${short(text, 40)}", expected major.minor`)
  return text
}

function parseItem(item: unknown, objectLabel: string): ResourceModel {
  if (!isNode(item)) throw ddfError(`${objectLabel} has an <Item> without an ID attribute`)
  const rawId = own(item, '@_ID')
  if (typeof rawId !== 'string') throw ddfError(`${objectLabel} has an <Item> without an ID attribute`)
  const id = parseId(rawId.trim(), `${objectLabel} item ID`)
  const where = `${objectLabel} item ${id}`

  const name = textOf(item, 'Name', where)
  if (!name) throw ddfError(`${where} has no <Name>`)
  const operations = (textOf(item, 'Operations', where) ?? '').toUpperCase()
  if (!OPERATIONS.has(operations)) throw ddfError(`${where} has unknown operations "${short(operations, 40)}"`)
  const rawType = textOf(item, 'Type', where) ?? ''
  const type = TYPES.get(rawType.toLowerCase())
  if (type === undefined) throw ddfError(`${where} has unknown type "${short(rawType, 40)}"`)

  const units = optionalText(item, 'Units', where)
  const range = optionalText(item, 'RangeEnumeration', where)
  const description = optionalText(item, 'Description', where)
  return Object.freeze({
    id,
    name,
    operations: operations as Operations,
    multiple: parseFlag(item, 'MultipleInstances', where, 'Multiple', 'Single'),
    mandatory: parseFlag(item, 'Mandatory', where, 'Mandatory', 'Optional'),
    // Some registry files give executable resources a type; they carry no value.
    type: operations === 'E' ? 'none' : type,
    ...(units !== undefined && { units }),
    ...(range !== undefined && { range }),
    ...(description !== undefined && { description }),
  })
}

function parseObject(node: unknown, index: number): ObjectModel {
  const position = `object #${index + 1}`
  if (!isNode(node)) throw ddfError(`${position} is empty`)
  const name = textOf(node, 'Name', position)
  const rawId = textOf(node, 'ObjectID', position)
  if (rawId === undefined || rawId === '') throw ddfError(`${position}${name ? ` ("${short(name, 40)}")` : ''} has no <ObjectID>`)
  const id = parseId(rawId, `${position} ObjectID`)
  const label = `object ${id}`
  if (!name) throw ddfError(`${label} has no <Name>`)

  const version = parseVersion(node, 'ObjectVersion', label) ?? '1.0'
  const lwm2mVersion = parseVersion(node, 'LWM2MVersion', label)
  const urn = optionalText(node, 'ObjectURN', label)
  const description = optionalText(node, 'Description1', label)

  const resources = new Map<number, ResourceModel>()
  const resourcesNode = own(node, 'Resources')
  if (Array.isArray(resourcesNode)) throw ddfError(`${label} has ${resourcesNode.length} <Resources> elements`)
  if (isNode(resourcesNode)) {
    const items = own(resourcesNode, 'Item')
    for (const item of Array.isArray(items) ? items : []) {
      const resource = parseItem(item, label)
      if (resources.has(resource.id)) throw ddfError(`${label} has duplicate item ${resource.id}`)
      resources.set(resource.id, resource)
    }
  } else if (resourcesNode !== undefined && resourcesNode !== '') {
    throw ddfError(`${label} <Resources> holds text instead of <Item> elements`)
  }

  return Object.freeze({
    id,
    name,
    version,
    ...(lwm2mVersion !== undefined && { lwm2mVersion }),
    ...(urn !== undefined && { urn }),
    multiple: parseFlag(node, 'MultipleInstances', label, 'Multiple', 'Single'),
    mandatory: parseFlag(node, 'Mandatory', label, 'Mandatory', 'Optional'),
    ...(description !== undefined && { description }),
    resources,
  })
}

// The validator reports a truncated file as "Invalid '["LWM2M","Object"]' found." at line 1.
function unclosedTags(message: string): string[] | undefined {
  const m = /^Invalid '(\[[^']*\])' found\.$/s.exec(message)
  if (!m?.[1]) return undefined
  try {
    const tags: unknown = JSON.parse(m[1])
    return Array.isArray(tags) && tags.length > 0 && tags.every((t) => typeof t === 'string') ? tags.slice(-4).map((t) => short(t, 40)) : undefined
  } catch {
    return undefined
  }
}

function parseXml(xml: string): XmlNode {
  let validation: ReturnType<typeof XMLValidator.validate>
  try {
    validation = XMLValidator.validate(xml)
  } catch (e) {
    throw ddfError(`not well-formed XML: ${short(e instanceof Error ? e.message : String(e))}`)
  }
  if (validation !== true) {
    const { msg, line, col } = validation.err
    const unclosed = unclosedTags(msg)
    if (unclosed !== undefined) throw ddfError(`not well-formed XML: the file ends inside ${unclosed.map((t) => `<${t}>`).join(' ')}`)
    throw ddfError(`not well-formed XML: ${short(msg)} (line ${line}${col === undefined ? '' : `, column ${col}`})`)
  }
  try {
    const doc: unknown = parser.parse(xml)
    return isNode(doc) ? doc : {}
  } catch (e) {
    if (e instanceof CodecError) throw e
    throw ddfError(`XML parser rejected the file: ${short(e instanceof Error ? e.message : String(e))}`)
  }
}

/**
 * Reads an OMA DDF file (the LwM2M registry's object definition XML). A file may define several
 * objects. Throws a `CodecError` naming the object and item at fault.
 */
export function parseDdf(xml: string): ObjectModel[] {
  if (typeof xml !== 'string') throw ddfError('input is not a string')
  if (xml.length > MAX_DDF_CHARS) throw ddfError(`file of ${xml.length} characters exceeds the limit of ${MAX_DDF_CHARS}`)
  if (xml.trim() === '') throw ddfError('file is empty')
  const doc = parseXml(xml)
  const root = own(doc, 'LWM2M')
  if (root === undefined) {
    const found = Object.keys(doc).find((k) => !k.startsWith('?'))
    throw ddfError(found === undefined ? 'no root element' : `root element is <${short(found, 40)}>, expected <LWM2M>`)
  }
  if (Array.isArray(root)) throw ddfError(`${root.length} <LWM2M> root elements`)
  const objects = isNode(root) ? own(root, 'Object') : undefined
  if (!Array.isArray(objects) || objects.length === 0) throw ddfError('<LWM2M> holds no <Object>')
  return objects.map((node, i) => parseObject(node, i))
}
