import { describe, expect, it } from 'vitest'
import { defineObject } from '../../../shared/lwm2m/models/compact.ts'
import { ObjectRegistry } from '../../../shared/lwm2m/object-registry.ts'
import {
  applyRecords,
  buildObjectTree,
  countTwins,
  describesEcgService,
  findNode,
  flattenTree,
  isTwinObject,
  normalizePath,
  removeValuesUnder,
  twinNameFromDescription,
  type ResourceNode,
  type ValueEntry,
} from './object-tree.ts'

const registry = ObjectRegistry.withBuiltins()

const objects = [
  { objectId: 3303, instances: [1, 0] },
  { objectId: 1, instances: [0] },
  { objectId: 3, instances: [0] },
  { objectId: 1031, instances: [0] },
]

function resource(tree: ReturnType<typeof buildObjectTree>, path: string): ResourceNode {
  const node = findNode(tree, path)
  if (node?.kind !== 'resource') throw new Error(`no resource at ${path}`)
  return node
}

describe('buildObjectTree', () => {
  it('sorts objects and instances and names them from the registry', () => {
    const tree = buildObjectTree({ objects, models: registry })
    expect(tree.map((o) => o.path)).toEqual(['/1', '/3', '/1031', '/3303'])
    expect(tree[1]?.name).toBe('Device')
    expect(tree[3]?.instances.map((i) => i.path)).toEqual(['/3303/0', '/3303/1'])
    expect(tree[3]?.name).toBe('Temperature')
  })

  it('lists the model resources of a known object with type and operations', () => {
    const tree = buildObjectTree({ objects, models: registry })
    const manufacturer = resource(tree, '/3/0/0')
    expect(manufacturer).toMatchObject({ name: 'Manufacturer', type: 'string', readable: true, writable: false, executable: false, observable: true, known: true })
    const reboot = resource(tree, '/3/0/4')
    expect(reboot).toMatchObject({ name: 'Reboot', executable: true, readable: false, observable: false })
    const time = resource(tree, '/3/0/13')
    expect(time).toMatchObject({ type: 'time', writable: true, readable: true })
  })

  it('attaches values, resource instances and the latest timestamp', () => {
    const values = new Map<string, ValueEntry>()
    applyRecords(
      values,
      [
        { path: '/3/0/0', value: 'Open Mobile Alliance', type: 'string' },
        { path: '/3/0/7/0', value: 3800, type: 'integer' },
        { path: '/3/0/7/1', value: 5000, type: 'integer' },
      ],
      'read',
      1000,
    )
    const tree = buildObjectTree({ objects, models: registry, values })
    expect(resource(tree, '/3/0/0').value).toEqual({ value: 'Open Mobile Alliance', type: 'string', receivedAt: 1000, source: 'read' })
    const voltage = resource(tree, '/3/0/7')
    expect(voltage.multiple).toBe(true)
    expect(voltage.instances.map((i) => [i.path, i.value?.value])).toEqual([
      ['/3/0/7/0', 3800],
      ['/3/0/7/1', 5000],
    ])
  })

  it('shows unknown objects with generic names and the resources seen in values or discovery', () => {
    const values = new Map<string, ValueEntry>()
    applyRecords(values, [{ path: '/4000/0/5', value: 7, type: 'integer' }], 'read', 1)
    const tree = buildObjectTree({ objects: [{ objectId: 4000, instances: [0] }], models: registry, values, discovered: ['/4000/0/2', '/4000/0'] })
    expect(tree[0]).toMatchObject({ name: 'Object 4000', known: false, twin: true, ecg: false })
    const resources = tree[0]?.instances[0]?.resources ?? []
    expect(resources.map((r) => [r.path, r.name, r.type])).toEqual([
      ['/4000/0/2', 'Resource 2', undefined],
      ['/4000/0/5', 'Resource 5', 'integer'],
    ])
    // Nothing is known about its operations: every one is offered.
    expect(resources[0]).toMatchObject({ readable: true, writable: true, executable: true })
  })

  it('names an ECG twin from its description and applies the ECG profile', () => {
    const values = new Map<string, ValueEntry>()
    applyRecords(values, [{ path: '/1040/0/0', value: 'ECG service f0010000-0000-1000-8000-00805f9b34fb of "Patch 7" (c0:ff:ee:00:00:01), handles 0x000b..0x0011', type: 'string' }], 'read', 1)
    const tree = buildObjectTree({ objects: [{ objectId: 1040, instances: [0] }], models: registry, values })
    expect(tree[0]).toMatchObject({ name: 'ECG (Patch 7)', twin: true, ecg: true, known: true })
    expect(resource(tree, '/1040/0/1')).toMatchObject({ name: 'ECG Value', ecgSamples: true, observable: true })
    expect(resource(tree, '/1040/0/2')).toMatchObject({ name: 'Sampling Rate', writable: true, units: 'Hz', ecgSamples: false })
  })

  it('takes the paper ECG id without a description for the ECG twin, but not a twin described otherwise', () => {
    const plain = buildObjectTree({ objects: [{ objectId: 1031, instances: [0] }], models: registry })
    expect(plain[0]).toMatchObject({ ecg: true, twin: true, known: false, name: 'Object 1031' })
    expect(plain[0]?.instances[0]?.resources).toEqual([])
    const values = new Map<string, ValueEntry>()
    applyRecords(values, [{ path: '/1031/0/0', value: 'Heart Rate service 0000180d-0000-1000-8000-00805f9b34fb of "Strap" (aa)', type: 'string' }], 'read', 1)
    const hr = buildObjectTree({ objects: [{ objectId: 1031, instances: [0] }], models: registry, values })
    expect(hr[0]).toMatchObject({ ecg: false, name: 'Heart Rate (Strap)' })
  })

  it('marks observed paths and resources observed through their instance', () => {
    const tree = buildObjectTree({ objects, models: registry, observed: ['/3303/0/5700', '/3/0/'] })
    expect(resource(tree, '/3303/0/5700')).toMatchObject({ observed: true, observedViaParent: false })
    expect(resource(tree, '/3303/1/5700')).toMatchObject({ observed: false })
    expect(resource(tree, '/3/0/9')).toMatchObject({ observed: false, observedViaParent: true })
    expect(findNode(tree, '/3/0')).toMatchObject({ observed: true })
  })

  it('names twins from the models the server learned from their gateway', () => {
    const strap = defineObject({ id: 1035, name: 'Heart Rate (Strap)', description: 'Heart Rate service 0000180d-0000-1000-8000-00805f9b34fb of "Strap" (aa)' }, [
      [0, 'Service', 'R', 'string', { mandatory: true }],
      [1, 'Heart Rate', 'R', 'integer', { units: '/min' }],
      [3, 'Reset Energy Expended', 'E', 'none'],
    ])
    const tree = buildObjectTree({ objects: [{ objectId: 1035, instances: [0] }], models: registry, clientModels: new Map([[1035, strap]]) })
    expect(tree[0]).toMatchObject({ name: 'Heart Rate (Strap)', twin: true, known: true, ecg: false, description: strap.description })
    expect(resource(tree, '/1035/0/1')).toMatchObject({ name: 'Heart Rate', known: true, type: 'integer', units: '/min', writable: false })
    expect(resource(tree, '/1035/0/3')).toMatchObject({ name: 'Reset Energy Expended', executable: true, readable: false })
    // Still a twin for the gateway views: the registry has no model of it.
    expect(countTwins([{ objectId: 1035, instances: [0] }], registry)).toBe(1)
  })

  it('takes an ECG twin from its published model, and no longer guesses ECG from the id 1031', () => {
    const ecgModel = defineObject({ id: 1033, name: 'ECG (Patch 2)', description: 'ECG service f0010000-0000-1000-8000-00805f9b34fb of "Patch 2" (c0:07:01:00:00:02)' }, [
      [0, 'Service', 'R', 'string'],
      [1, 'ECG sensor value', 'R', 'integer', { units: '10uV' }],
      [2, 'Sampling rate (Hz)', 'RW', 'integer', { units: 'Hz' }],
    ])
    const battery = defineObject({ id: 1031, name: 'Battery (Patch 2)', description: 'Battery service 0000180f-0000-1000-8000-00805f9b34fb of "Patch 2" (x)' }, [[1, 'Battery Level', 'R', 'integer']])
    const tree = buildObjectTree({
      objects: [{ objectId: 1031, instances: [0] }, { objectId: 1033, instances: [0] }],
      models: registry,
      clientModels: new Map([[1031, battery], [1033, ecgModel]]),
    })
    expect(tree.map((o) => [o.name, o.ecg])).toEqual([['Battery (Patch 2)', false], ['ECG (Patch 2)', true]])
    expect(resource(tree, '/1033/0/1')).toMatchObject({ name: 'ECG sensor value', ecgSamples: true })
    expect(resource(tree, '/1033/0/2')).toMatchObject({ name: 'Sampling rate (Hz)', writable: true })
  })

  it('never lets a client model stand in for a registry model', () => {
    const fake = defineObject({ id: 3, name: 'Not the Device' }, [[0, 'Nonsense', 'R', 'string']])
    const tree = buildObjectTree({ objects: [{ objectId: 3, instances: [0] }], models: registry, clientModels: new Map([[3, fake]]) })
    expect(tree[0]?.name).toBe('Device')
    expect(resource(tree, '/3/0/0').name).toBe('Manufacturer')
  })

  it('keeps an object with no instance (the client may create one)', () => {
    const tree = buildObjectTree({ objects: [{ objectId: 3303, instances: [] }], models: registry })
    expect(tree[0]?.instances).toEqual([])
  })
})

