/** A simple test peripheral for the virtual radio tests: readable, writable, notify and indicate characteristics. */
import type { GattServerApi, PeripheralDefinition, SubscriptionKind } from '../../electron/ble/virtual/gatt-table.ts'

export const TEST_SERVICE = '6e400001b5a3f393e0a9e50e24dcca9e'
export const CHAR_READ = '6e400002b5a3f393e0a9e50e24dcca9e'
export const CHAR_WRITE = '6e400003b5a3f393e0a9e50e24dcca9e'
export const CHAR_NOTIFY = '6e400004b5a3f393e0a9e50e24dcca9e'
export const CHAR_INDICATE = '6e400005b5a3f393e0a9e50e24dcca9e'
export const CHAR_LONG = '6e400006b5a3f393e0a9e50e24dcca9e'

/** A 600-byte value: needs Read Blob at any MTU noble negotiates. */
export const LONG_VALUE = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 7 + 3) & 0xff))

export interface TestPeripheral {
  definition: PeripheralDefinition
  /** The GATT API of the current connection (set on connect). */
  api: GattServerApi | undefined
  writes: { value: Buffer; withResponse: boolean }[]
  subscriptions: { uuid: string; kinds: SubscriptionKind[] }[]
  disconnects: number[]
  mtus: number[]
}

export function testPeripheral(address = 'c0:ff:ee:00:00:01', name = 'OT-Test'): TestPeripheral {
  const t: TestPeripheral = { api: undefined, writes: [], subscriptions: [], disconnects: [], mtus: [], definition: undefined as unknown as PeripheralDefinition }
  let counter = 0
  t.definition = {
    name,
    address,
    advertisedServices: [TEST_SERVICE, '180f'],
    txPowerLevel: -4,
    services: [
      {
        uuid: TEST_SERVICE,
        characteristics: [
          {
            uuid: CHAR_READ,
            properties: ['read'],
            userDescription: 'Counter',
            presentationFormat: { format: 0x06, exponent: 0, unit: 0x2700, namespace: 1, description: 0 },
            onRead: () => {
              const b = Buffer.alloc(2)
              b.writeUInt16LE(++counter & 0xffff, 0)
              return b
            },
          },
          {
            uuid: CHAR_WRITE,
            properties: ['read', 'write', 'writeWithoutResponse'],
            userDescription: 'Setting',
            maxLength: 512,
            onWrite: (value, withResponse) => {
              t.writes.push({ value: Buffer.from(value), withResponse })
            },
          },
          { uuid: CHAR_NOTIFY, properties: ['notify'], userDescription: 'Stream' },
          { uuid: CHAR_INDICATE, properties: ['indicate'], userDescription: 'Events' },
          { uuid: CHAR_LONG, properties: ['read'], initialValue: LONG_VALUE },
        ],
      },
      { uuid: '180f', characteristics: [{ uuid: '2a19', properties: ['read', 'notify'], initialValue: Buffer.from([87]) }] },
    ],
    hooks: {
      onConnect: (api) => {
        t.api = api
      },
      onDisconnect: (reason) => {
        t.disconnects.push(reason)
        t.api = undefined
      },
      onSubscribe: (uuid, kinds) => {
        t.subscriptions.push({ uuid, kinds })
      },
      onMtu: (mtu) => {
        t.mtus.push(mtu)
      },
    },
  }
  return t
}
