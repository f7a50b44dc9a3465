/** HCI UART transport (H4) framing and small HCI helpers shared by the virtual controller and its transports. */

export const H4_COMMAND = 0x01
export const H4_ACL = 0x02
export const H4_EVENT = 0x04

/** 'c0:ff:ee:00:00:01' → 6 little-endian bytes written at `offset`. */
export function writeAddress(target: Buffer, offset: number, address: string): void {
  const hex = address.replace(/:/g, '')
  for (let i = 0; i < 6; i++) target[offset + i] = parseInt(hex.slice(10 - 2 * i, 12 - 2 * i), 16)
}

/** 6 little-endian bytes → 'c0:ff:ee:00:00:01'. */
export function readAddress(source: Buffer, offset: number): string {
  const parts: string[] = []
  for (let i = 5; i >= 0; i--) parts.push((source[offset + i] as number).toString(16).padStart(2, '0'))
  return parts.join(':')
}

/** Normalise a BD_ADDR to lowercase colon form; throws on anything else. */
export function normalizeAddress(address: string): string {
  const a = address.trim().toLowerCase().replace(/-/g, ':')
  const hex = a.replace(/:/g, '')
  if (!/^[0-9a-f]{12}$/.test(hex) || (a.includes(':') && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(a))) {
    throw new Error(`invalid Bluetooth address '${address}'`)
  }
  return hex.match(/../g)?.join(':') ?? a
}

/**
 * Splits a byte stream into H4 packets (host → controller direction: commands and ACL; events are accepted too).
 * Unknown packet types are skipped one byte at a time (resynchronisation after line noise).
 */
export class H4Deframer {
  private buf: Buffer = Buffer.alloc(0)
  private readonly onPacket: (packet: Buffer) => void

  constructor(onPacket: (packet: Buffer) => void) {
    this.onPacket = onPacket
  }

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk
    let p = 0
    for (;;) {
      const avail = this.buf.length - p
      if (avail < 1) break
      const type = this.buf[p] as number
      let header: number
      let length: number
      if (type === H4_COMMAND) {
        if (avail < 4) break
        header = 4
        length = this.buf[p + 3] as number
      } else if (type === H4_ACL) {
        if (avail < 5) break
        header = 5
        length = this.buf.readUInt16LE(p + 3)
      } else if (type === H4_EVENT) {
        if (avail < 3) break
        header = 3
        length = this.buf[p + 2] as number
      } else {
        p++
        continue
      }
      if (avail < header + length) break
      // Copy: the chunk's memory belongs to the stream.
      this.onPacket(Buffer.from(this.buf.subarray(p, p + header + length)))
      p += header + length
    }
    this.buf = p >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(p)
  }

  reset(): void {
    this.buf = Buffer.alloc(0)
  }
}
