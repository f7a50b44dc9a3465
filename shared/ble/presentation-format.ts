import { BleCodecError } from './errors.ts'

/** Characteristic Presentation Format descriptor (0x2904), 7 bytes. */
export interface PresentationFormat {
  /** Format code (0x01 boolean, 0x04 uint8, 0x06 uint16, 0x0e sint16, 0x17 FLOAT, 0x19 utf8s, …). */
  format: number
  /** value = raw · 10^exponent. */
  exponent: number
  /** Unit as a 16-bit UUID number (0x2782 volt, 0x27ad percentage, 0x2722 hertz, …). */
  unit: number
  /** Namespace (0x01 = Bluetooth SIG). */
  namespace: number
  description: number
}

/** Names of the format codes (REFERENCE.md §3). */
export const PRESENTATION_FORMAT_NAMES: Readonly<Record<number, string>> = {
  0x01: 'boolean', 0x02: 'uint2', 0x03: 'uint4', 0x04: 'uint8', 0x05: 'uint12', 0x06: 'uint16', 0x07: 'uint24',
  0x08: 'uint32', 0x09: 'uint48', 0x0a: 'uint64', 0x0b: 'uint128', 0x0c: 'sint8', 0x0d: 'sint12', 0x0e: 'sint16',
  0x0f: 'sint24', 0x10: 'sint32', 0x11: 'sint48', 0x12: 'sint64', 0x13: 'sint128', 0x14: 'float32', 0x15: 'float64',
  0x16: 'SFLOAT', 0x17: 'FLOAT', 0x18: 'duint16', 0x19: 'utf8s', 0x1a: 'utf16s', 0x1b: 'struct',
}

export function encodePresentationFormat(p: PresentationFormat): Uint8Array {
  return new Uint8Array([
    p.format & 0xff, p.exponent & 0xff, p.unit & 0xff, (p.unit >>> 8) & 0xff, p.namespace & 0xff, p.description & 0xff, (p.description >>> 8) & 0xff,
  ])
}

export function decodePresentationFormat(bytes: Uint8Array): PresentationFormat {
  if (bytes.length !== 7) throw new BleCodecError('Presentation Format', `length ${bytes.length}, expected 7`)
  const e = bytes[1] as number
  return {
    format: bytes[0] as number,
    exponent: e >= 0x80 ? e - 0x100 : e,
    unit: (bytes[2] as number) | ((bytes[3] as number) << 8),
    namespace: bytes[4] as number,
    description: (bytes[5] as number) | ((bytes[6] as number) << 8),
  }
}
