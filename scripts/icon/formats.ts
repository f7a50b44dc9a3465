import { crc32, deflateSync } from 'node:zlib'

/**
 * The containers the installers take icons in, written by hand (each is a few headers):
 * PNG (RGBA, 8 bits per channel), Windows ICO and Apple ICNS.
 */

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0)
  return Buffer.concat([head, data, crc])
}

const paeth = (a: number, b: number, c: number): number => {
  const p = a + b - c
  const pa = Math.abs(p - a)
  const pb = Math.abs(p - b)
  const pc = Math.abs(p - c)
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c
}

/** One row filtered with each of PNG's five filters; the one with the smallest sum of signed bytes compresses best (the usual heuristic). */
function filterRow(row: Uint8Array, previous: Uint8Array): Uint8Array {
  let best: Uint8Array | undefined
  let bestScore = Infinity
  for (let type = 0; type <= 4; type++) {
    const out = new Uint8Array(row.length + 1)
    out[0] = type
    let score = 0
    for (let i = 0; i < row.length; i++) {
      const x = row[i] as number
      const a = i >= 4 ? (row[i - 4] as number) : 0
      const b = previous[i] as number
      const c = i >= 4 ? (previous[i - 4] as number) : 0
      const predicted = type === 0 ? 0 : type === 1 ? a : type === 2 ? b : type === 3 ? (a + b) >> 1 : paeth(a, b, c)
      const v = (x - predicted) & 0xff
      out[i + 1] = v
      score += v < 128 ? v : 256 - v
    }
    if (score < bestScore) {
      bestScore = score
      best = out
    }
  }
  return best as Uint8Array
}

export function encodePng(rgba: Uint8Array, width: number, height: number): Buffer {
  const stride = width * 4
  const rows: Uint8Array[] = []
  let previous: Uint8Array = new Uint8Array(stride)
  for (let y = 0; y < height; y++) {
    const row = rgba.subarray(y * stride, (y + 1) * stride)
    rows.push(filterRow(row, previous))
    previous = row
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 6, 0, 0, 0], 8) // 8 bits, RGBA, deflate, adaptive filters, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ])
}

/** A 32-bit DIB as ICO stores it: the header says twice the height (colour + mask), rows bottom up in BGRA, then the 1-bit mask. */
function icoBitmap(rgba: Uint8Array, size: number): Buffer {
  const header = Buffer.alloc(40)
  const maskStride = Math.ceil(size / 32) * 4
  header.writeUInt32LE(40, 0)
  header.writeInt32LE(size, 4)
  header.writeInt32LE(size * 2, 8)
  header.writeUInt16LE(1, 12)
  header.writeUInt16LE(32, 14)
  header.writeUInt32LE(size * size * 4 + maskStride * size, 20)
  const pixels = Buffer.alloc(size * size * 4)
  const mask = Buffer.alloc(maskStride * size)
  for (let y = 0; y < size; y++) {
    const row = size - 1 - y
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4
      const o = (row * size + x) * 4
      pixels[o] = rgba[i + 2] as number
      pixels[o + 1] = rgba[i + 1] as number
      pixels[o + 2] = rgba[i] as number
      pixels[o + 3] = rgba[i + 3] as number
      // Transparent pixels set in the AND mask too, for programs that ignore the alpha channel.
      if (rgba[i + 3] === 0) mask[row * maskStride + (x >> 3)] = (mask[row * maskStride + (x >> 3)] as number) | (0x80 >> (x & 7))
    }
  }
  return Buffer.concat([header, pixels, mask])
}

/** An ICO with one image per size: bitmaps below 256 px (every Windows tool reads them), PNG at 256 (as Windows itself stores it). */
export function encodeIco(images: ReadonlyArray<{ size: number; rgba: Uint8Array }>): Buffer {
  const header = Buffer.alloc(6)
  header.writeUInt16LE(0, 0)
  header.writeUInt16LE(1, 2)
  header.writeUInt16LE(images.length, 4)
  const bodies = images.map(({ size, rgba }) => (size >= 256 ? encodePng(rgba, size, size) : icoBitmap(rgba, size)))
  let offset = 6 + 16 * images.length
  const entries = images.map(({ size }, n) => {
    const body = bodies[n] as Buffer
    const entry = Buffer.alloc(16)
    entry[0] = size >= 256 ? 0 : size // 0 stands for 256
    entry[1] = size >= 256 ? 0 : size
    entry.writeUInt16LE(1, 4) // planes
    entry.writeUInt16LE(32, 6) // bits per pixel
    entry.writeUInt32LE(body.length, 8)
    entry.writeUInt32LE(offset, 12)
    offset += body.length
    return entry
  })
  return Buffer.concat([header, ...entries, ...bodies])
}

/**
 * The ICNS types with PNG payloads and the pixel size each holds (16@2x is 32 pixels, and so on), as
 * iconutil writes them for an iconset with every size from 16 to 512@2x.
 */
export const ICNS_TYPES = {
  icp4: 16,
  ic11: 32,
  icp5: 32,
  ic12: 64,
  icp6: 64,
  ic07: 128,
  ic13: 256,
  ic08: 256,
  ic14: 512,
  ic09: 512,
  ic10: 1024,
} as const

export function encodeIcns(pngBySize: ReadonlyMap<number, Buffer>): Buffer {
  const entries = Object.entries(ICNS_TYPES).map(([type, size]) => {
    const png = pngBySize.get(size)
    if (!png) throw new Error(`ICNS: no ${size} px PNG for ${type}`)
    const head = Buffer.alloc(8)
    head.write(type, 0, 'latin1')
    head.writeUInt32BE(png.length + 8, 4)
    return Buffer.concat([head, png])
  })
  const body = Buffer.concat(entries)
  const head = Buffer.alloc(8)
  head.write('icns', 0, 'latin1')
  head.writeUInt32BE(body.length + 8, 4)
  return Buffer.concat([head, body])
}
