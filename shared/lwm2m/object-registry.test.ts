import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CodecError } from './errors.ts'
import { defineObject, defaultUrn } from './models/compact.ts'
import { CORE_MODELS } from './models/core.ts'
import { GATEWAY_MODELS } from './models/gateway.ts'
import { IPSO_MODELS } from './models/ipso.ts'
import { OBJECTTWIN_MODELS } from './models/objecttwin.ts'
import type { ModelLookup, ObjectModel } from './object-model.ts'
import { compareVersions, ObjectRegistry } from './object-registry.ts'

const fixture = (name: string): string => readFileSync(new URL(`../../test/fixtures/ddf/${name}`, import.meta.url), 'utf8')
const BUILTINS = [...CORE_MODELS, ...GATEWAY_MODELS, ...IPSO_MODELS, ...OBJECTTWIN_MODELS]
const ids = (model: ObjectModel | undefined): number[] => [...(model?.resources.keys() ?? [])]
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('compact definitions', () => {
  it('builds a model with defaults and the OMNA URN', () => {
    const model = defineObject({ id: 3303, name: 'Temperature', version: '1.1' }, [
      [5701, 'Sensor Units', 'R', 'string'],
      [5700, 'Sensor Value', 'R', 'float', { mandatory: true, units: 'Cel', range: '-40..125', description: 'Last value' }],
    ])
    expect(model).toEqual({
      id: 3303,
      name: 'Temperature',
      version: '1.1',
      urn: 'urn:oma:lwm2m:ext:3303:1.1',
      multiple: false,
      mandatory: false,
      resources: new Map([
        [5700, { id: 5700, name: 'Sensor Value', operations: 'R', multiple: false, mandatory: true, type: 'float', units: 'Cel', range: '-40..125', description: 'Last value' }],
        [5701, { id: 5701, name: 'Sensor Units', operations: 'R', multiple: false, mandatory: false, type: 'string' }],
      ]),
    })
    expect(ids(model)).toEqual([5700, 5701])
  })

  it('derives URNs for the OMA and ext ranges only', () => {
    expect(defaultUrn(3, '1.0')).toBe('urn:oma:lwm2m:oma:3')
    expect(defaultUrn(3, '1.2')).toBe('urn:oma:lwm2m:oma:3:1.2')
    expect(defaultUrn(10240, '1.0')).toBe('urn:oma:lwm2m:ext:10240')
    expect(defaultUrn(10250, '1.0')).toBeUndefined()
    expect(defaultUrn(1031, '1.0')).toBeUndefined()
    expect(defaultUrn(10300, '1.0')).toBeUndefined()
  })

  it('rejects duplicate and out-of-range resource ids', () => {
    expect(() => defineObject({ id: 9, name: 'X' }, [[1, 'A', 'R', 'string'], [1, 'B', 'R', 'string']])).toThrow('object 9 v1.0: duplicate resource id 1')
    expect(() => defineObject({ id: 9, name: 'X' }, [[65535, 'A', 'R', 'string']])).toThrow('object 9: resource id 65535 is out of range 0-65534')
  })
})

