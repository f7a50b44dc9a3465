/** Which BLE payload decoder raised an error; also the prefix of its message. */
export type BleCodecName =
  | 'UUID'
  | 'ECG payload'
  | 'Sampling rate'
  | 'Timestamping'
  | 'Heart Rate Measurement'
  | 'Temperature Measurement'
  | 'Battery Level'
  | 'IEEE-11073 FLOAT'
  | 'IEEE-11073 SFLOAT'
  | 'Presentation Format'

/** The one error type the BLE payload codecs throw for bad input; the message names the cause. */
export class BleCodecError extends Error {
  override readonly name = 'BleCodecError'
  readonly codec: BleCodecName
  readonly reason: string

  constructor(codec: BleCodecName, reason: string) {
    super(`${codec}: ${reason}`)
    this.codec = codec
    this.reason = reason
  }
}
