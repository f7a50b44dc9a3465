import { XMLBuilder } from 'fast-xml-parser'
import { defaultUrn } from './models/compact.ts'
import type { ObjectModel, ResourceModel } from './object-model.ts'
import { genericObjectName, genericResourceName } from './object-registry.ts'
import type { ResourceType } from './values.ts'

/**
 * Writes an object model as an OMA DDF file (LwM2M 1.1 schema), the XML that the LwM2M registry publishes and that
 * Leshan, Wakaama's tools and `parseDdf` read: how a gateway hands the definitions of its generated objects to a
 * server that has no other way to know them.
 */

const DDF_TYPES: Readonly<Record<ResourceType, string>> = {
  string: 'String',
  integer: 'Integer',
  unsigned: 'Unsigned Integer',
  float: 'Float',
  boolean: 'Boolean',
  opaque: 'Opaque',
  time: 'Time',
  objlnk: 'Objlnk',
  corelnk: 'Corelnk',
  none: '',
}

const DEFAULT_LWM2M_VERSION = '1.1'

// Every character XML 1.0 allows, minus CR (XML readers turn line ends into LF anyway).
const NOT_XML_TEXT = /[^\t\n\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: false,
  // Escapes & < > " ' in text and attribute values.
  processEntities: true,
})

/**
 * Text as a DDF carries it: line ends as LF, without the characters XML 1.0 cannot hold at all (controls, lone
 * surrogates, U+FFFE/FFFF), and trimmed, since DDF readers trim (ours) or keep the spaces (Leshan) — alike after this.
 */
export function ddfText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(NOT_XML_TEXT, '').trim()
}

/** The model's URN, or the OMNA form for its ID (`x` outside the OMA and ext ranges). */
export function objectUrn(model: ObjectModel): string {
  return model.urn ?? defaultUrn(model.id, model.version) ?? `urn:oma:lwm2m:x:${model.id}${model.version === '1.0' ? '' : `:${model.version}`}`
}

function schemaLocation(lwm2mVersion: string): string {
  const file = lwm2mVersion === '1.0' ? 'LWM2M.xsd' : `LWM2M-v${lwm2mVersion.replace('.', '_')}.xsd`
  return `http://openmobilealliance.org/tech/profiles/${file}`
}

function item(r: ResourceModel): Record<string, unknown> {
  return {
    '@_ID': String(r.id),
    Name: ddfText(r.name) || genericResourceName(r.id),
    Operations: r.operations,
    MultipleInstances: r.multiple ? 'Multiple' : 'Single',
    Mandatory: r.mandatory ? 'Mandatory' : 'Optional',
    // An executable resource has no type (schema and Leshan's validator alike).
    Type: r.operations === 'E' ? '' : DDF_TYPES[r.type],
    RangeEnumeration: ddfText(r.range ?? ''),
    Units: ddfText(r.units ?? ''),
    Description: ddfText(r.description ?? ''),
  }
}

function object(model: ObjectModel, lwm2mVersion: string): Record<string, unknown> {
  return {
    '@_ObjectType': 'MODefinition',
    Name: ddfText(model.name) || genericObjectName(model.id),
    Description1: ddfText(model.description ?? ''),
    ObjectID: String(model.id),
    ObjectURN: ddfText(objectUrn(model)),
    LWM2MVersion: lwm2mVersion,
    ObjectVersion: model.version,
    MultipleInstances: model.multiple ? 'Multiple' : 'Single',
    Mandatory: model.mandatory ? 'Mandatory' : 'Optional',
    Resources: { Item: [...model.resources.values()].sort((a, b) => a.id - b.id).map(item) },
    Description2: '',
  }
}

/**
 * The DDF file of an object model (registry files hold one), or of several; the schema named is the one of the
 * first model's LwM2M version (1.1 when it states none).
 */
export function ddfXml(models: ObjectModel | readonly ObjectModel[]): string {
  const list: readonly ObjectModel[] = Array.isArray(models) ? models : [models as ObjectModel]
  const version = (m: ObjectModel | undefined): string => m?.lwm2mVersion ?? DEFAULT_LWM2M_VERSION
  const doc = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    LWM2M: {
      '@_xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
      '@_xsi:noNamespaceSchemaLocation': schemaLocation(version(list[0])),
      Object: list.map((m) => object(m, version(m))),
    },
  }
  return builder.build(doc) as string
}