describe('built-in definitions', () => {
  it('are consistent: unique ids keyed by id, names, and type none exactly for executables', () => {
    const seen = new Set<string>()
    for (const model of BUILTINS) {
      const key = `${model.id}@${model.version}`
      expect(seen.has(key), key).toBe(false)
      seen.add(key)
      expect(model.name.length).toBeGreaterThan(0)
      expect(model.version).toMatch(/^\d+\.\d+$/)
      const resourceIds = [...model.resources.values()].map((r) => r.id)
      expect(new Set(resourceIds).size, key).toBe(resourceIds.length)
      for (const [id, resource] of model.resources) {
        expect(resource.id, `${key}/${id}`).toBe(id)
        expect(resource.name.length, `${key}/${id}`).toBeGreaterThan(0)
        expect(resource.type === 'none', `${key}/${id} type vs operations`).toBe(resource.operations === 'E')
      }
    }
  })

  it.each(['1.0', '1.1', '1.2'])('/3 v%s has the types the TLV example of the Device object uses', (version) => {
    const device = ObjectRegistry.withBuiltins().get(3, version)
    expect(ids(device)).toEqual(range(0, 22))
    const shape = (id: number): [string | undefined, boolean | undefined] => [device?.resources.get(id)?.type, device?.resources.get(id)?.multiple]
    for (const id of [0, 1, 2, 3, 14, 15, 16, 17, 18, 19]) expect(shape(id), `/3/${id}`).toEqual(['string', false])
    for (const id of [6, 7, 8, 11]) expect(shape(id), `/3/${id}`).toEqual(['integer', true])
    for (const id of [9, 10, 20, 21]) expect(shape(id), `/3/${id}`).toEqual(['integer', false])
    expect(shape(13)).toEqual(['time', false])
    expect(shape(22)).toEqual(['objlnk', true])
    expect(device?.resources.get(4)).toMatchObject({ operations: 'E', mandatory: true, type: 'none' })
    expect(device?.resources.get(9)).toMatchObject({ range: '0..100', units: '%' })
    expect(device).toMatchObject({ multiple: false, mandatory: true })
  })

  it('/3 1.2 differs from 1.1 in the error code range only', () => {
    const registry = ObjectRegistry.withBuiltins()
    expect(registry.resource(3, 11, '1.1')?.range).toBe('0..8')
    expect(registry.resource(3, 11, '1.2')?.range).toBe('0..32')
  })

  it('has the Security and Server resource sets of each version', () => {
    const registry = ObjectRegistry.withBuiltins()
    expect(ids(registry.get(0, '1.0'))).toEqual(range(0, 12))
    expect(ids(registry.get(0, '1.1'))).toEqual(range(0, 17))
    expect(ids(registry.get(0, '1.2'))).toEqual(range(0, 30))
    expect(registry.resource(0, 2)).toMatchObject({ name: 'Security Mode', type: 'integer', operations: '', mandatory: true })
    expect(registry.resource(0, 3)?.type).toBe('opaque')
    expect(registry.resource(0, 10)).toMatchObject({ name: 'Short Server ID', range: '1..65534' })
    expect(registry.resource(0, 16, '1.1')).toMatchObject({ type: 'integer', multiple: true })
    expect(registry.resource(0, 16, '1.2')).toMatchObject({ type: 'unsigned', multiple: true })
    expect(registry.resource(0, 17)?.type).toBe('objlnk')

    expect(ids(registry.get(1, '1.0'))).toEqual(range(0, 8))
    expect(ids(registry.get(1, '1.1'))).toEqual(range(0, 23))
    expect(ids(registry.get(1, '1.2'))).toEqual(range(0, 27))
    expect(registry.resource(1, 1, '1.1')).toMatchObject({ name: 'Lifetime', type: 'integer', operations: 'RW', units: 's' })
    expect(registry.resource(1, 1, '1.2')?.type).toBe('unsigned')
    expect(registry.resource(1, 8)).toMatchObject({ name: 'Registration Update Trigger', operations: 'E', mandatory: true })
    expect(registry.resource(1, 13, '1.1')?.operations).toBe('')
    expect(registry.resource(1, 23)).toMatchObject({ name: 'Mute Send', type: 'boolean' })
  })

  it('has objects 2 and 4-7', () => {
    const registry = ObjectRegistry.withBuiltins()
    expect(ids(registry.get(2))).toEqual([0, 1, 2, 3])
    expect(registry.resource(2, 2)).toMatchObject({ name: 'ACL', multiple: true, operations: 'RW' })
    expect(registry.resource(4, 2, '1.0')).toMatchObject({ name: 'Radio Signal Strength', units: 'dBm', type: 'integer' })
    expect(ids(registry.get(4, '1.2'))).toEqual(range(0, 12))
    expect(ids(registry.get(5))).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9])
    expect(registry.resource(5, 0)).toMatchObject({ operations: 'W', type: 'opaque' })
    expect(registry.resource(6, 0)).toMatchObject({ name: 'Latitude', type: 'float', mandatory: true })
    expect(registry.resource(6, 5)?.type).toBe('time')
    expect(ids(registry.get(7))).toEqual(range(0, 8))
  })

  it('has the gateway objects 25 v2.0 (no resource 2) and 26', () => {
    const registry = ObjectRegistry.withBuiltins()
    const gateway = registry.get(25)
    expect(gateway).toMatchObject({ name: 'LwM2M Gateway', version: '2.0', multiple: true })
    expect([...(gateway?.resources.values() ?? [])].map((r) => [r.id, r.name, r.operations, r.type, r.mandatory])).toEqual([
      [0, 'Device ID', 'R', 'string', true],
      [1, 'Prefix', 'R', 'string', true],
      [3, 'IoT Device Objects', 'R', 'corelnk', true],
    ])
    expect([...(registry.get(26)?.resources.values() ?? [])].map((r) => [r.id, r.type])).toEqual([
      [0, 'unsigned'],
      [1, 'corelnk'],
    ])
  })

  it('has the IPSO sensors with their common resources', () => {
    const registry = ObjectRegistry.withBuiltins()
    for (const id of [3300, 3303, 3316, 3320, 3346]) {
      const model = registry.get(id)
      expect(model?.multiple, `${id}`).toBe(true)
      expect(model?.resources.get(5700), `${id}`).toMatchObject({ name: 'Sensor Value', type: 'float', operations: 'R', mandatory: true })
      expect(model?.resources.get(5701)?.type, `${id}`).toBe('string')
      expect(model?.resources.get(5605), `${id}`).toMatchObject({ operations: 'E', type: 'none' })
    }
    expect(registry.versions(3303)).toEqual(['1.0', '1.1'])
    expect(registry.resource(3303, 5518)?.type).toBe('time')
    expect(registry.resource(3303, 5518, '1.0')).toBeUndefined()
    expect(registry.resource(3346, 5821)).toMatchObject({ operations: 'RW', type: 'float' })
    expect(registry.objectName(3346)).toBe('Rate')
  })
})

