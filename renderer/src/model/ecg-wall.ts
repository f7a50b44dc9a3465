import type { ObjectNode, ResourceNode } from './object-tree.ts'

/** The ECG sample resources of a client's tree that are being watched (observed themselves, or their instance or object). */
export function observedEcgSamples(tree: readonly ObjectNode[]): ResourceNode[] {
  return tree.flatMap((o) => (o.ecg ? o.instances.flatMap((i) => i.resources.filter((r) => r.ecgSamples && (r.observed || r.observedViaParent))) : []))
}

/** One patient on the ECG wall. */
export interface WallTileSpec {
  readonly endpoint: string
  /** The observed ECG samples, e.g. /1031/0/1. */
  readonly path: string
  /** The twin's name ("ECG (Patch 1)"), with the endpoint when several clients stream ECG. */
  readonly title: string
}

/**
 * The tiles of the ECG wall: every watched ECG stream of every client, in endpoint then path order.
 * `trees` holds each client's object tree.
 */
export function wallTiles(trees: ReadonlyMap<string, readonly ObjectNode[]>): WallTileSpec[] {
  const found: { endpoint: string; path: string; name: string }[] = []
  for (const [endpoint, tree] of trees) {
    for (const o of tree) {
      if (!o.ecg) continue
      for (const r of observedEcgSamples([o])) found.push({ endpoint, path: r.path, name: o.name })
    }
  }
  found.sort((a, b) => a.endpoint.localeCompare(b.endpoint) || comparePaths(a.path, b.path))
  const several = new Set(found.map((t) => t.endpoint)).size > 1
  return found.map((t) => ({ endpoint: t.endpoint, path: t.path, title: several ? `${t.name} · ${t.endpoint}` : t.name }))
}

/** Numeric order of LwM2M paths (/2/0/1 before /10/0/1). */
function comparePaths(a: string, b: string): number {
  const x = a.split('/').map(Number)
  const y = b.split('/').map(Number)
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1)
    if (d !== 0) return d
  }
  return 0
}

/** A key that changes only when the tiles do (the wall keeps its monitors while values stream). */
export function tilesKey(tiles: readonly WallTileSpec[]): string {
  return tiles.map((t) => `${t.endpoint}\u0000${t.path}\u0000${t.title}`).join('\u0001')
}