describe('applyRecords', () => {
  it('keeps the latest-timed sample of a batch as the value', () => {
    const values = new Map<string, ValueEntry>()
    const changed = applyRecords(
      values,
      [
        { path: '/1031/0/1', value: 10, time: 100.002 },
        { path: '/1031/0/1', value: 30, time: 100.006 },
        { path: '/1031/0/1', value: 20, time: 100.004 },
      ],
      'notification',
      5,
    )
    expect(changed).toEqual(['/1031/0/1'])
    expect(values.get('/1031/0/1')).toMatchObject({ value: 30, time: 100.006, source: 'notification' })
  })

  it('without times, the last record wins; bad paths are ignored', () => {
    const values = new Map<string, ValueEntry>()
    applyRecords(values, [{ path: '/3/0/9', value: 1 }, { path: 'nonsense', value: 2 }, { path: '/3/0/9/', value: 3 }], 'read', 1)
    expect([...values.keys()]).toEqual(['/3/0/9'])
    expect(values.get('/3/0/9')?.value).toBe(3)
  })
})

describe('helpers', () => {
  it('removes values at and under a path only', () => {
    const values = new Map<string, ValueEntry>()
    applyRecords(values, [{ path: '/3303/0/5700', value: 1 }, { path: '/3303/1/5700', value: 2 }, { path: '/33030/0/1', value: 3 }], 'read', 1)
    expect(removeValuesUnder(values, '/3303/0')).toBe(1)
    expect([...values.keys()].sort()).toEqual(['/3303/1/5700', '/33030/0/1'])
  })

  it('counts twins: dynamic objects without a standard model', () => {
    expect(isTwinObject(1031, registry)).toBe(true)
    expect(isTwinObject(3303, registry)).toBe(false)
    expect(isTwinObject(500, registry)).toBe(false)
    expect(countTwins(objects, registry)).toBe(1)
  })

  it('recognises ECG descriptions and shortens others', () => {
    expect(describesEcgService('ECG service f0010000-0000-1000-8000-00805f9b34fb of "P" (x)')).toBe(true)
    expect(describesEcgService('Battery service 0000180f-0000-1000-8000-00805f9b34fb of "P" (x)')).toBe(false)
    expect(describesEcgService(undefined)).toBe(false)
    expect(twinNameFromDescription('x'.repeat(60))).toHaveLength(48)
  })

  it('normalizes paths', () => {
    expect(normalizePath('/3/0/')).toBe('/3/0')
    expect(normalizePath('/')).toBe('/')
    expect(normalizePath('/dev0/3/0')).toBeUndefined()
    expect(normalizePath('3/0')).toBeUndefined()
  })

  it('finds nodes at every level', () => {
    const values = new Map<string, ValueEntry>()
    applyRecords(values, [{ path: '/3/0/6/1', value: 5 }], 'read', 1)
    const tree = buildObjectTree({ objects, models: registry, values })
    expect(findNode(tree, '/3')?.kind).toBe('object')
    expect(findNode(tree, '/3/0')?.kind).toBe('instance')
    expect(findNode(tree, '/3/0/6')?.kind).toBe('resource')
    expect(findNode(tree, '/3/0/6/1')?.kind).toBe('resourceInstance')
    expect(findNode(tree, '/9/0')).toBeUndefined()
  })
})

