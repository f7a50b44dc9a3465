import { describe, expect, it } from 'vitest'
import { defineObject } from './models/compact.ts'
import { describesEcgService, ecgTwinFromDescription, ecgTwinOf, sensorAddressIn } from './ecg-twin.ts'

const DESCRIPTION = 'ECG service f0010000-0000-1000-8000-00805f9b34fb of "ECG-1" (C0:07:01:00:00:01), handles 0x000c..0x0014'

/** A twin model as the gateway publishes it (electron/gateway/object-twin.ts), its characteristics in `order`. */
function twinModel(id: number, description: string, order: readonly ('value' | 'rate' | 'timestamping')[]) {
  const chars = {
    value: ['ECG sensor value', 'R', 'integer', 'f0010001-0000-1000-8000-00805f9b34fb'],
    rate: ['Sampling rate (Hz)', 'RW', 'unsigned', 'f0010002-0000-1000-8000-00805f9b34fb'],
    timestamping: ['Timestamp each reading', 'RW', 'boolean', 'f0010003-0000-1000-8000-00805f9b34fb'],
  } as const
  return defineObject({ id, name: 'ECG (ECG-1)', description }, [
    [0, 'Service', 'R', 'string', { mandatory: true, description: 'GATT service f0010000-0000-1000-8000-00805f9b34fb' }],
    ...order.map((c, i) => {
      const [name, ops, type, uuid] = chars[c]
      return [i + 1, name, ops, type, { description: `sensor c0:07:01:00:00:01; uuid ${uuid}; properties read` }] as const
    }),
  ])
}

describe('recognising the ECG twin', () => {
  it('knows the ECG service by its UUID or its name, whatever the object id', () => {
    expect(describesEcgService(DESCRIPTION)).toBe(true)
    expect(describesEcgService('ECG (Patch 1)')).toBe(true)
    expect(describesEcgService('Battery service 0000180f-0000-1000-8000-00805f9b34fb of "P" (x)')).toBe(false)
    expect(describesEcgService('Heart Rate service 0000180d-…; ECG-like')).toBe(false)
    expect(describesEcgService(undefined)).toBe(false)
  })

  it('finds the sampling rate by its characteristic, then its name, then the paper’s resource 2', () => {
    expect(ecgTwinOf(twinModel(1040, DESCRIPTION, ['value', 'rate', 'timestamping']))).toEqual({ objectId: 1040, samplingRateResource: 2, sensorAddress: 'c0:07:01:00:00:01' })
    expect(ecgTwinOf(twinModel(1041, DESCRIPTION, ['timestamping', 'value', 'rate']))?.samplingRateResource).toBe(3)
    const byName = defineObject({ id: 1042, name: 'ECG', description: 'ECG service of "P"' }, [[0, 'Service', 'R', 'string'], [4, 'Sampling Rate', 'RW', 'integer']])
    expect(ecgTwinOf(byName)).toEqual({ objectId: 1042, samplingRateResource: 4, sensorAddress: undefined })
    const bare = defineObject({ id: 1043, name: 'ECG', description: 'ECG' }, [[0, 'Service', 'R', 'string']])
    expect(ecgTwinOf(bare)?.samplingRateResource).toBe(2)
  })

  it('is nothing for other objects', () => {
    expect(ecgTwinOf(defineObject({ id: 1050, name: 'Battery (P)', description: 'Battery service 0000180f-0000-1000-8000-00805f9b34fb of "P" (c0:07:01:00:00:01)' }, [[0, 'Service', 'R', 'string']]))).toBeUndefined()
    expect(ecgTwinOf(defineObject({ id: 3, name: 'Device' }, [[0, 'Manufacturer', 'R', 'string']]))).toBeUndefined()
  })

  it('takes a twin without a model from its resource 0, with the paper’s layout', () => {
    expect(ecgTwinFromDescription(1031, DESCRIPTION)).toEqual({ objectId: 1031, samplingRateResource: 2, sensorAddress: 'c0:07:01:00:00:01' })
    expect(ecgTwinFromDescription(1031, 'Battery service 0000180f-0000-1000-8000-00805f9b34fb')).toBeUndefined()
    expect(sensorAddressIn('no address here: c0:07:01:00:00')).toBeUndefined()
  })
})
