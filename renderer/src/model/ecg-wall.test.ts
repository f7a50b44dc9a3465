import { describe, expect, it } from 'vitest'
import { ObjectRegistry } from '../../../shared/lwm2m/object-registry.ts'
import { tilesKey, wallTiles } from './ecg-wall.ts'
import { buildObjectTree, type ObjectNode, type ValueEntry } from './object-tree.ts'

const registry = ObjectRegistry.withBuiltins()

function tree(ecgObjects: number[], observed: string[], descriptions: Record<number, string> = {}): ObjectNode[] {
  const values = new Map<string, ValueEntry>(Object.entries(descriptions).map(([o, d]) => [`/${o}/0/0`, { value: d, receivedAt: 1, source: 'read' }]))
  // A sample seen makes the resource known even without a model.
  for (const o of ecgObjects) values.set(`/${o}/0/1`, { value: 12, receivedAt: 1, source: 'notification' })
  return buildObjectTree({ objects: [{ objectId: 3, instances: [0] }, ...ecgObjects.map((o) => ({ objectId: o, instances: [0] }))], models: registry, values, observed })
}

describe('ECG wall tiles', () => {
  it('takes every observed ECG stream, named by its twin, in path order', () => {
    const trees = new Map([['gw', tree([1031, 1040, 1200], ['/1200/0/1', '/1040/0', '/3/0/9'], {
      1040: 'ECG service f0010000-0000-1000-8000-00805f9b34fb of "Patch 2" (c0:07:01:00:00:02)',
      1200: 'ECG service f0010000-0000-1000-8000-00805f9b34fb of "Patch 3" (c0:07:01:00:00:03)',
    })]])
    // 1031 is not observed; 1040 through its instance; /3/0/9 is no ECG.
    expect(wallTiles(trees)).toEqual([
      { endpoint: 'gw', path: '/1040/0/1', title: 'ECG (Patch 2)' },
      { endpoint: 'gw', path: '/1200/0/1', title: 'ECG (Patch 3)' },
    ])
  })

  it('adds the endpoint to titles when several clients stream', () => {
    const trees = new Map([['b', tree([1031], ['/1031/0/1'])], ['a', tree([1031], ['/1031'])]])
    const tiles = wallTiles(trees)
    expect(tiles.map((t) => `${t.endpoint}${t.path}`)).toEqual(['a/1031/0/1', 'b/1031/0/1'])
    expect(tiles[0]?.title).toBe('Object 1031 · a')
  })

  it('keys tiles by what they show', () => {
    const a = wallTiles(new Map([['gw', tree([1031], ['/1031/0/1'])]]))
    const b = wallTiles(new Map([['gw', tree([1031], ['/1031/0/1'])]]))
    expect(tilesKey(a)).toBe(tilesKey(b))
    expect(tilesKey(a)).not.toBe(tilesKey([]))
  })
})
