import type { PeripheralDefinition } from '../gatt-table.ts'
import { SimulatedSensor, sensorAddress, serialNumber } from './sensor-base.ts'
import type { CommonSensorOptions } from './sensor-base.ts'
import { BATTERY_SERVICE_UUID } from '../../../../shared/ble/uuids.ts'

/** A sensor with only Battery and Device Information (the `battery` kind of `objecttwin sim --peripherals`). */
export class BatterySensor extends SimulatedSensor {
  readonly definition: PeripheralDefinition

  constructor(options: CommonSensorOptions = {}) {
    super(options)
    const n = this.index
    this.definition = {
      name: `ObjectTwin Battery ${n}`,
      address: sensorAddress(0x04, n),
      addressType: 'random',
      advertisedServices: [BATTERY_SERVICE_UUID],
      services: [
        this.batteryService(),
        this.deviceInformation({
          manufacturer: 'ObjectTwin Labs', model: 'OT-BAT1', serial: serialNumber('BAT', n, this.seed),
          firmware: '0.9.1', hardware: 'rev A', software: 'bat-0.9',
        }, options.deviceInformation),
      ],
      hooks: this.hooks(),
    }
  }

  protected override onSubscribe(): void {}
}
