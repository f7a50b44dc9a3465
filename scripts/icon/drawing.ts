/**
 * The ObjectTwin Console icon, as geometry: a rounded tile in the console's teal fading to deep blue,
 * an ECG trace in white (the sensor), and below a faint line its mirror image in mint (its twin). The
 * same shapes become build/icon.svg and, rasterised here with analytic anti-aliasing (each pixel's
 * coverage from its signed distance to the shape), every PNG the installers need.
 */

/** The drawing's own coordinate space: a 1024 × 1024 canvas. */
export const CANVAS = 1024

type Point = readonly [number, number]
type Rgb = readonly [number, number, number]

export const TILE = { x: 64, y: 64, size: 896, radius: 200 } as const
export const GRADIENT = { top: [0x12, 0xa5, 0x8a] as Rgb, bottom: [0x0b, 0x35, 0x5b] as Rgb }
/** The mirror's axis: the twin is the trace reflected about this line. */
export const MIRROR_Y = 560

const BASE = 470
/** One heartbeat: flat, P wave, QRS complex (Q dip, R spike, S dip), flat, T wave, flat. */
export const TRACE: readonly Point[] = [
  [176, BASE], [318, BASE], [346, BASE - 34], [374, BASE], [440, BASE], [464, BASE + 34],
  [512, 228], [560, BASE + 58], [592, BASE], [660, BASE], [714, BASE - 74], [768, BASE], [848, BASE],
]
export const TWIN: readonly Point[] = TRACE.map(([x, y]) => [x, 2 * MIRROR_Y - y] as const)

export interface Stroke {
  readonly points: readonly Point[]
  /** Width in canvas units. */
  readonly width: number
  /** Never thinner than this many pixels, so small icons keep a visible line. */
  readonly minPixels: number
  readonly color: Rgb
  readonly opacity: number
  /** Left out below this icon size (pixels), where it would only blur the trace. */
  readonly minIconSize: number
}

export const STROKES: readonly Stroke[] = [
  { points: [[236, MIRROR_Y], [788, MIRROR_Y]], width: 10, minPixels: 0.8, color: [0xff, 0xff, 0xff], opacity: 0.35, minIconSize: 64 },
  { points: TWIN, width: 40, minPixels: 1.1, color: [0x7d, 0xf2, 0xd8], opacity: 0.7, minIconSize: 24 },
  { points: TRACE, width: 54, minPixels: 1.6, color: [0xff, 0xff, 0xff], opacity: 1, minIconSize: 0 },
]

/** Signed distance from (px, py) to the tile (negative inside). */
function tileDistance(px: number, py: number): number {
  const half = TILE.size / 2
  const cx = TILE.x + half
  const cy = TILE.y + half
  const inner = half - TILE.radius
  const qx = Math.abs(px - cx) - inner
  const qy = Math.abs(py - cy) - inner
  const outside = Math.hypot(Math.max(qx, 0), Math.max(qy, 0))
  return outside + Math.min(Math.max(qx, qy), 0) - TILE.radius
}

/** Distance from (px, py) to the polyline (round caps and joins come for free). */
function polylineDistance(px: number, py: number, points: readonly Point[]): number {
  let best = Infinity
  for (let i = 1; i < points.length; i++) {
    const [ax, ay] = points[i - 1] as Point
    const [bx, by] = points[i] as Point
    const dx = bx - ax
    const dy = by - ay
    const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    best = Math.min(best, Math.hypot(px - ax - t * dx, py - ay - t * dy))
  }
  return best
}

const coverage = (distancePixels: number): number => Math.max(0, Math.min(1, 0.5 - distancePixels))

/** The icon at `size` × `size` pixels, as straight (not premultiplied) RGBA rows. */
export function renderIcon(size: number): Uint8Array {
  const scale = size / CANVAS
  const rgba = new Uint8Array(size * size * 4)
  const strokes = STROKES.filter((s) => size >= s.minIconSize)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const px = (x + 0.5) / scale
      const py = (y + 0.5) / scale
      const tile = coverage(tileDistance(px, py) * scale)
      if (tile === 0) continue
      const t = Math.max(0, Math.min(1, (py - TILE.y) / TILE.size))
      let r = GRADIENT.top[0] + (GRADIENT.bottom[0] - GRADIENT.top[0]) * t
      let g = GRADIENT.top[1] + (GRADIENT.bottom[1] - GRADIENT.top[1]) * t
      let b = GRADIENT.top[2] + (GRADIENT.bottom[2] - GRADIENT.top[2]) * t
      for (const stroke of strokes) {
        const halfWidth = Math.max(stroke.width * scale, stroke.minPixels) / 2
        const a = coverage(polylineDistance(px, py, stroke.points) * scale - halfWidth) * stroke.opacity
        if (a === 0) continue
        r += (stroke.color[0] - r) * a
        g += (stroke.color[1] - g) * a
        b += (stroke.color[2] - b) * a
      }
      const i = (y * size + x) * 4
      rgba[i] = Math.round(r)
      rgba[i + 1] = Math.round(g)
      rgba[i + 2] = Math.round(b)
      rgba[i + 3] = Math.round(tile * 255)
    }
  }
  return rgba
}

const hex = (c: Rgb): string => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`
const path = (points: readonly Point[]): string => points.map(([x, y]) => `${x},${y}`).join(' ')

/** The same drawing as SVG (full size: every stroke). */
export function iconSvg(): string {
  const strokes = STROKES.map(
    (s) => `  <polyline points="${path(s.points)}" fill="none" stroke="${hex(s.color)}" stroke-opacity="${s.opacity}" stroke-width="${s.width}" stroke-linecap="round" stroke-linejoin="round"/>`,
  )
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CANVAS}" height="${CANVAS}" viewBox="0 0 ${CANVAS} ${CANVAS}">`,
    '  <title>ObjectTwin Console</title>',
    '  <defs>',
    `    <linearGradient id="tile" x1="0" y1="${TILE.y}" x2="0" y2="${TILE.y + TILE.size}" gradientUnits="userSpaceOnUse">`,
    `      <stop offset="0" stop-color="${hex(GRADIENT.top)}"/>`,
    `      <stop offset="1" stop-color="${hex(GRADIENT.bottom)}"/>`,
    '    </linearGradient>',
    '  </defs>',
    `  <rect x="${TILE.x}" y="${TILE.y}" width="${TILE.size}" height="${TILE.size}" rx="${TILE.radius}" fill="url(#tile)"/>`,
    ...strokes,
    '</svg>',
    '',
  ].join('\n')
}