describe('ObjectRegistry', () => {
  it('serves the newest version by default, or the one set', () => {
    const registry = ObjectRegistry.withBuiltins()
    expect(registry.versions(3)).toEqual(['1.0', '1.1', '1.2'])
    expect(registry.get(3)?.version).toBe('1.2')
    registry.setDefaultVersion(3, '1.1')
    expect(registry.get(3)?.version).toBe('1.1')
    expect(registry.resource(3, 11)?.range).toBe('0..8')
    expect(() => registry.setDefaultVersion(3, '9.9')).toThrow('object 3 has no version 9.9; known: 1.0, 1.1, 1.2')
    expect(() => registry.setDefaultVersion(1031, '1.0')).toThrow(RangeError)
  })

  it('answers unknown objects and resources with undefined and generic names', () => {
    const registry = ObjectRegistry.withBuiltins()
    expect(registry.get(1031)).toBeUndefined()
    expect(registry.get(3, '7.0')).toBeUndefined()
    expect(registry.resource(3, 999)).toBeUndefined()
    expect(registry.versions(1031)).toEqual([])
    expect(registry.objectName(1031)).toBe('Object 1031')
    expect(registry.resourceName(1031, 2)).toBe('Resource 2')
    expect(registry.resourceName(3, 999)).toBe('Resource 999')
    expect(registry.objectName(3)).toBe('Device')
    expect(registry.resourceName(3, 0)).toBe('Manufacturer')
    expect(registry.resourceName(1, 1)).toBe('Lifetime')
  })

  it('loads DDF files, keeping several versions of one object', () => {
    const registry = new ObjectRegistry()
    const loaded = registry.loadDdf(fixture('10250-1_0.xml'))
    expect(loaded.map((m) => [m.id, m.version])).toEqual([[10250, '1.0']])
    registry.loadDdf(fixture('10250-1_1.xml'))
    expect(registry.versions(10250)).toEqual(['1.0', '1.1'])
    expect(registry.get(10250)?.version).toBe('1.1')
    expect(registry.resource(10250, 0)?.type).toBe('float')
    expect(registry.resource(10250, 0, '1.0')?.type).toBe('integer')
    expect(registry.resource(10250, 1, '1.0')).toBeUndefined()
    expect(registry.loadDdf(fixture('two-objects.xml')).map((m) => m.id)).toEqual([10300, 10301])
    expect(registry.all().map((m) => `${m.id}@${m.version}`)).toEqual(['10250@1.0', '10250@1.1', '10300@2.0', '10301@1.0'])
  })

  it('adds nothing from an invalid DDF file', () => {
    const registry = new ObjectRegistry()
    expect(() => registry.loadDdf(fixture('invalid/unknown-type.xml'))).toThrow(CodecError)
    expect(registry.all()).toEqual([])
  })

  it('replaces a model of the same id and version, and a DDF can override a built-in', () => {
    const registry = ObjectRegistry.withBuiltins()
    const custom = defineObject({ id: 3303, name: 'Skin Temperature', version: '1.1', multiple: true }, [[5700, 'Skin Value', 'R', 'float']])
    registry.add(custom)
    expect(registry.get(3303)).toBe(custom)
    expect(registry.versions(3303)).toEqual(['1.0', '1.1'])
    registry.loadDdf(fixture('3303-temperature.xml'))
    expect(registry.get(3303)?.name).toBe('Temperature')
  })

  it('lists all models by id then version', () => {
    const all = ObjectRegistry.withBuiltins().all()
    expect(all).toHaveLength(BUILTINS.length)
    expect(all.slice(0, 4).map((m) => `${m.id}@${m.version}`)).toEqual(['0@1.0', '0@1.1', '0@1.2', '1@1.0'])
    expect([...new Set(all.map((m) => m.id))]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 25, 26, 3300, 3303, 3316, 3320, 3346, 33000, 33001])
  })

  it('is a ModelLookup using the default version', () => {
    const lookup: ModelLookup = ObjectRegistry.withBuiltins()
    expect(lookup.resource(1, 1)?.type).toBe('unsigned')
    expect(lookup.resource(3, 13)?.type).toBe('time')
    expect(lookup.resource(1031, 1)).toBeUndefined()
  })

  it('orders versions numerically', () => {
    expect(['1.10', '1.2', '2.0', '1.0'].sort(compareVersions)).toEqual(['1.0', '1.2', '1.10', '2.0'])
  })
})

