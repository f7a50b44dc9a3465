/**
 * Draws the app icon (scripts/icon/drawing.ts) and writes every file the installers take from build/:
 * icon.svg (the drawing), icon.png (1024 px), icons/NxN.png (Linux), icon.ico (Windows) and icon.icns
 * (macOS). Run after changing the drawing: `npm run icons` (`node scripts/make-icons.ts`), then commit build/.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { encodeIcns, encodeIco, encodePng, ICNS_TYPES } from './icon/formats.ts'
import { iconSvg, renderIcon } from './icon/drawing.ts'

/** The sizes a Linux desktop picks from (hicolor theme), one PNG each under build/icons/. */
export const LINUX_SIZES = [16, 24, 32, 48, 64, 128, 256, 512] as const
/** Explorer, the taskbar and the NSIS installer pick from these. */
export const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256] as const

export function writeIcons(buildDir: string): string[] {
  const sizes = [...new Set<number>([...LINUX_SIZES, ...ICO_SIZES, ...Object.values(ICNS_TYPES), 1024])].sort((a, b) => a - b)
  const rgba = new Map(sizes.map((size) => [size, renderIcon(size)]))
  const png = new Map(sizes.map((size) => [size, encodePng(rgba.get(size) as Uint8Array, size, size)]))
  const written: string[] = []
  const write = (name: string, data: string | Uint8Array): void => {
    const file = join(buildDir, name)
    writeFileSync(file, data)
    written.push(file)
  }
  mkdirSync(join(buildDir, 'icons'), { recursive: true })
  write('icon.svg', iconSvg())
  write('icon.png', png.get(1024) as Buffer)
  for (const size of LINUX_SIZES) write(`icons/${size}x${size}.png`, png.get(size) as Buffer)
  write('icon.ico', encodeIco(ICO_SIZES.map((size) => ({ size, rgba: rgba.get(size) as Uint8Array }))))
  write('icon.icns', encodeIcns(png))
  return written
}

if (import.meta.main) {
  const buildDir = resolve(import.meta.dirname, '../build')
  for (const file of writeIcons(buildDir)) console.log(`wrote ${file}`)
}
