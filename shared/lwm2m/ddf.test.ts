import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { MAX_DDF_CHARS, parseDdf } from './ddf.ts'
import type { CodecError } from './errors.ts'
import { codecError } from './fixtures.test-helper.ts'
import type { ObjectModel } from './object-model.ts'

const fixture = (name: string): string => readFileSync(new URL(`../../test/fixtures/ddf/${name}`, import.meta.url), 'utf8')

function only(models: ObjectModel[]): ObjectModel {
  expect(models).toHaveLength(1)
  return models[0] as ObjectModel
}

const ddfError = (xml: string): CodecError => codecError(() => parseDdf(xml))

/** A minimal one-object file around the given items. */
function objectXml(items: string, head = '<Name>Temperature</Name><ObjectID>3303</ObjectID>'): string {
  return `<LWM2M><Object ObjectType="MODefinition">${head}<Resources>${items}</Resources></Object></LWM2M>`
}

describe('parseDdf on real-format files', () => {
  it('reads the 3303 Temperature v1.1 fixture', () => {
    const model = only(parseDdf(fixture('3303-temperature.xml')))
    expect(model.id).toBe(3303)
    expect(model.name).toBe('Temperature')
    expect(model.version).toBe('1.1')
    expect(model.lwm2mVersion).toBe('1.0')
    expect(model.urn).toBe('urn:oma:lwm2m:ext:3303:1.1')
    expect(model.multiple).toBe(true)
    expect(model.mandatory).toBe(false)
    // CDATA is taken literally.
    expect(model.description).toBe('Reports a temperature & its min/max <since reset>.')
    expect([...model.resources.keys()]).toEqual([5700, 5601, 5602, 5701, 5605, 5750, 5518, 6050])
    expect(model.resources.get(5700)).toEqual({
      id: 5700,
      name: 'Sensor Value',
      operations: 'R',
      multiple: false,
      mandatory: true,
      type: 'float',
      description: 'Last measured value.',
    })
    expect(model.resources.get(5701)?.description).toBe('Unit of the values, e.g. "Cel".')
    expect(model.resources.get(5518)?.type).toBe('time')
    expect(model.resources.get(6050)).toMatchObject({ type: 'float', range: '0..1', units: 's' })
    expect(model.resources.get(5750)).toMatchObject({ operations: 'RW', type: 'string', mandatory: false })
  })

  it('gives executable resources the type none even when the file names one', () => {
    const model = only(parseDdf(fixture('3303-temperature.xml')))
    expect(model.resources.get(5605)).toMatchObject({ operations: 'E', type: 'none' })
  })

  it('reads a vendor object with every type and a multiple resource', () => {
    const model = only(parseDdf(fixture('ecg-twin-1031.xml')))
    expect(model).toMatchObject({ id: 1031, name: 'ECG Service Twin', version: '1.0', lwm2mVersion: '1.1', multiple: true, mandatory: false })
    const types = [...model.resources.values()].map((r) => [r.id, r.operations, r.type])
    expect(types).toEqual([
      [0, 'R', 'string'],
      [1, 'R', 'integer'],
      [2, 'RW', 'unsigned'],
      [3, 'RW', 'boolean'],
      [4, 'E', 'none'],
      [5, 'R', 'string'],
      [6, 'W', 'opaque'],
      [7, 'R', 'objlnk'],
      [8, 'R', 'time'],
      [9, 'RW', 'float'],
      [10, '', 'corelnk'],
    ])
    expect(model.resources.get(5)?.multiple).toBe(true)
    expect(model.resources.get(2)).toMatchObject({ range: '50..500', units: 'Hz' })
    expect(model.resources.get(1)).toMatchObject({ mandatory: true, range: '-32768..32767', units: 'uV/10' })
    // Self-closing <Units/> and <RangeEnumeration/> mean "none".
    expect(model.resources.get(3)?.units).toBeUndefined()
    expect(model.resources.get(3)?.range).toBeUndefined()
  })

  it('reads two versions of one object, a single Item still giving a list', () => {
    const v10 = only(parseDdf(fixture('10250-1_0.xml')))
    const v11 = only(parseDdf(fixture('10250-1_1.xml')))
    expect([v10.id, v10.version, v10.resources.size]).toEqual([10250, '1.0', 1])
    expect([v11.id, v11.version, v11.resources.size]).toEqual([10250, '1.1', 2])
    expect(v10.resources.get(0)?.type).toBe('integer')
    expect(v11.resources.get(0)?.type).toBe('float')
    expect(v11.resources.get(1)).toMatchObject({ name: 'Alarm Enabled', type: 'boolean', operations: 'RW' })
  })

  it('reads several objects from one file, defaulting the version to 1.0', () => {
    const models = parseDdf(fixture('two-objects.xml'))
    expect(models.map((m) => [m.id, m.name, m.version, m.multiple, m.mandatory, m.resources.size])).toEqual([
      [10300, 'Lead Status', '2.0', true, false, 1],
      [10301, 'Placeholder', '1.0', false, true, 0],
    ])
    expect(models[0]?.resources.get(0)).toEqual({ id: 0, name: 'Lead Off', operations: 'R', multiple: true, mandatory: true, type: 'boolean' })
    expect(models[1]?.description).toBeUndefined()
    expect(models[1]?.urn).toBeUndefined()
  })

  it('decodes XML entities and character references, leaving invalid ones as written', () => {
    const model = only(parseDdf(objectXml('', '<Name>A &amp; B &#x41;&#66; &lt;x&gt; &#0; &#xD800; &nbsp;</Name><ObjectID>3303</ObjectID>')))
    expect(model.name).toBe('A & B AB <x> &#0; &#xD800; &nbsp;')
  })

  it('keeps a lone surrogate in text and rejects one in markup', () => {
    expect(only(parseDdf(objectXml('', '<Name>A\uD800B</Name><ObjectID>3303</ObjectID>'))).name).toBe('A\uD800B')
    expect(ddfError('\uD800<LWM2M/>').message).toBe("DDF: not well-formed XML: char '\uD800' is not expected. (line 1, column 1)")
    expect(ddfError(objectXml('', '<Name\uD800>A</Name><ObjectID>3303</ObjectID>')).message).toBe("DDF: not well-formed XML: Tag 'Name\uD800' is an invalid name. (line 1, column 48)")
  })

  it('accepts lower-case type and flag spellings and surrounding whitespace', () => {
    const model = only(
      parseDdf(
        objectXml(
          '<Item ID=" 7 "><Name> Count </Name><Operations> rw </Operations><MultipleInstances>multiple</MultipleInstances><Mandatory>MANDATORY</Mandatory><Type>unsigned integer</Type></Item>',
          '<Name>Counter</Name><ObjectID> 10400 </ObjectID>',
        ),
      ),
    )
    expect(model.id).toBe(10400)
    expect(model.resources.get(7)).toEqual({ id: 7, name: 'Count', operations: 'RW', multiple: true, mandatory: true, type: 'unsigned' })
  })
})

