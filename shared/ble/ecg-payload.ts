import { BleCodecError } from './errors.ts'

/**
 * The ECG service's notification payload (REFERENCE.md §1, ours): `seq:uint16 LE`, then — when timestamping is
 * on — a `uint32 LE` millisecond timestamp, then one `int16 LE` sample in µV/10 (1 unit = 10 µV = 0.01 mV).
 * Gaps in `seq` are dropped packets.
 */
export interface EcgPayload {
  seq: number
  /** Sample in µV/10. */
  sample: number
  /** Milliseconds (sensor clock, wraps at 2^32); undefined when timestamping is off. */
  timestampMs: number | undefined
}

export const ECG_PAYLOAD_LENGTH = 4
export const ECG_PAYLOAD_LENGTH_TIMESTAMPED = 8
/** Sample units per millivolt (µV/10). */
export const ECG_UNITS_PER_MV = 100

/**
 * Write one payload into `out` (at least 8 bytes; reused across samples on the hot path) and return its length.
 * `sample` is clamped to int16, `seq` taken mod 2^16, `timestampMs` mod 2^32.
 */
export function writeEcgPayload(out: Uint8Array, seq: number, sample: number, timestampMs: number | undefined): number {
  const s = sample > 32767 ? 32767 : sample < -32768 ? -32768 : Math.round(sample)
  const q = seq & 0xffff
  out[0] = q & 0xff
  out[1] = q >>> 8
  let o = 2
  if (timestampMs !== undefined) {
    const t = Math.floor(timestampMs) >>> 0
    out[2] = t & 0xff
    out[3] = (t >>> 8) & 0xff
    out[4] = (t >>> 16) & 0xff
    out[5] = t >>> 24
    o = 6
  }
  const u = s & 0xffff
  out[o] = u & 0xff
  out[o + 1] = u >>> 8
  return o + 2
}

export function encodeEcgPayload(seq: number, sample: number, timestampMs?: number): Uint8Array {
  const out = new Uint8Array(timestampMs === undefined ? ECG_PAYLOAD_LENGTH : ECG_PAYLOAD_LENGTH_TIMESTAMPED)
  writeEcgPayload(out, seq, sample, timestampMs)
  return out
}

/** Decode into `target` without allocating (hot path on the gateway); returns it. */
export function readEcgPayload(bytes: Uint8Array, target: EcgPayload): EcgPayload {
  const n = bytes.length
  if (n !== ECG_PAYLOAD_LENGTH && n !== ECG_PAYLOAD_LENGTH_TIMESTAMPED) {
    throw new BleCodecError('ECG payload', `length ${n}, expected 4 (seq + sample) or 8 (seq + timestamp + sample)`)
  }
  target.seq = (bytes[0] as number) | ((bytes[1] as number) << 8)
  let o = 2
  if (n === ECG_PAYLOAD_LENGTH_TIMESTAMPED) {
    target.timestampMs =
      ((bytes[2] as number) | ((bytes[3] as number) << 8) | ((bytes[4] as number) << 16) | ((bytes[5] as number) << 24)) >>> 0
    o = 6
  } else {
    target.timestampMs = undefined
  }
  const u = (bytes[o] as number) | ((bytes[o + 1] as number) << 8)
  target.sample = u >= 0x8000 ? u - 0x10000 : u
  return target
}

export function decodeEcgPayload(bytes: Uint8Array): EcgPayload {
  return readEcgPayload(bytes, { seq: 0, sample: 0, timestampMs: undefined })
}

/** Sampling rate characteristic: uint16 LE, Hz. */
export function encodeSamplingRate(hz: number): Uint8Array {
  if (!Number.isInteger(hz) || hz < 0 || hz > 0xffff) throw new BleCodecError('Sampling rate', `${hz} Hz is not a uint16`)
  return new Uint8Array([hz & 0xff, hz >>> 8])
}

export function decodeSamplingRate(bytes: Uint8Array): number {
  if (bytes.length !== 2) throw new BleCodecError('Sampling rate', `length ${bytes.length}, expected 2 (uint16 LE)`)
  return (bytes[0] as number) | ((bytes[1] as number) << 8)
}

/** Timestamping characteristic: uint8, 0 off / 1 on. */
export function encodeTimestamping(on: boolean): Uint8Array {
  return new Uint8Array([on ? 1 : 0])
}

export function decodeTimestamping(bytes: Uint8Array): boolean {
  if (bytes.length !== 1) throw new BleCodecError('Timestamping', `length ${bytes.length}, expected 1 (uint8)`)
  const v = bytes[0] as number
  if (v > 1) throw new BleCodecError('Timestamping', `value ${v}, expected 0 (off) or 1 (on)`)
  return v === 1
}

/**
 * Packets missing between two consecutive sequence numbers (mod 2^16): 0 when `next` follows `prev`.
 * A step backwards (a duplicate or a reordered packet, or the sensor restarting) counts as no loss: returns -1.
 */
export function seqGap(prev: number, next: number): number {
  const d = (next - prev - 1) & 0xffff
  return d >= 0x8000 ? -1 : d
}

/** Counts received and lost ECG packets from their sequence numbers (the link monitor's drop ratio). */
export class SeqLossCounter {
  received = 0
  lost = 0
  private last = -1

  /** Account for one packet; returns the packets lost just before it (0 for the first one). */
  push(seq: number): number {
    this.received++
    const prev = this.last
    this.last = seq & 0xffff
    if (prev < 0) return 0
    const gap = seqGap(prev, this.last)
    if (gap <= 0) return 0
    this.lost += gap
    return gap
  }

  /** lost / (received + lost); 0 before any loss. */
  get lossRatio(): number {
    const total = this.received + this.lost
    return total === 0 ? 0 : this.lost / total
  }

  /** Clear the counts (a new measurement window) but keep the last sequence number. */
  resetWindow(): void {
    this.received = 0
    this.lost = 0
  }

  /** Forget everything (a new connection). */
  reset(): void {
    this.resetWindow()
    this.last = -1
  }
}
