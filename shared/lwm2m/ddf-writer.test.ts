import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { XMLValidator } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import { parseDdf } from './ddf.ts'
import { ddfText, ddfXml, objectUrn } from './ddf-writer.ts'
import { objectModelArb } from './model-arbitraries.test-helper.ts'
import { defineObject } from './models/compact.ts'
import { OBJECTTWIN_MODELS } from './models/objecttwin.ts'
import type { ObjectModel } from './object-model.ts'
import { ObjectRegistry } from './object-registry.ts'

/** What a reader gets back: the model with the URN and LwM2M version the file states. */
function asWritten(model: ObjectModel): ObjectModel {
  return { ...model, urn: objectUrn(model), lwm2mVersion: model.lwm2mVersion ?? '1.1' }
}

function roundTrip(model: ObjectModel): ObjectModel {
  const parsed = parseDdf(ddfXml(model))
  expect(parsed).toHaveLength(1)
  return parsed[0] as ObjectModel
}

const twin = (name: string, resourceName = 'Sampling Rate', description?: string): ObjectModel =>
  defineObject({ id: 1031, name, ...(description !== undefined ? { description } : {}) }, [
    [0, 'Service', 'R', 'string', { mandatory: true, description: 'GATT service f0010000-0000-1000-8000-00805f9b34fb' }],
    [2, resourceName, 'RW', 'integer', { units: 'Hz', range: '25..1000' }],
    [3, 'Reset', 'E', 'none'],
  ])

describe('ddfXml', () => {
  it('writes the OMA DDF 1.1 layout: elements in schema order, ObjectType, schema location', () => {
    const xml = ddfXml(twin('ECG (Patch 1)'))
    expect(XMLValidator.validate(xml)).toBe(true)
    expect(xml).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<LWM2M xmlns:xsi="http:\/\/www\.w3\.org\/2001\/XMLSchema-instance" xsi:noNamespaceSchemaLocation="http:\/\/openmobilealliance\.org\/tech\/profiles\/LWM2M-v1_1\.xsd">/)
    expect(xml).toContain('<Object ObjectType="MODefinition">')
    const objectTags = [...xml.matchAll(/^ {4}<(\w+)/gm)].map((m) => m[1])
    expect(objectTags).toEqual(['Name', 'Description1', 'ObjectID', 'ObjectURN', 'LWM2MVersion', 'ObjectVersion', 'MultipleInstances', 'Mandatory', 'Resources', 'Description2'])
    const item = /<Item ID="2">([\s\S]*?)<\/Item>/.exec(xml)?.[1] ?? ''
    expect([...item.matchAll(/<(\w+)>/g)].map((m) => m[1])).toEqual(['Name', 'Operations', 'MultipleInstances', 'Mandatory', 'Type', 'RangeEnumeration', 'Units', 'Description'])
    expect(item).toContain('<Type>Integer</Type>')
    expect(item).toContain('<RangeEnumeration>25..1000</RangeEnumeration>')
    // Executable resources have an empty type, as the schema and Leshan's validator want.
    expect(/<Item ID="3">[\s\S]*?<Type><\/Type>/.test(xml)).toBe(true)
    expect(xml).toContain('<ObjectURN>urn:oma:lwm2m:x:1031</ObjectURN>')
    // No text element holds surrounding whitespace: readers that do not trim (Leshan) get the same strings.
    expect(xml).not.toMatch(/<(Name|Type|Units)>\s/)
  })

  it('reads back as the same model, for every built-in object', () => {
    for (const model of ObjectRegistry.withBuiltins().all()) expect(roundTrip(model)).toEqual(asWritten(model))
  })

  it('escapes names and descriptions with &, <, >, quotes and non-ASCII characters', () => {
    const awkward = ['Tom & Jerry', '<script>alert(1)</script>', 'say "hi"', "it's", 'µV & °C — 心电图 😀', ']]>', '<!-- no -->', '&amp; is not &', 'a\tb\nc']
    for (const name of awkward) {
      const model = twin(name, name, name)
      const xml = ddfXml(model)
      expect(XMLValidator.validate(xml)).toBe(true)
      const back = roundTrip(model)
      expect(back.name).toBe(name)
      expect(back.description).toBe(name)
      expect(back.resources.get(2)?.name).toBe(name)
      expect(back).toEqual(asWritten(model))
    }
  })

  it('leaves out what XML cannot carry, turns CR LF into LF, trims, and names an object whose name is empty then', () => {
    expect(ddfText('  Heart\u0000 Rate\u0007\r\nline\r2\uFFFE\uD800 ')).toBe('Heart Rate\nline\n2')
    const back = roundTrip(twin('\u0001 Patch \u0002', '\u0000\u0000'))
    expect(back.name).toBe('Patch')
    expect(back.resources.get(2)?.name).toBe('Resource 2')
    expect(roundTrip(twin(' \u0003 ')).name).toBe('Object 1031')
  })

  it('names the schema of the LwM2M version the model was written for, and keeps a version in the URN', () => {
    const old = defineObject({ id: 10250, name: 'Patch Settings', version: '1.1', lwm2mVersion: '1.0' }, [[0, 'Threshold', 'RW', 'integer']])
    const xml = ddfXml(old)
    expect(xml).toContain('xsi:noNamespaceSchemaLocation="http://openmobilealliance.org/tech/profiles/LWM2M.xsd"')
    expect(xml).toContain('<ObjectURN>urn:oma:lwm2m:x:10250:1.1</ObjectURN>')
    expect(roundTrip(old)).toEqual(asWritten(old))
  })

  it('reads back every model it writes, alone or several in one file (property)', () => {
    fc.assert(
      fc.property(fc.array(objectModelArb, { minLength: 1, maxLength: 3 }), (models) => {
        const parsed = parseDdf(ddfXml(models.length === 1 ? (models[0] as ObjectModel) : models))
        expect(parsed).toEqual(models.map(asWritten))
        parsed.forEach((m, i) => expect([...m.resources.keys()]).toEqual([...(models[i] as ObjectModel).resources.keys()].sort((a, b) => a - b)))
      }),
      { numRuns: 300 },
    )
  })
})

describe('the DDF files of the gateway objects in docs/ddf', () => {
  // For servers that load models from files (Leshan): they must match the built-in models. To regenerate:
  // node --input-type=module -e "import {writeFileSync as w} from 'node:fs'; import {ddfXml} from './shared/lwm2m/ddf-writer.ts';
  //   import {OBJECTTWIN_MODELS as m} from './shared/lwm2m/models/objecttwin.ts'; for (const o of m) w('docs/ddf/' + o.id + '.xml', ddfXml(o))"
  it.each(OBJECTTWIN_MODELS.map((m) => [m.id, m] as const))('docs/ddf/%i.xml is the built-in model', (id, model) => {
    expect(readFileSync(new URL(`../../docs/ddf/${id}.xml`, import.meta.url), 'utf8')).toBe(ddfXml(model))
  })
})
