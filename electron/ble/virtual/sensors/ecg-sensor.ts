import type { AttErrorCode, CharacteristicDefinition, PeripheralDefinition, PresentationFormat } from '../gatt-table.ts'
import { AttError } from '../gatt-table.ts'
import { EcgSyn, RecentTimes } from './ecgsyn.ts'
import type { EcgSynOptions } from './ecgsyn.ts'
import { ATT_VALUE_NOT_ALLOWED, SimulatedSensor } from './sensor-base.ts'
import { sigPresentationFormat } from './standard-services.ts'
import type { CommonSensorOptions, SendStats } from './sensor-base.ts'
import { ECG_PAYLOAD_LENGTH, encodeSamplingRate, encodeTimestamping, writeEcgPayload } from '../../../../shared/ble/ecg-payload.ts'
import {
  ECG_SAMPLING_RATE_UUID, ECG_SERVICE_UUID, ECG_TIMESTAMPING_UUID, ECG_VALUE_UUID,
} from '../../../../shared/ble/uuids.ts'

/**
 * The paper's ECG sensor (REFERENCE.md §1): ECG service f0010000-… with the ECG value (Read, Notify; one sample per
 * notification: seq, optional timestamp, int16 µV/10), the sampling rate (uint16 Hz, Read/Write, default 150) and
 * the timestamping switch (uint8 0/1, Read/Write); plus Battery and Device Information.
 *
 * While the value is subscribed a 10 ms timer emits every sample that fell due since the last tick. The sequence
 * number advances for every sample generated, also those the link refuses, so gaps in seq are dropped packets.
 */
export interface EcgSensorOptions extends CommonSensorOptions {
  samplingRateHz?: number
  timestamping?: boolean
  /** Accepted sampling rates (writes outside → ATT error 0x13 Value Not Allowed). Default 25..1000. */
  minRateHz?: number
  maxRateHz?: number
  /** ECGSYN parameters (heart rate, HRV, noise…); the seed defaults to the sensor's. */
  ecg?: EcgSynOptions
  /** Timer period of the stream, ms (default 10). */
  tickMs?: number
}

/** ECG service declaration handle, as in the paper's twin table (REFERENCE.md §1, resource 0 = 0x000C). */
export const ECG_SERVICE_START_HANDLE = 0x000c

/** Samples beyond this backlog (after the event loop stalled) are skipped as dropped instead of generated. */
const MAX_BACKLOG_S = 2
const R_PEAK_CAPACITY = 1024

export class EcgSensor extends SimulatedSensor {
  readonly definition: PeripheralDefinition
  readonly minRateHz: number
  readonly maxRateHz: number
  readonly generator: EcgSyn
  private rate: number
  private timestamping: boolean
  private seq = 0
  private readonly stats: SendStats = { generated: 0, sent: 0, dropped: 0 }
  private readonly tickMs: number
  private readonly bootMs: number
  /** Stream anchor: clock time of sample 0 of the current rate segment, and how many were emitted since. */
  private anchorMs = 0
  private emitted = 0
  /** Generator time (s) of the anchor's first sample, to map R peaks onto the sensor clock. */
  private anchorGenS = 0
  private readonly scratch = new Uint8Array(8)
  private readonly short = this.scratch.subarray(0, ECG_PAYLOAD_LENGTH)
  /** Length of the last payload in scratch (0 before the first sample). */
  private lastLen = 0
  private readonly peaksMs = new RecentTimes(R_PEAK_CAPACITY)

  constructor(options: EcgSensorOptions = {}) {
    super(options)
    this.minRateHz = options.minRateHz ?? 25
    this.maxRateHz = options.maxRateHz ?? 1000
    this.rate = options.samplingRateHz ?? 150
    this.timestamping = options.timestamping ?? false
    this.tickMs = options.tickMs ?? 10
    this.bootMs = this.clock()
    this.generator = new EcgSyn({ seed: this.seed, ...options.ecg })
    this.generator.onRPeak = (t) => {
      this.peaksMs.push(this.anchorMs - this.bootMs + (t - this.anchorGenS) * 1000)
    }
    this.definition = this.peripheral({
      label: 'ECG',
      kindCode: 0x01,
      appearance: 0x0340, // Generic Heart Rate Sensor: the closest GAP appearance for an ECG patch
      service: {
        uuid: ECG_SERVICE_UUID,
        startHandle: ECG_SERVICE_START_HANDLE,
        characteristics: [
          {
            uuid: ECG_VALUE_UUID,
            properties: ['read', 'notify'],
            // 0x2901 holds the names the paper gives the ECG twin's resources (Fig. 5); the gateway names resources from it.
            userDescription: 'ECG sensor value',
            onRead: () => this.lastPayloadCopy(),
          },
          setting(ECG_SAMPLING_RATE_UUID, 'Sampling rate (Hz)', sigPresentationFormat(0x06, 0x2722), 2, {
            read: () => encodeSamplingRate(this.rate),
            write: (value) => {
              const hz = (value[0] as number) | ((value[1] as number) << 8)
              if (hz < this.minRateHz || hz > this.maxRateHz) return ATT_VALUE_NOT_ALLOWED
              this.samplingRateHz = hz
            },
          }),
          setting(ECG_TIMESTAMPING_UUID, 'Timestamp each reading on/off', sigPresentationFormat(0x01, 0x2700), 1, {
            read: () => encodeTimestamping(this.timestamping),
            write: (value) => {
              if ((value[0] as number) > 1) return ATT_VALUE_NOT_ALLOWED
              this.timestamping = value[0] === 1
            },
          }),
        ],
      },
      device: { serialPrefix: 'ECG', model: 'OT-ECG1', firmware: '1.4.2', hardware: 'rev C', software: 'ecgsyn-1.0' },
    }, options.deviceInformation)
    this.measurement = { uuid: ECG_VALUE_UUID, periodMs: this.tickMs, tick: () => this.tick(), onStart: () => this.reanchor() }
  }

