import type { PeripheralDefinition } from '../gatt-table.ts'
import { SimulatedSensor } from './sensor-base.ts'
import type { CommonSensorOptions } from './sensor-base.ts'

/** A sensor with only Battery and Device Information (the `battery` kind of `objecttwin sim --peripherals`). */
export class BatterySensor extends SimulatedSensor {
  readonly definition: PeripheralDefinition

  constructor(options: CommonSensorOptions = {}) {
    super(options)
    this.definition = this.peripheral({
      label: 'Battery',
      kindCode: 0x04,
      device: { serialPrefix: 'BAT', model: 'OT-BAT1', firmware: '0.9.1', hardware: 'rev A', software: 'bat-0.9' },
    }, options.deviceInformation)
  }
}