describe('ObjectRegistry.forVersions', () => {
  it('resolves each object in the version the client registered', () => {
    const registry = ObjectRegistry.withBuiltins()
    const client = registry.forVersions(new Map([[1, '1.1'], [3, '1.0']]))
    expect(client.get(1)?.version).toBe('1.1')
    expect(client.resource(1, 1)?.type).toBe('integer')
    expect(registry.resource(1, 1)?.type).toBe('unsigned')
    expect(client.get(3)?.version).toBe('1.0')
    expect(client.get(0)?.version).toBe('1.2') // not listed: the default
    expect(client.objectName(1031)).toBe('Object 1031')
    expect(client.resourceName(3, 0)).toBe('Manufacturer')
    expect(client.resourceName(3, 99)).toBe('Resource 99')
  })

  it('falls back to the newest older version, else the default', () => {
    const registry = ObjectRegistry.withBuiltins()
    const client = registry.forVersions(new Map([[3, '1.5'], [1, '0.9'], [3303, '1.1']]))
    expect(client.get(3)?.version).toBe('1.2')
    expect(client.get(1)?.version).toBe('1.2')
    // Connectivity Monitoring is known in 1.0 and 1.2: a 1.1 client gets 1.0.
    const older = registry.forVersions(new Map([[4, '1.1']]))
    expect(older.get(4)?.version).toBe('1.0')
    expect(older.resource(4, 11)).toBeUndefined()
  })

  it('is live: models added later are seen, and the given map is copied', () => {
    const registry = new ObjectRegistry()
    const versions = new Map([[10250, '1.0']])
    const client = registry.forVersions(versions)
    expect(client.resource(10250, 0)).toBeUndefined()
    registry.loadDdf(fixture('10250-1_1.xml'))
    expect(client.get(10250)?.version).toBe('1.1') // 1.0 is not known yet: the default
    registry.loadDdf(fixture('10250-1_0.xml'))
    versions.set(10250, '1.1')
    expect(client.resource(10250, 0)?.type).toBe('integer')
  })
})
