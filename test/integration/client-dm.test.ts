/**
 * Device management on our client engine through our server's API, over loopback UDP: Read at every
 * depth and in every format (4.06 when a format cannot carry the value), Write (replace, partial
 * update, resource instance), Execute with arguments, Create and Delete, Discover with attributes,
 * Write-Attributes, and handler errors answered with their own codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DmResult } from '../../shared/api/schemas.ts'
import type { Result } from '../../shared/api/result.ts'
import { ContentFormat } from '../../shared/lwm2m/content-format.ts'
import { ObjectRegistry } from '../../shared/lwm2m/object-registry.ts'
import { formatPath, parsePath } from '../../shared/lwm2m/path.ts'
import { senmlCborCodec } from '../../shared/lwm2m/senml-cbor.ts'
import type { Lwm2mRecord, Lwm2mValue } from '../../shared/lwm2m/values.ts'
import type { ResourceContent } from '../../electron/client/object-tree.ts'
import { OperationError, type OperationErrorKind } from '../../electron/client/operation-error.ts'
import { ECG_TWIN, NOTES, serverEvent, startClient, type StartedClient } from '../support/client-harness.ts'
import { startServer, type ServerHarness } from '../support/server-harness.ts'

const EP = 'gw-dm'
let h: ServerHarness
let c: StartedClient
/** What the simulated sensor behind /1031/1 does on the next read or write. */
let sensorFault: OperationErrorKind | 'crash' | undefined
let sensorValue = -120
const executed: string[] = []
const sensorWrites: ResourceContent[] = []

const rec = (path: string, value: Lwm2mValue): Lwm2mRecord => ({ path: parsePath(path), value })

function dm(result: Result<DmResult>): DmResult {
  if (!result.ok) throw new Error(`transport failure: ${result.error.code} ${result.error.message}`)
  return result.value
}

async function values(path: string, format?: number): Promise<Record<string, unknown>> {
  const r = dm(await h.server.read(EP, path, format !== undefined ? { format } : {}))
  expect(r.code, r.diagnostic).toBe('2.05')
  return Object.fromEntries((r.records ?? []).map((x) => [x.path, x.value]))
}

function sensorFailure(): void {
  const fault = sensorFault
  if (fault === 'crash') throw new Error('the BLE stack fell over')
  if (fault) throw new OperationError(fault, `simulated ${fault} from the sensor`)
}

beforeAll(async () => {
  const registry = ObjectRegistry.withBuiltins()
  registry.add(ECG_TWIN)
  registry.add(NOTES)
  h = await startServer({ registry })
  c = await startClient({ serverPort: h.port, endpoint: EP, device: { manufacturer: 'Acme Medical', serial: 'SN-1' } })
  c.client.addObject(ECG_TWIN, [
    { 0: 'ECG service', 1: 512, 2: 150, 3: false, 4: { execute: (args) => void executed.push(args) }, 5: [10, 20], 6: Uint8Array.of(1, 2, 3), 7: 36.6 },
    {
      0: 'ECG service (sensor 2)',
      1: {
        read: () => {
          sensorFailure()
          return sensorValue
        },
      },
      2: {
        read: () => 250,
        write: (value) => {
          sensorFailure()
          sensorWrites.push(value)
        },
      },
    },
  ])
  c.client.addObject(NOTES)
  await serverEvent(h, 'updated', (e) => e.client.endpoint === EP && e.client.objects.some((o) => o.objectId === NOTES.id))
}, 10_000)

afterAll(async () => {
  await c?.stop()
  await h?.close()
})