describe('parseDdf on invalid files', () => {
  it.each([
    ['not-xml.xml', "DDF: not well-formed XML: char 'T' is not expected. (line 1, column 1)"],
    ['truncated.xml', 'DDF: not well-formed XML: the file ends inside <LWM2M> <Object> <Resources> <Item>'],
    ['wrong-root.xml', 'DDF: root element is <Objects>, expected <LWM2M>'],
    ['missing-object-id.xml', 'DDF: object #1 ("Temperature") has no <ObjectID>'],
    ['non-numeric-object-id.xml', 'DDF: object #1 ObjectID "33o3" is not a decimal number'],
    ['object-id-out-of-range.xml', 'DDF: object #1 ObjectID 70000 is out of range 0-65534'],
    ['unknown-type.xml', 'DDF: object 3303 item 5700 has unknown type "Double"'],
    ['duplicate-item.xml', 'DDF: object 3303 has duplicate item 5700'],
    ['unknown-operations.xml', 'DDF: object 3303 item 5605 has unknown operations "RE"'],
    ['missing-item-name.xml', 'DDF: object 3303 item 5700 has no <Name>'],
    ['missing-object-name.xml', 'DDF: object 3303 has no <Name>'],
    ['item-without-id.xml', 'DDF: object 3303 has an <Item> without an ID attribute'],
    ['entity-expansion.xml', 'DDF: DOCTYPE declarations are not allowed'],
  ])('%s', (file, message) => {
    const error = ddfError(fixture(`invalid/${file}`))
    expect(error.message).toBe(message)
    expect(error.codec).toBe('DDF')
  })

  it.each([
    ['', 'DDF: file is empty'],
    [' \n\t', 'DDF: file is empty'],
    ['<LWM2M/>', 'DDF: <LWM2M> holds no <Object>'],
    ['<LWM2M><Other/></LWM2M>', 'DDF: <LWM2M> holds no <Object>'],
    ['<?xml version="1.0"?>', 'DDF: not well-formed XML: Start tag expected. (line 1)'],
    ['<LWM2M><Object/></LWM2M>', 'DDF: object #1 is empty'],
    ['<LWM2M></LWM2M><LWM2M></LWM2M>', 'DDF: not well-formed XML: Multiple possible root nodes found. (line 1, column 22)'],
    ['<!DOCTYPE LWM2M><LWM2M><Object><Name>x</Name><ObjectID>1</ObjectID></Object></LWM2M>', 'DDF: DOCTYPE declarations are not allowed'],
    [objectXml('', '<Name>A</Name><Name>B</Name><ObjectID>3303</ObjectID>'), 'DDF: object #1 has 2 <Name> elements'],
    [objectXml('', '<Name>A<b>bold</b></Name><ObjectID>3303</ObjectID>'), 'DDF: object #1 <Name> holds elements instead of text'],
    [objectXml('', '<Name>T</Name><ObjectID>-1</ObjectID>'), 'DDF: object #1 ObjectID "-1" is not a decimal number'],
    [objectXml('', '<Name>T</Name><ObjectID>65535</ObjectID>'), 'DDF: object #1 ObjectID 65535 is out of range 0-65534'],
    [objectXml('', '<Name>T</Name><ObjectID>3303</ObjectID><ObjectVersion>v1</ObjectVersion>'), 'DDF: object 3303 has <ObjectVersion> "v1", expected major.minor'],
    [objectXml('', '<Name>T</Name><ObjectID>3303</ObjectID><MultipleInstances>Many</MultipleInstances>'), 'DDF: object 3303 has <MultipleInstances> "Many", expected Multiple or Single'],
    [objectXml('<Item ID="99999"><Name>X</Name></Item>'), 'DDF: object 3303 item ID 99999 is out of range 0-65534'],
    [objectXml('<Item ID="5.5"><Name>X</Name></Item>'), 'DDF: object 3303 item ID "5.5" is not a decimal number'],
    [objectXml('<Item ID="1"><Name>X</Name><Mandatory>Maybe</Mandatory></Item>'), 'DDF: object 3303 item 1 has <Mandatory> "Maybe", expected Mandatory or Optional'],
    [objectXml('<Item ID="1"><Name>   </Name></Item>'), 'DDF: object 3303 item 1 has no <Name>'],
    [
      '<LWM2M><Object><Name>T</Name><ObjectID>3303</ObjectID><Resources>text</Resources></Object></LWM2M>',
      'DDF: object 3303 <Resources> holds text instead of <Item> elements',
    ],
    [
      '<LWM2M><Object><Name>T</Name><ObjectID>3303</ObjectID><Resources/><Resources/></Object></LWM2M>',
      'DDF: object 3303 has 2 <Resources> elements',
    ],
  ])('rejects %j', (xml, message) => {
    expect(ddfError(xml).message).toBe(message)
  })

  it('wraps the parser refusing prototype-polluting names', () => {
    expect(ddfError(objectXml('', '<Name>T</Name><ObjectID>1</ObjectID><__proto__>x</__proto__>')).message).toMatch(/^DDF: XML parser rejected the file: .*__proto__/)
  })

  it('bounds nesting depth', () => {
    const deep = `<LWM2M><Object><Name>T</Name><ObjectID>1</ObjectID>${'<a>'.repeat(200)}${'</a>'.repeat(200)}</Object></LWM2M>`
    expect(ddfError(deep).message).toMatch(/^DDF: XML parser rejected the file: /)
  })

  it('refuses input beyond the size limit and non-string input', () => {
    expect(ddfError(' '.repeat(MAX_DDF_CHARS + 1)).message).toBe(`DDF: file of ${MAX_DDF_CHARS + 1} characters exceeds the limit of ${MAX_DDF_CHARS}`)
    expect(ddfError(42 as unknown as string).message).toBe('DDF: input is not a string')
  })
})
