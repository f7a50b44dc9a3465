/**
 * Our LwM2M client engine against an independent server: lwm2m-node-lib's (the server of the paper's
 * prototype, on coap 0.22, text/plain only). It registers, is read, written, executed, discovered,
 * observed and created on, updates on its lifetime and on object-list changes, registers again when
 * that server restarts on the same port, and de-registers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ECG_TWIN, startClient, type StartedClient } from '../support/client-harness.ts'
import { NodeLibServer } from '../../bench/nodelib-server.ts'
import { waitFor } from '../support/server-harness.ts'

const EP = 'gw-nodelib'
let server: NodeLibServer
let c: StartedClient
let deviceId: number
const executed: string[] = []

beforeAll(async () => {
  server = await NodeLibServer.start()
  c = await startClient({ serverPort: server.port, endpoint: EP, lwm2mVersion: '1.0', lifetime: 3, device: { manufacturer: 'Acme Medical' } })
  c.client.addObject(ECG_TWIN, [{ 0: 'ECG service', 1: 0, 2: 150, 4: { execute: (args) => void executed.push(args) } }])
  await c.log.wait('registered')
  deviceId = (await server.device(EP)).id
}, 10_000)

afterAll(async () => {
  await c?.stop()
  await server?.stop()
})

describe("our client against lwm2m-node-lib's server", () => {
  it('registers with its endpoint, lifetime, version, binding and object links', async () => {
    const [registration] = server.of('registration')
    expect(registration).toEqual({ kind: 'registration', endpoint: EP, lifetime: '3', version: '1.0', binding: 'U', payload: '</>;rt="oma.lwm2m",</1/0>,</3/0>' })
    const device = await server.device(EP)
    expect(device).toMatchObject({ name: EP, address: '127.0.0.1', port: c.client.localPort })
    // The twin added after the Register went out in an Update.
    await waitFor(() => server.of('updateRegistration').find((u) => u.payload.includes('</1031/0>')), 'the Update with the twin')
  })

  it('answers reads in text/plain', async () => {
    expect(await server.read(deviceId, 3, 0, 0)).toBe('Acme Medical')
    expect(await server.read(deviceId, 1031, 0, 2)).toBe('150')
    expect(await server.read(deviceId, 1, 0, 1)).toBe('3')
    const now = Number(await server.read(deviceId, 3, 0, 13))
    expect(Math.abs(now - Date.now() / 1000)).toBeLessThan(5)
    await expect(server.read(deviceId, 1031, 0, 99)).rejects.toThrow(/not found|4\.04/i)
  })

  it('takes writes and executes', async () => {
    await server.write(deviceId, 1031, 0, 2, '200')
    expect(c.client.tree.peek({ objectId: 1031, instanceId: 0, resourceId: 2 })).toBe(200)
    expect(await server.read(deviceId, 1031, 0, 2)).toBe('200')
    await server.execute(deviceId, 1031, 0, 4, "0='ecg'")
    expect(executed).toEqual(["0='ecg'"])
    const updatesBefore = server.of('updateRegistration').length
    await server.execute(deviceId, 1, 0, 8, '')
    await waitFor(() => server.of('updateRegistration').length > updatesBefore, 'the triggered Update')
  })

  it('answers Discover and Write-Attributes, and notifies in text/plain', async () => {
    expect(await server.discover(deviceId, 1031, 0, 2)).toBe('</1031/0/2>')
    await server.writeAttributes(deviceId, 1031, 0, 2, { pmin: 0, pmax: 30 })
    expect(await server.discover(deviceId, 1031, 0, 2)).toBe('</1031/0/2>;pmin=0;pmax=30')
    const values: string[] = []
    expect(await server.observe(deviceId, 1031, 0, 1, (v) => values.push(v))).toBe('0')
    c.client.setValue('/1031/0/1', 5)
    await waitFor(() => values.length === 1, 'a notification')
    c.client.setValue('/1031/0/1', -7)
    await waitFor(() => values.length === 2, 'a second notification')
    expect(values).toEqual(['5', '-7'])
  })

  it('creates an instance on request and reports it in an Update', async () => {
    await server.create(deviceId, 1031, 5)
    expect(c.client.tree.instanceIds(1031)).toEqual([0, 5])
    await waitFor(() => server.of('updateRegistration').find((u) => u.payload.includes('</1031/5>')), 'the Update with /1031/5')
  })

  it('updates before its lifetime runs out', async () => {
    const before = server.of('updateRegistration').length
    await waitFor(() => server.of('updateRegistration').length > before, 'a lifetime Update', 5000)
    expect((await server.device(EP)).lifetime).toBe('3')
  })

  it('registers again when the server restarts on the same port', async () => {
    const port = server.port
    await server.stop()
    server = await NodeLibServer.start(port)
    const failed = await c.log.wait('registrationFailed', (e) => e.operation === 'update' && e.code === '4.04', 6000)
    expect(failed.reason).toMatch(/does not know this registration/)
    await waitFor(() => server.of('registration')[0], 'the new registration', 5000)
    deviceId = (await server.device(EP)).id
    expect(await server.read(deviceId, 1031, 0, 2)).toBe('200')
  })

  it('de-registers on stop', async () => {
    await c.stop()
    await waitFor(() => server.of('unregistration')[0], 'the de-registration')
    await expect(server.device(EP)).rejects.toThrow(/not found|4\.04/i)
    expect(c.log.of('deregistered')).toEqual([{ kind: 'deregistered', code: '2.02' }])
  })
})
