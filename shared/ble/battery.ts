import { BleCodecError } from './errors.ts'

/** Battery Level (0x2A19): uint8 percent, 0..100. */
export function encodeBatteryLevel(percent: number): Uint8Array {
  if (!Number.isFinite(percent)) throw new BleCodecError('Battery Level', `${percent} is not a number`)
  return new Uint8Array([Math.min(100, Math.max(0, Math.round(percent)))])
}

export function decodeBatteryLevel(bytes: Uint8Array): number {
  if (bytes.length !== 1) throw new BleCodecError('Battery Level', `length ${bytes.length}, expected 1 (uint8 %)`)
  const v = bytes[0] as number
  if (v > 100) throw new BleCodecError('Battery Level', `${v} % exceeds 100 %`)
  return v
}