describe('client DM through our server', () => {
  it('reads a resource, a resource instance, an instance, an object and the root, decoded', async () => {
    expect(await values('/1031/0/2')).toEqual({ '/1031/0/2': 150 })
    expect(await values('/1031/0/5/1')).toEqual({ '/1031/0/5/1': 20 })
    expect(await values('/1031/0')).toEqual({
      '/1031/0/0': 'ECG service',
      '/1031/0/1': 512,
      '/1031/0/2': 150,
      '/1031/0/3': false,
      '/1031/0/5/0': 10,
      '/1031/0/5/1': 20,
      '/1031/0/6': '010203',
      '/1031/0/7': 36.6,
    })
    const object = await values('/1031')
    expect(object['/1031/1/1']).toBe(-120)
    expect(object['/1031/1/2']).toBe(250)
    expect(Object.keys(object)).toHaveLength(11)
    const root = await values('/')
    expect(root['/3/0/0']).toBe('Acme Medical')
    expect(root['/1031/0/0']).toBe('ECG service')
    expect(Object.keys(root).some((p) => p.startsWith('/0/'))).toBe(false)
    // The handler is asked on every read: a fresh value.
    sensorValue = -80
    expect(await values('/1031/1/1')).toEqual({ '/1031/1/1': -80 })
  })

  it('answers in the format the server accepts', async () => {
    const expected = { '/1031/0/2': 150, '/1031/0/5/0': 10, '/1031/0/5/1': 20, '/1031/0/7': 36.6 }
    for (const format of [ContentFormat.TLV, ContentFormat.SENML_JSON, ContentFormat.SENML_CBOR, ContentFormat.LWM2M_JSON]) {
      const r = dm(await h.server.read(EP, '/1031/0', { format }))
      expect(r.contentFormat).toBe(format)
      const got = Object.fromEntries((r.records ?? []).map((x) => [x.path, x.value]))
      expect(got).toMatchObject(expected)
    }
    const text = dm(await h.server.read(EP, '/1031/0/7', { format: ContentFormat.TEXT }))
    expect(text).toMatchObject({ code: '2.05', contentFormat: ContentFormat.TEXT, records: [{ path: '/1031/0/7', value: 36.6 }] })
    const opaque = dm(await h.server.read(EP, '/1031/0/6', { format: ContentFormat.OPAQUE }))
    expect(opaque).toMatchObject({ code: '2.05', contentFormat: ContentFormat.OPAQUE, records: [{ path: '/1031/0/6', value: '010203' }] })
  })

  it('answers 4.06 when the accepted format cannot carry the value', async () => {
    const cases: [string, number][] = [
      ['/1031/0', ContentFormat.TEXT],
      ['/1031/0/5', ContentFormat.TEXT],
      ['/1031/0/2', ContentFormat.OPAQUE],
      ['/1031/0/2', ContentFormat.LWM2M_CBOR],
      ['/1031/0/2', ContentFormat.LINK + 10],
    ]
    for (const [path, format] of cases) {
      const r = dm(await h.server.read(EP, path, { format }))
      expect(r.code, `${path} as ${format}`).toBe('4.06')
      expect(r.diagnostic).toBeTruthy()
    }
  })

  it('answers 4.04, 4.05 and 4.01 for what is missing, not allowed, or closed', async () => {
    const cases: [string, string][] = [
      ['/1031/9', '4.04'],
      ['/1031/0/9', '4.04'],
      ['/1031/0/5/7', '4.04'],
      ['/4', '4.04'],
      ['/3/0/4', '4.05'],
      ['/0', '4.01'],
      ['/0/0/0', '4.01'],
    ]
    for (const [path, code] of cases) expect(dm(await h.server.read(EP, path)).code, path).toBe(code)
    expect(dm(await h.server.read(EP, '/1031/0/9')).diagnostic).toBe('resource /1031/0/9 is not defined by object 1031')
  })

  it("answers a handler's errors with their codes", async () => {
    const cases: [OperationErrorKind | 'crash', string][] = [
      ['gateway_timeout', '5.04'],
      ['unavailable', '5.03'],
      ['bad_request', '4.00'],
      ['not_found', '4.04'],
      ['not_allowed', '4.05'],
      ['crash', '5.00'],
    ]
    try {
      for (const [fault, code] of cases) {
        sensorFault = fault
        const r = dm(await h.server.read(EP, '/1031/1/1'))
        expect(r.code, fault).toBe(code)
        expect(r.diagnostic).toBe(fault === 'crash' ? 'the BLE stack fell over' : `simulated ${fault} from the sensor`)
        // An instance read fails the same way: the value cannot be left out silently.
        expect(dm(await h.server.read(EP, '/1031/1')).code).toBe(code)
      }
      sensorFault = 'unavailable'
      expect(dm(await h.server.write(EP, '/1031/1/2', [rec('/1031/1/2', 100)])).code).toBe('5.03')
    } finally {
      sensorFault = undefined
    }
  })

  it('writes: replace a resource, partial update of an instance, a resource instance, replace a multiple resource', async () => {
    expect(dm(await h.server.write(EP, '/1031/0/2', [rec('/1031/0/2', 200)], { format: ContentFormat.TEXT })).code).toBe('2.04')
    expect(await values('/1031/0/2')).toEqual({ '/1031/0/2': 200 })
    const partial = dm(await h.server.write(EP, '/1031/0', [rec('/1031/0/2', 100), rec('/1031/0/5/0', 11)], { replace: false, format: ContentFormat.TLV }))
    expect(partial.code).toBe('2.04')
    expect(await values('/1031/0/5')).toEqual({ '/1031/0/5/0': 11, '/1031/0/5/1': 20 })
    expect(await values('/1031/0/2')).toEqual({ '/1031/0/2': 100 })
    expect(dm(await h.server.write(EP, '/1031/0/5', [rec('/1031/0/5/0', 1)], { format: ContentFormat.SENML_CBOR })).code).toBe('2.04')
    expect(await values('/1031/0/5')).toEqual({ '/1031/0/5/0': 1 })
    expect(dm(await h.server.write(EP, '/1031/0/5/3', [rec('/1031/0/5/3', 7)], { format: ContentFormat.SENML_JSON })).code).toBe('2.04')
    expect(await values('/1031/0/5')).toEqual({ '/1031/0/5/0': 1, '/1031/0/5/3': 7 })
    // Replacing the instance: optional writable resources left out go, read-only ones stay.
    const replaced = dm(await h.server.write(EP, '/1031/0', [rec('/1031/0/2', 50), rec('/1031/0/3', true), rec('/1031/0/5/0', 9)], { replace: true, format: ContentFormat.TLV }))
    expect(replaced.code).toBe('2.04')
    expect(await values('/1031/0')).toEqual({ '/1031/0/0': 'ECG service', '/1031/0/1': 512, '/1031/0/2': 50, '/1031/0/3': true, '/1031/0/5/0': 9, '/1031/0/7': 36.6 })
    expect(dm(await h.server.read(EP, '/1031/0/6')).code).toBe('4.04')
    // A handler-backed resource is written through its handler.
    expect(dm(await h.server.write(EP, '/1031/1/2', [rec('/1031/1/2', 300)])).code).toBe('2.04')
    expect(sensorWrites.at(-1)).toBe(300)
  })

  it('refuses writes that are not allowed, malformed, or in a format it does not take', async () => {
    expect(dm(await h.server.write(EP, '/1031/0/0', [rec('/1031/0/0', 'x')], { format: ContentFormat.TEXT })).code).toBe('4.05')
    expect(dm(await h.server.write(EP, '/3/0/0', [rec('/3/0/0', 'x')], { format: ContentFormat.TEXT })).code).toBe('4.05')
    const wrongType = dm(await h.server.write(EP, '/1031/0/2', [{ ...rec('/1031/0/2', 'fast'), type: 'string' }], { format: ContentFormat.SENML_JSON }))
    expect(wrongType.code).toBe('4.00')
    expect(dm(await h.server.write(EP, '/1031/0/2', [rec('/1031/0/2', 5)], { format: ContentFormat.CBOR })).code).toBe('4.15')
    expect(dm(await h.server.write(EP, '/1031/5/2', [rec('/1031/5/2', 5)], { format: ContentFormat.TEXT })).code).toBe('4.04')
    expect(dm(await h.server.write(EP, '/0/0/0', [rec('/0/0/0', 'coap://evil')], { format: ContentFormat.TEXT })).code).toBe('4.01')
    expect(await values('/1031/0/2')).toEqual({ '/1031/0/2': 50 })
  })

  it('executes with arguments', async () => {
    expect(dm(await h.server.execute(EP, '/1031/0/4', "0='ecg',1")).code).toBe('2.04')
    expect(dm(await h.server.execute(EP, '/1031/0/4')).code).toBe('2.04')
    expect(executed).toEqual(["0='ecg',1", ''])
    expect(dm(await h.server.execute(EP, '/1031/0/2')).code).toBe('4.05')
    expect(dm(await h.server.execute(EP, '/1031/0/99')).code).toBe('4.04')
    expect(dm(await h.server.execute(EP, '/3/0/4')).code).toBe('2.04')
    expect(c.log.of('log').some((e) => e.message.startsWith('Reboot executed'))).toBe(true)
  })

  it('creates and deletes instances, and tells the server in an Update', async () => {
    const created = dm(await h.server.create(EP, '/32001', [rec('/32001/7/0', 'hello'), rec('/32001/7/1', 2)]))
    expect(created).toMatchObject({ code: '2.01', location: '/32001/7' })
    expect(await values('/32001/7')).toEqual({ '/32001/7/0': 'hello', '/32001/7/1': 2 })
    const tlv = dm(await h.server.create(EP, '/32001', [rec('/32001/8/0', 'in TLV')], { format: ContentFormat.TLV }))
    expect(tlv).toMatchObject({ code: '2.01', location: '/32001/8' })
    await serverEvent(h, 'updated', (e) => e.client.endpoint === EP && e.client.objects.find((o) => o.objectId === NOTES.id)?.instances.join() === '7,8')
    expect(dm(await h.server.create(EP, '/32001', [rec('/32001/7/0', 'again')])).code).toBe('4.00')
    const noText = dm(await h.server.create(EP, '/32001', [rec('/32001/9/1', 1)]))
    expect(noText).toMatchObject({ code: '4.00', diagnostic: 'mandatory resource 0 (Text) of /32001/9 has no value' })
    expect(dm(await h.server.create(EP, '/3', [rec('/3/1/0', 'x')])).code).toBe('4.05')
    expect(dm(await h.server.delete(EP, '/32001/7')).code).toBe('2.02')
    expect(dm(await h.server.read(EP, '/32001/7')).code).toBe('4.04')
    expect(dm(await h.server.delete(EP, '/32001/7')).code).toBe('4.04')
    expect(dm(await h.server.delete(EP, '/3/0')).code).toBe('4.05')
    expect(dm(await h.server.delete(EP, '/32001')).code).toBe('4.05')
    await serverEvent(h, 'updated', (e) => e.client.endpoint === EP && e.client.objects.find((o) => o.objectId === NOTES.id)?.instances.join() === '8')
  })

  it('discovers objects, instances and resources with their attributes and dim', async () => {
    expect(dm(await h.server.writeAttributes(EP, '/1031', { pmin: 1 })).code).toBe('2.04')
    expect(dm(await h.server.writeAttributes(EP, '/1031/1', { pmax: 30 })).code).toBe('2.04')
    expect(dm(await h.server.writeAttributes(EP, '/1031/1/1', { pmin: 5, pmax: 60, gt: 100, lt: -100, st: 10 })).code).toBe('2.04')
    const object = dm(await h.server.discover(EP, '/1031'))
    expect(object.links?.filter((l) => l.path.startsWith('/1031/1') || l.path === '/1031')).toEqual([
      { path: '/1031', attributes: { pmin: 1 } },
      { path: '/1031/1', attributes: { pmax: 30 } },
      { path: '/1031/1/0', attributes: {} },
      { path: '/1031/1/1', attributes: { pmin: 5, pmax: 60, gt: 100, lt: -100, st: 10 } },
      { path: '/1031/1/2', attributes: {} },
    ])
    expect(object.links?.find((l) => l.path === '/1031/0/5')).toEqual({ path: '/1031/0/5', attributes: { dim: 1 } })
    expect(dm(await h.server.discover(EP, '/1031/1/1')).links).toEqual([{ path: '/1031/1/1', attributes: { pmin: 5, pmax: 60, gt: 100, lt: -100, st: 10 } }])
    expect(c.log.of('attributesChanged').map((e) => e.path)).toEqual(['/1031', '/1031/1', '/1031/1/1'])
    expect(c.client.observeAttributes('/1031/1/1')).toEqual({ pmin: 5, pmax: 60, gt: 100, lt: -100, st: 10 })
    expect(dm(await h.server.discover(EP, '/3')).links?.[0]).toEqual({ path: '/3', attributes: { ver: '1.2' } })
    expect(dm(await h.server.discover(EP, '/3/0/11')).links).toEqual([{ path: '/3/0/11', attributes: { dim: 1 } }])
    // Unsetting: an attribute without a value.
    expect(dm(await h.server.writeAttributes(EP, '/1031/1/1', { gt: null, st: null })).code).toBe('2.04')
    expect(dm(await h.server.discover(EP, '/1031/1/1')).links).toEqual([{ path: '/1031/1/1', attributes: { pmin: 5, pmax: 60, lt: -100 } }])
    expect(dm(await h.server.discover(EP, '/1031/7')).code).toBe('4.04')
  })

  it('refuses attributes that do not fit', async () => {
    const cases: [string, Parameters<ServerHarness['server']['writeAttributes']>[2], string][] = [
      ['/1031/0/0', { gt: 5 }, '4.00'],
      ['/1031/0', { st: 1 }, '4.00'],
      ['/1031/0/2', { gt: 5, lt: 10 }, '4.00'],
      ['/1031/0/2', { gt: 10, lt: 5, st: 3 }, '4.00'],
      ['/1031/0/99', { pmin: 1 }, '4.04'],
      ['/0/0', { pmin: 1 }, '4.01'],
    ]
    for (const [path, attrs, code] of cases) expect(dm(await h.server.writeAttributes(EP, path, attrs)).code, `${path} ${JSON.stringify(attrs)}`).toBe(code)
    expect(dm(await h.server.writeAttributes(EP, '/1031/0/2', { gt: 10, lt: 5, st: 2 })).code).toBe('2.04')
  })

  it('reads and writes several paths at once (FETCH and iPATCH with SenML)', async () => {
    const peer = { address: '127.0.0.1', port: c.client.localPort as number }
    const fetched = await h.transport.request(peer, {
      method: 'FETCH',
      path: '/',
      contentFormat: ContentFormat.SENML_JSON,
      accept: ContentFormat.SENML_CBOR,
      payload: new TextEncoder().encode(JSON.stringify([{ n: '/3/0/0' }, { n: '/1031/0/0' }, { n: '/1031/9' }])),
    })
    expect(fetched).toMatchObject({ code: '2.05', contentFormat: ContentFormat.SENML_CBOR })
    expect(senmlCborCodec.decode(fetched.payload).map((r) => [formatPath(r.path), r.value])).toEqual([
      ['/3/0/0', 'Acme Medical'],
      ['/1031/0/0', 'ECG service'],
    ])
    const patched = await h.transport.request(peer, {
      method: 'iPATCH',
      path: '/',
      contentFormat: ContentFormat.SENML_JSON,
      payload: new TextEncoder().encode(JSON.stringify([{ n: '/1031/0/2', v: 77 }, { n: '/1031/0/5/4', v: 3 }])),
    })
    expect(patched.code).toBe('2.04')
    expect(await values('/1031/0/2')).toEqual({ '/1031/0/2': 77 })
    expect((await values('/1031/0/5'))['/1031/0/5/4']).toBe(3)
    const noSenml = await h.transport.request(peer, { method: 'FETCH', path: '/', contentFormat: ContentFormat.TEXT, payload: new TextEncoder().encode('/3/0/0') })
    expect(noSenml.code).toBe('4.15')
  })

  it('answers and takes payloads larger than one datagram (block-wise)', async () => {
    const big = Uint8Array.from({ length: 3000 }, (_, i) => i % 251)
    // /1031/0/6 went with the instance replace above: a partial update brings it back.
    expect(dm(await h.server.write(EP, '/1031/0', [rec('/1031/0/6', big)], { replace: false, format: ContentFormat.TLV })).code).toBe('2.04')
    expect(dm(await h.server.write(EP, '/1031/0/6', [rec('/1031/0/6', big.slice().reverse())], { format: ContentFormat.OPAQUE })).code).toBe('2.04')
    big.reverse()
    const read = dm(await h.server.read(EP, '/1031/0/6'))
    expect(read).toMatchObject({ code: '2.05', contentFormat: ContentFormat.SENML_CBOR })
    expect(read.records?.[0]?.value).toBe(Buffer.from(big).toString('hex'))
    const tlv = dm(await h.server.read(EP, '/1031/0', { format: ContentFormat.TLV }))
    expect(tlv.records?.find((r) => r.path === '/1031/0/6')?.value).toBe(Buffer.from(big).toString('hex'))
  })

  it('sends current values and timestamped records to the server (Send, POST /dp)', async () => {
    const sent = await c.client.send(['/1031/0/0', { path: parsePath('/1031/0/1'), value: 5, time: 1_750_000_000.5 }])
    expect(sent).toEqual({ ok: true, value: { code: '2.04' } })
    const event = await serverEvent(h, 'send', (e) => e.endpoint === EP)
    expect(event.records.map((r) => [r.path, r.value, r.time])).toEqual([
      ['/1031/0/0', 'ECG service', undefined],
      ['/1031/0/1', 5, 1_750_000_000.5],
    ])
    const refused = await c.client.send(['/1031/9/9'])
    expect(refused.ok).toBe(false)
  })
})
