/**
 * The local gateway's and the settings' REST routes and the `gateway` events of the SSE stream (issue 6), over real
 * HTTP against a ConsoleService with the demo gateway; and the browser transport's methods for them.
 */
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sensorAddress } from '../../electron/ble/virtual/sensors/index.ts'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { startHttpApi } from '../../electron/console/http-api.ts'
import { createHttpTransport } from '../../renderer/src/api/http-transport.ts'
import { ConsoleSettings, GatewayStatus } from '../../shared/api/gateway-schemas.ts'
import { jsonRequest, openEvents } from '../support/http-client.ts'
import { waitFor } from '../support/server-harness.ts'

const HR = sensorAddress(0x02, 1)

let service: ConsoleService
let app: FastifyInstance
let base: string

const api = (method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> => jsonRequest(method, `${base}${path}`, body)

/** GET /api/gateway, checked against the contract. */
async function status(): Promise<GatewayStatus> {
  const res = await api('GET', '/api/gateway')
  expect(res.status).toBe(200)
  return GatewayStatus.parse(res.json)
}

async function threeSensors(): Promise<void> {
  await waitFor(() => {
    const s = service.gatewayStatus()
    return s.registered && s.sensors.length === 3 && s.sensors.every((x) => x.twins.length > 0)
  }, 'the demo gateway with three sensors', 30_000)
}

beforeAll(async () => {
  service = await ConsoleService.create({ coapPort: 0, demo: true, gatewayOptions: { gattTimeoutMs: 2000, connectTimeoutMs: 5000, rssiIntervalMs: 500 } })
  const http = await startHttpApi(service, { host: '127.0.0.1', port: 0, rendererDir: null })
  app = http.app
  base = `http://127.0.0.1:${http.port}`
})

afterAll(async () => {
  await app.close()
  await service.close()
})

describe('gateway routes', () => {
  it('streams gateway events and answers GET /api/gateway with the status', async () => {
    const stream = await openEvents(`${base}/api/events?kinds=gateway`)
    try {
      await threeSensors()
      // RSSI polls change the status every 500 ms: events keep coming.
      const event = await waitFor(() => stream.events.find((e) => e.event === 'gateway'), 'an SSE gateway event', 10_000)
      expect(event.data).toMatchObject({ kind: 'gateway', time: expect.any(Number) })
      expect(GatewayStatus.safeParse((event.data as { status: unknown }).status).success).toBe(true)
      expect(stream.events.every((e) => e.event === 'gateway')).toBe(true)
    } finally {
      stream.close()
    }
    const s = await status()
    expect(s).toMatchObject({ running: true, adapter: 'virtual', registered: true })
    expect(s.virtualSensors?.map((v) => v.id)).toEqual(['ecg', 'hr', 'thermometer'])
  })

  it('scans, and rejects a bad duration or body', async () => {
    await threeSensors()
    expect((await api('POST', '/api/gateway/scan', { seconds: 20 })).status).toBe(200)
    await waitFor(() => service.gatewayStatus().scanning, 'scanning')
    const stopped = await api('POST', '/api/gateway/scan', { seconds: 0 })
    expect(stopped.status).toBe(200)
    expect(await api('POST', '/api/gateway/scan', { seconds: -1 })).toEqual({ status: 400, json: { error: { code: 'invalid_input', message: 'seconds: Too small: expected number to be >=0' } } })
    expect(await api('POST', '/api/gateway/scan', [5])).toEqual({ status: 400, json: { error: { code: 'invalid_input', message: 'the body must be a JSON object' } } })
  })

  it('disconnects and connects a sensor by address; unknown ones are 404, malformed ones 400', async () => {
    await threeSensors()
    const off = await api('POST', `/api/gateway/sensors/${HR}/disconnect`)
    expect(off.status).toBe(200)
    expect(GatewayStatus.parse(off.json).sensors.map((s) => s.address)).not.toContain(HR)
    expect(await api('POST', `/api/gateway/sensors/${HR}/disconnect`)).toEqual({ status: 404, json: { error: { code: 'not_found', message: `${HR} is not connected to the local gateway` } } })
    const on = await api('POST', `/api/gateway/sensors/${HR}/connect`)
    expect(on.status).toBe(200)
    expect(GatewayStatus.parse(on.json).sensors.find((s) => s.address === HR)?.connected).toBe(true)
    expect(await api('POST', '/api/gateway/sensors/not-an-address/connect')).toEqual({ status: 400, json: { error: { code: 'invalid_input', message: 'address: address must look like c0:07:01:00:00:01' } } })
    expect((await api('POST', `/api/gateway/sensors/${HR}/frobnicate`)).status).toBe(404)
  })

  it('sets a virtual link, and rejects bad values, unknown fields and unknown sensors', async () => {
    const set = await api('PUT', '/api/gateway/virtual/ecg/link', { interference: 0.25, distanceM: 4 })
    expect(set.status).toBe(200)
    expect(GatewayStatus.parse(set.json).virtualSensors?.find((v) => v.id === 'ecg')).toMatchObject({ interference: 0.25, distanceM: 4 })
    expect((await api('PUT', '/api/gateway/virtual/ecg/link', { interference: 0 })).status).toBe(200)
    expect(await api('PUT', '/api/gateway/virtual/ecg/link', { interference: 2 })).toEqual({ status: 400, json: { error: { code: 'invalid_input', message: 'interference: Too big: expected number to be <=1' } } })
    expect((await api('PUT', '/api/gateway/virtual/ecg/link', { interferance: 0.2 })).status).toBe(400)
    // The loss model: the demo's links retry notifications at the link layer until switched off.
    expect((await status()).virtualSensors?.find((v) => v.id === 'ecg')?.linkLayerRetries).toBe(true)
    const plain = await api('PUT', '/api/gateway/virtual/ecg/link', { linkLayerRetries: false })
    expect(plain.status).toBe(200)
    expect(GatewayStatus.parse(plain.json).virtualSensors?.find((v) => v.id === 'ecg')).toMatchObject({ interference: 0, distanceM: 4, linkLayerRetries: false })
    expect(service.localGateway.current?.radio?.peripheral(HR)?.link.retransmissions).toBeGreaterThan(0)
    expect(await api('PUT', '/api/gateway/virtual/ecg/link', { linkLayerRetries: 'yes' })).toEqual({ status: 400, json: { error: { code: 'invalid_input', message: 'linkLayerRetries: Invalid input: expected boolean, received string' } } })
    expect((await api('PUT', '/api/gateway/virtual/ecg/link', { linkLayerRetries: true })).status).toBe(200)
    expect(await api('PUT', '/api/gateway/virtual/pulse-ox/link', { interference: 0.2 })).toMatchObject({ status: 404, json: { error: { code: 'not_found' } } })
  })
})

describe('settings routes', () => {
  it('reads and patches the settings; an invalid patch is 400; switching the gateway off makes its routes 409', async () => {
    await threeSensors()
    const got = await api('GET', '/api/settings')
    expect(got).toEqual({ status: 200, json: { localGateway: { enabled: true, adapter: 'virtual', endpoint: 'objecttwin-local' } } })
    expect(await api('PATCH', '/api/settings', { localGateway: { adapter: 'bluetooth' } })).toEqual({
      status: 400, json: { error: { code: 'invalid_input', message: 'localGateway.adapter: adapter must be virtual, default, hci, hci:N or uart:PATH' } },
    })
    expect((await api('PATCH', '/api/settings', { theme: 'dark' })).status).toBe(400)

    const off = await api('PATCH', '/api/settings', { localGateway: { enabled: false } })
    expect(off.status).toBe(200)
    expect(ConsoleSettings.parse(off.json).localGateway.enabled).toBe(false)
    expect(service.listClients().map((c) => c.endpoint)).not.toContain('objecttwin-local')
    expect((await status()).running).toBe(false)
    expect(await api('PUT', '/api/gateway/virtual/ecg/link', { interference: 0.1 })).toMatchObject({ status: 409, json: { error: { code: 'unavailable' } } })

    expect((await api('PATCH', '/api/settings', { localGateway: { enabled: true } })).status).toBe(200)
    await threeSensors()
  })
})

describe('the browser transport', () => {
  it('carries the gateway and settings methods, validating input before sending', async () => {
    await threeSensors()
    const transport = createHttpTransport({ baseUrl: base })
    try {
      const s = await transport.gatewayStatus()
      expect(s.ok && s.value.sensors.length).toBe(3)
      const link = await transport.setVirtualLink({ sensor: 'thermometer', distanceM: 3 })
      expect(link.ok && link.value.virtualSensors?.find((v) => v.id === 'thermometer')?.distanceM).toBe(3)
      const scan = await transport.gatewayScan({ seconds: 0 })
      expect(scan.ok).toBe(true)
      const off = await transport.gatewayDisconnect({ address: HR })
      expect(off.ok && off.value.sensors.some((x) => x.address === HR)).toBe(false)
      const on = await transport.gatewayConnect({ address: HR })
      expect(on.ok && on.value.sensors.some((x) => x.address === HR)).toBe(true)
      const settings = await transport.getSettings()
      expect(settings.ok && settings.value.localGateway.endpoint).toBe('objecttwin-local')
      const same = await transport.updateSettings({ localGateway: { endpoint: 'objecttwin-local' } })
      expect(same.ok && same.value.localGateway.enabled).toBe(true)
      const bad = await transport.updateSettings({ localGateway: { endpoint: '' } })
      expect(bad.ok ? 'ok' : bad.error.code).toBe('invalid_input')
      const unavailable = await transport.setVirtualLink({ sensor: 'nobody' })
      expect(unavailable.ok ? 'ok' : unavailable.error.code).toBe('not_found')
    } finally {
      transport.close()
    }
  })
})