  get samplingRateHz(): number {
    return this.rate
  }

  /** Change the rate now (as a GATT write does): the stream continues at the new rate from this instant. */
  set samplingRateHz(hz: number) {
    if (!Number.isInteger(hz) || hz < this.minRateHz || hz > this.maxRateHz) {
      throw new RangeError(`ECG sampling rate ${hz} Hz outside ${this.minRateHz}..${this.maxRateHz} Hz`)
    }
    if (this.streaming) this.tick()
    this.rate = hz
    this.reanchor()
  }

  get timestampingEnabled(): boolean {
    return this.timestamping
  }

  set timestampingEnabled(on: boolean) {
    this.timestamping = on
  }

  /** Sequence number of the last sample generated (-1 before the first). */
  get lastSeq(): number {
    return this.stats.generated === 0 ? -1 : (this.seq - 1) & 0xffff
  }

  getStats(): SendStats {
    return { ...this.stats }
  }

  resetStats(): void {
    this.stats.generated = 0
    this.stats.sent = 0
    this.stats.dropped = 0
  }

  /** True R-peak times in the sensor clock (ms since power-on, the timestamp field's base), oldest first. */
  rPeakTimesMs(): number[] {
    return this.peaksMs.values()
  }

  private reanchor(): void {
    this.anchorMs = this.clock()
    this.emitted = 0
    this.anchorGenS = this.generator.time + (this.stats.generated > 0 ? 1 / this.rate : 0)
  }

  /** Emit every sample due since the last tick. */
  private tick(): void {
    const api = this.api
    if (api === undefined) {
      this.stopStream()
      return
    }
    const now = this.clock()
    const rate = this.rate
    let due = Math.floor(((now - this.anchorMs) * rate) / 1000) + 1 - this.emitted
    if (due <= 0) return
    const backlog = MAX_BACKLOG_S * rate
    if (due > backlog) {
      // The event loop stalled for seconds: count the lost samples as dropped without synthesising them.
      const skip = due - backlog
      this.seq = (this.seq + skip) & 0xffff
      this.stats.generated += skip
      this.stats.dropped += skip
      this.emitted += skip
      due = backlog
    }
    const ts = this.timestamping
    const period = 1000 / rate
    for (let i = 0; i < due; i++) {
      const sample = this.generator.nextUnits(rate)
      const t = ts ? this.anchorMs - this.bootMs + this.emitted * period : undefined
      const len = writeEcgPayload(this.scratch, this.seq, sample, t)
      this.seq = (this.seq + 1) & 0xffff
      this.emitted++
      this.stats.generated++
      this.lastLen = len
      if (api.notify(ECG_VALUE_UUID, len === ECG_PAYLOAD_LENGTH ? this.short : this.scratch)) this.stats.sent++
      else this.stats.dropped++
    }
  }

  /** A read returns the last sample generated (seq 0, sample 0 before the first), without touching the stream. */
  private lastPayloadCopy(): Uint8Array {
    if (this.lastLen > 0) return this.scratch.slice(0, this.lastLen)
    const out = new Uint8Array(8)
    return out.slice(0, writeEcgPayload(out, 0, 0, this.timestamping ? this.clock() - this.bootMs : undefined))
  }
}

/** A Read / Write setting of `length` bytes; a write of another length is refused before `write` sees it. */
function setting(
  uuid: string, userDescription: string, presentationFormat: PresentationFormat, length: number,
  access: { read: () => Uint8Array; write: (value: Uint8Array) => void | AttErrorCode },
): CharacteristicDefinition {
  return {
    uuid,
    properties: ['read', 'write'],
    userDescription,
    presentationFormat,
    onRead: access.read,
    onWrite: (value) => (value.length === length ? access.write(value) : AttError.invalidAttributeValueLength),
  }
}