describe('flattenTree', () => {
  it('opens objects and twin instances by default, and follows the user', () => {
    const values = new Map<string, ValueEntry>()
    applyRecords(values, [{ path: '/3/0/7/0', value: 1 }], 'read', 1)
    const tree = buildObjectTree({ objects: [{ objectId: 3, instances: [0] }, { objectId: 1031, instances: [0] }], models: registry, values })
    const paths = (o: Map<string, boolean>): string[] => flattenTree(tree, o).map((r) => r.node.path)
    expect(paths(new Map())).toEqual(['/3', '/3/0', '/1031', '/1031/0'])
    expect(flattenTree(tree, new Map()).map((r) => [r.node.path, r.expanded])).toEqual([
      ['/3', true],
      ['/3/0', false],
      ['/1031', true],
      ['/1031/0', true],
    ])
    const opened = flattenTree(tree, new Map([['/3/0', true], ['/1031', false]]))
    expect(opened.find((r) => r.node.path === '/3/0/7')).toMatchObject({ level: 3, expandable: true, expanded: true, parent: '/3/0' })
    expect(opened.find((r) => r.node.path === '/3/0/7/0')).toMatchObject({ level: 4, parent: '/3/0/7' })
    expect(opened.at(-1)?.node.path).toBe('/1031')
  })
})
