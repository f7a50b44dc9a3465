import { describe, expect, it } from 'vitest'
import type { ConnectedSensor, DiscoveredSensor, GatewayStatus } from '../../../shared/api/gateway-schemas.ts'
import {
  adapterChoice, adapterSetting, canConnect, describeGatewayStatus, formatDropRatio, formatPerSecond, formatRssi, parseLinkNumber, sameAddress,
  signalQuality, sortByRssi, twinHash,
} from './gateway.ts'
import { parseRoute } from './route.ts'

const device = (address: string, rssi: number, extra: Partial<DiscoveredSensor> = {}): DiscoveredSensor => ({ address, rssi, connectable: true, serviceUuids: [], lastSeen: 1, ...extra })
const sensor = (address: string, extra: Partial<ConnectedSensor> = {}): ConnectedSensor => ({ address, connected: true, dropRatio: 0, notificationsPerSecond: 0, lastSeen: 1, twins: [], ...extra })

describe('gateway panel model', () => {
  it('splits and joins adapter settings', () => {
    for (const setting of ['virtual', 'default', 'hci', 'hci:1', 'uart:/dev/ttyACM0']) {
      const choice = adapterChoice(setting)
      expect(adapterSetting(choice)).toEqual({ ok: true, value: setting })
    }
    expect(adapterChoice('hci:12')).toEqual({ kind: 'hci', detail: '12' })
    expect(adapterChoice('uart:COM3')).toEqual({ kind: 'uart', detail: 'COM3' })
    expect(adapterSetting({ kind: 'hci', detail: ' ' })).toEqual({ ok: true, value: 'hci' })
  })

  it('names what is wrong with an adapter setting', () => {
    const noPort = adapterSetting({ kind: 'uart', detail: '' })
    expect(noPort.ok).toBe(false)
    if (!noPort.ok) expect(noPort.error.message).toContain('serial port')
    const badHci = adapterSetting({ kind: 'hci', detail: 'x1' })
    expect(badHci.ok).toBe(false)
    if (!badHci.ok) expect(badHci.error.message).toBe('adapter "hci:x1": the HCI device is a number from 0 to 999')
  })

  it('sorts scan results by RSSI, strongest first, ties by address', () => {
    const sorted = sortByRssi([device('c0:00:00:00:00:02', -80), device('c0:00:00:00:00:03', -50), device('c0:00:00:00:00:01', -80)])
    expect(sorted.map((d) => d.address)).toEqual(['c0:00:00:00:00:03', 'c0:00:00:00:00:01', 'c0:00:00:00:00:02'])
  })

  it('offers connect only for connectable devices not connected yet', () => {
    const connected = [sensor('C0:07:01:00:00:01')]
    expect(sameAddress('c0:07:01:00:00:01', 'C00701000001')).toBe(true)
    expect(canConnect(device('c0:07:01:00:00:01', -60), connected)).toBe(false)
    expect(canConnect(device('c0:07:01:00:00:02', -60), connected)).toBe(true)
    expect(canConnect(device('c0:07:01:00:00:02', -60, { connectable: false }), connected)).toBe(false)
    // A sensor reconnecting is not connected: it may be connected again by hand.
    expect(canConnect(device('c0:07:01:00:00:01', -60), [sensor('c0:07:01:00:00:01', { connected: false })])).toBe(true)
  })

  it('formats link figures', () => {
    expect(formatRssi(-67.4)).toBe('-67 dBm')
    expect(formatRssi(undefined)).toBe('—')
    expect(formatDropRatio(0.0123)).toBe('1.2 %')
    expect(formatPerSecond(150)).toBe('150.0 /s')
    expect([-60, -70, -71, -85, -86, undefined].map(signalQuality)).toEqual(['good', 'good', 'fair', 'fair', 'poor', 'unknown'])
  })

  it('links a twin to the gateway client tree', () => {
    expect(parseRoute(twinHash('demo gw', 1031))).toEqual({ view: 'client', endpoint: 'demo gw', path: '/1031' })
  })

  it('clamps typed link values and rejects what is not a number', () => {
    expect(parseLinkNumber('0.5', 0, 1)).toBe(0.5)
    expect(parseLinkNumber('3', 0, 1)).toBe(1)
    expect(parseLinkNumber('-2', 0, 1000)).toBe(0)
    expect(parseLinkNumber('abc', 0, 1)).toBeUndefined()
    expect(parseLinkNumber(' ', 0, 1)).toBeUndefined()
    expect(parseLinkNumber(0.25, 0, 1)).toBe(0.25)
  })

  it('describes a status in one line', () => {
    const status: GatewayStatus = {
      running: true, endpoint: 'console-gw', adapter: 'virtual', adapterState: 'poweredOn', registered: true, scanning: true,
      discovered: [device('c0:00:00:00:00:01', -50)], sensors: [sensor('c0:00:00:00:00:01'), sensor('c0:00:00:00:00:02', { connected: false })],
    }
    expect(describeGatewayStatus(status)).toBe('local gateway console-gw on virtual (poweredOn), registered, 1 sensors connected, scanning, 1 found')
    expect(describeGatewayStatus({ ...status, running: false, error: 'adapter hci:3 unavailable' })).toBe('local gateway console-gw stopped: adapter hci:3 unavailable')
  })
})
