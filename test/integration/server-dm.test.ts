import { describe, expect, it } from 'vitest'
import { ContentFormat } from '../../shared/lwm2m/content-format.ts'
import { parsePath } from '../../shared/lwm2m/path.ts'
import { useServer, useTestClients } from '../support/server-harness.ts'

const h = useServer()
const { registered, start } = useTestClients(() => h)

describe('Read', () => {
  it('reads an object /3 with decoded values, model names and the response code', async () => {
    const c = await registered({ endpoint: 'read-object' })
    const r = await h.server.read('read-object', '/3')
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.value).toMatchObject({ code: '2.05', success: true, contentFormat: ContentFormat.SENML_CBOR })
    expect(r.value.records).toContainEqual({ path: '/3/0/0', name: 'Manufacturer', type: 'string', value: 'Open Mobile Alliance' })
    expect(r.value.records).toContainEqual({ path: '/3/0/13', name: 'Current Time', type: 'time', value: 1367491215 })
    expect(r.value.records).toHaveLength(13)
    // A 1.1 client that advertised nothing is asked for SenML CBOR.
    expect(c.received.at(-1)).toMatchObject({ method: 'GET', path: '/3', accept: ContentFormat.SENML_CBOR })
  })

  it('reads an instance /3/0', async () => {
    await registered({ endpoint: 'read-instance' })
    const r = await h.server.read('read-instance', '/3/0')
    expect(r.ok && r.value.records?.map((x) => x.path)).toEqual([
      '/3/0/0', '/3/0/1', '/3/0/2', '/3/0/3', '/3/0/6/0', '/3/0/6/1', '/3/0/7/0', '/3/0/7/1', '/3/0/9', '/3/0/11/0', '/3/0/13', '/3/0/14', '/3/0/16',
    ])
  })

  it('reads a resource /3/0/0 and a resource instance /3/0/6/1', async () => {
    await registered({ endpoint: 'read-deep' })
    expect(await h.server.read('read-deep', '/3/0/0')).toEqual({
      ok: true,
      value: expect.objectContaining({ code: '2.05', records: [{ path: '/3/0/0', name: 'Manufacturer', type: 'string', value: 'Open Mobile Alliance' }] }),
    })
    expect(await h.server.read('read-deep', '/3/0/6/1')).toEqual({
      ok: true,
      value: expect.objectContaining({ code: '2.05', records: [{ path: '/3/0/6/1', name: 'Available Power Sources', type: 'integer', value: 5 }] }),
    })
  })

  it.each([
    { format: ContentFormat.TLV, path: '/3/0' },
    { format: ContentFormat.SENML_JSON, path: '/3/0' },
    { format: ContentFormat.LWM2M_JSON, path: '/3/0' },
    { format: ContentFormat.TEXT, path: '/3/0/9' },
  ])('reads $path in the explicit format $format', async ({ format, path }) => {
    const c = await registered({ endpoint: `read-format-${format}` })
    const r = await h.server.read(`read-format-${format}`, path, { format })
    expect(r.ok && r.value).toMatchObject({ code: '2.05', contentFormat: format })
    expect(r.ok && r.value.records).toContainEqual({ path: '/3/0/9', name: 'Battery Level', type: 'integer', value: 100 })
    expect(c.received.at(-1)?.accept).toBe(format)
  })

  it('asks a 1.0 client for TLV', async () => {
    const c = await registered({ endpoint: 'read-1.0', lwm2mVersion: '1.0' })
    const r = await h.server.read('read-1.0', '/3303/1')
    expect(r.ok && r.value).toMatchObject({ code: '2.05', contentFormat: ContentFormat.TLV, records: [{ path: '/3303/1/5700', name: 'Sensor Value', type: 'float', value: 36.6 }, { path: '/3303/1/5701', value: 'Cel' }] })
    expect(c.received.at(-1)?.accept).toBe(ContentFormat.TLV)
  })

  it('asks for the format the client advertised with ct=', async () => {
    const c = await registered({ endpoint: 'read-ct', advertisedFormats: [ContentFormat.SENML_JSON] })
    const r = await h.server.read('read-ct', '/3303/0/5700')
    expect(r.ok && r.value).toMatchObject({ code: '2.05', contentFormat: ContentFormat.SENML_JSON, records: [{ path: '/3303/0/5700', value: 21.5 }] })
    expect(c.received.at(-1)?.accept).toBe(ContentFormat.SENML_JSON)
  })

  it('falls back when the client answers 4.06 to SenML CBOR, and remembers the refusal', async () => {
    // Like Wakaama: 1.1 without ct=, no SenML CBOR.
    const c = await registered({ endpoint: 'read-fallback', formats: [ContentFormat.TEXT, ContentFormat.TLV, ContentFormat.SENML_JSON, ContentFormat.LWM2M_JSON] })
    const first = await h.server.read('read-fallback', '/3/0/9')
    expect(first.ok && first.value).toMatchObject({ code: '2.05', contentFormat: ContentFormat.SENML_JSON, records: [{ path: '/3/0/9', value: 100 }] })
    const second = await h.server.read('read-fallback', '/3/0/1')
    expect(second.ok && second.value).toMatchObject({ code: '2.05', records: [{ path: '/3/0/1', value: 'Lightweight M2M Client' }] })
    expect(c.received.map((r) => r.accept)).toEqual([ContentFormat.SENML_CBOR, ContentFormat.SENML_JSON, ContentFormat.SENML_JSON])
  })

  it('reports a refused explicit format as the device answer, without fallback', async () => {
    const c = await registered({ endpoint: 'read-refused', formats: [ContentFormat.TLV] })
    const r = await h.server.read('read-refused', '/3/0', { format: ContentFormat.SENML_CBOR })
    expect(r).toMatchObject({ ok: true, value: { code: '4.06', success: false } })
    expect(c.received).toHaveLength(1)
  })

  it('reports 4.04 from the device as data', async () => {
    await registered({ endpoint: 'read-404' })
    const r = await h.server.read('read-404', '/3/0/99')
    expect(r).toEqual({ ok: true, value: expect.objectContaining({ code: '4.04', success: false, diagnostic: 'nothing at /3/0/99' }) })
    expect(r.ok && r.value.records).toBeUndefined()
  })

  it('gives up after the per-request timeout when the client is silent', async () => {
    const c = await registered({ endpoint: 'read-silent' })
    c.silent = true
    const r = await h.server.read('read-silent', '/3/0/9', { timeoutMs: 300 })
    expect(r.ok).toBe(false)
    expect(!r.ok && r.error.code).toBe('timeout')
    expect(!r.ok && r.error.message).toContain('GET /3/0/9')
    expect(c.received).toHaveLength(1)
    // The same client answers again once it speaks.
    c.silent = false
    expect(await h.server.read('read-silent', '/3/0/9')).toMatchObject({ ok: true, value: { code: '2.05' } })
  })

  it('refuses unknown clients and bad paths without sending anything', async () => {
    const c = await registered({ endpoint: 'read-bad-path' })
    expect(await h.server.read('nobody', '/3/0')).toMatchObject({ ok: false, error: { code: 'not_registered' } })
    const bad = await h.server.read('read-bad-path', '/3/x')
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
    expect(!bad.ok && bad.error.message).toContain('"x"')
    expect(c.received).toHaveLength(0)
  })
})

describe('Discover', () => {
  it('returns the links of an instance with attributes and dimensions', async () => {
    const c = await registered({ endpoint: 'discover' })
    const r = await h.server.discover('discover', '/3/0')
    expect(r.ok && r.value.code).toBe('2.05')
    expect(r.ok && r.value.links).toContainEqual({ path: '/3/0', attributes: {} })
    expect(r.ok && r.value.links).toContainEqual({ path: '/3/0/6', attributes: { dim: 2 } })
    expect(r.ok && r.value.links).toContainEqual({ path: '/3/0/9', attributes: {} })
    expect(c.received.at(-1)).toMatchObject({ method: 'GET', path: '/3/0', accept: ContentFormat.LINK })

    await h.server.writeAttributes('discover', '/3/0/9', { pmin: 5, gt: 50.5 })
    const after = await h.server.discover('discover', '/3/0/9')
    expect(after.ok && after.value.links).toEqual([{ path: '/3/0/9', attributes: { pmin: 5, gt: 50.5 } }])
  })

  it('returns the object version on an object', async () => {
    await registered({ endpoint: 'discover-ver', objectVersions: { 3303: '1.1' } })
    const r = await h.server.discover('discover-ver', '/3303')
    expect(r.ok && r.value.links?.[0]).toEqual({ path: '/3303', attributes: { ver: '1.1' } })
    expect(r.ok && r.value.links?.map((l) => l.path)).toEqual(['/3303', '/3303/0', '/3303/0/5700', '/3303/0/5701', '/3303/1', '/3303/1/5700', '/3303/1/5701'])
  })
})

describe('Write', () => {
  it('replaces an instance with PUT: writable resources not in the payload are gone', async () => {
    const c = await registered({ endpoint: 'write-replace' })
    const records = [
      { path: parsePath('/1/0/1'), value: 600 },
      { path: parsePath('/1/0/6'), value: true },
      { path: parsePath('/1/0/7'), value: 'UQ' },
    ]
    const r = await h.server.write('write-replace', '/1/0', records, { replace: true })
    expect(r).toMatchObject({ ok: true, value: { code: '2.04', success: true } })
    expect(c.writes.at(-1)).toMatchObject({ method: 'PUT', path: '/1/0', contentFormat: ContentFormat.SENML_CBOR })
    expect(c.get('/1/0/1')).toBe(600)
    expect(c.get('/1/0/6')).toBe(true)
    expect(c.get('/1/0/7')).toBe('UQ')
    expect(c.get('/1/0/2')).toBeUndefined()
    expect(c.get('/1/0/0')).toBe(1) // read-only
  })

  it('updates an instance partially with POST: other resources stay', async () => {
    const c = await registered({ endpoint: 'write-partial' })
    const r = await h.server.write('write-partial', '/1/0', [{ path: parsePath('/1/0/1'), value: 700 }], { replace: false })
    expect(r).toMatchObject({ ok: true, value: { code: '2.04' } })
    expect(c.writes.at(-1)).toMatchObject({ method: 'POST', path: '/1/0' })
    expect(c.get('/1/0/1')).toBe(700)
    expect(c.get('/1/0/2')).toBe(10)
    expect(c.get('/1/0/3')).toBe(60)
  })

  it('writes one resource of the custom ECG object, and reads it back', async () => {
    const c = await registered({ endpoint: 'write-ecg' })
    const r = await h.server.write('write-ecg', '/1031/0/2', [{ path: parsePath('/1031/0/2'), value: 500, type: 'integer' }])
    expect(r).toMatchObject({ ok: true, value: { code: '2.04' } })
    expect(c.get('/1031/0/2')).toBe(500)
    const read = await h.server.read('write-ecg', '/1031/0/2')
    // No model for 1031 on the server: a generic name.
    expect(read.ok && read.value.records).toEqual([{ path: '/1031/0/2', name: 'Resource 2', type: 'integer', value: 500 }])
  })

  it('writes in TLV to a 1.0 client', async () => {
    const c = await registered({ endpoint: 'write-tlv', lwm2mVersion: '1.0' })
    const r = await h.server.write('write-tlv', '/1/0/1', [{ path: parsePath('/1/0/1'), value: 900 }])
    expect(r).toMatchObject({ ok: true, value: { code: '2.04' } })
    expect(c.writes.at(-1)?.contentFormat).toBe(ContentFormat.TLV)
    expect(c.get('/1/0/1')).toBe(900)
  })

  it('refuses a partial update that does not target an instance', async () => {
    const c = await registered({ endpoint: 'write-bad' })
    const r = await h.server.write('write-bad', '/1/0/1', [{ path: parsePath('/1/0/1'), value: 1 }], { replace: false })
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
    expect(c.received).toHaveLength(0)
  })
})

describe('Execute, Create, Delete, Write-Attributes', () => {
  it("executes with arguments 0='v',1", async () => {
    const c = await registered({ endpoint: 'execute' })
    const r = await h.server.execute('execute', '/3/0/4', "0='v',1")
    expect(r).toMatchObject({ ok: true, value: { code: '2.04', success: true } })
    expect(c.executions).toEqual([{ path: '/3/0/4', args: "0='v',1" }])
    expect(c.received.at(-1)).toMatchObject({ method: 'POST', path: '/3/0/4', contentFormat: ContentFormat.TEXT })

    expect(await h.server.execute('execute', '/1031/0/3')).toMatchObject({ ok: true, value: { code: '2.04' } })
    expect(c.executions.at(-1)).toEqual({ path: '/1031/0/3', args: '' })
  })

  it('reports 4.05 for executing a resource that is not executable', async () => {
    await registered({ endpoint: 'execute-405' })
    expect(await h.server.execute('execute-405', '/3/0/9')).toMatchObject({ ok: true, value: { code: '4.05', success: false } })
  })

  it('creates an instance and reports its location', async () => {
    const c = await registered({ endpoint: 'create' })
    const r = await h.server.create('create', '/3303', [
      { path: parsePath('/3303/2/5700'), value: 19.5 },
      { path: parsePath('/3303/2/5701'), value: 'Cel' },
    ])
    expect(r).toMatchObject({ ok: true, value: { code: '2.01', success: true, location: '/3303/2' } })
    expect(c.get('/3303/2/5700')).toBe(19.5)
    expect(c.get('/3303/2/5701')).toBe('Cel')
    expect(c.received.at(-1)).toMatchObject({ method: 'POST', path: '/3303' })
  })

  it('creates in another format when the client answers 4.15 to the first', async () => {
    const c = await registered({ endpoint: 'create-fallback', formats: [ContentFormat.TEXT, ContentFormat.TLV, ContentFormat.SENML_JSON] })
    const r = await h.server.create('create-fallback', '/3303', [{ path: parsePath('/3303/5/5700'), value: 17.5 }])
    expect(r).toMatchObject({ ok: true, value: { code: '2.01', location: '/3303/5' } })
    expect(c.received.map((x) => x.contentFormat)).toEqual([ContentFormat.SENML_CBOR, ContentFormat.SENML_JSON])
    expect(c.get('/3303/5/5700')).toBe(17.5)
  })

  it('deletes an instance; deleting it again is a 4.04', async () => {
    const c = await registered({ endpoint: 'delete' })
    expect(await h.server.delete('delete', '/3303/1')).toMatchObject({ ok: true, value: { code: '2.02', success: true } })
    expect(c.get('/3303/1/5700')).toBeUndefined()
    expect(c.get('/3303/0/5700')).toBe(21.5)
    expect(await h.server.delete('delete', '/3303/1')).toMatchObject({ ok: true, value: { code: '4.04', success: false } })
  })

  it('writes attributes as a query the client receives verbatim', async () => {
    const c = await registered({ endpoint: 'attributes' })
    const r = await h.server.writeAttributes('attributes', '/3303/0/5700', { pmin: 10, pmax: 60, gt: 30.5, lt: -5, st: 0.5, epmin: 1, epmax: 120 })
    expect(r).toMatchObject({ ok: true, value: { code: '2.04' } })
    expect(c.attributeWrites).toEqual([{ path: '/3303/0/5700', query: ['pmin=10', 'pmax=60', 'gt=30.5', 'lt=-5', 'st=0.5', 'epmin=1', 'epmax=120'] }])
    expect(c.received.at(-1)).toMatchObject({ method: 'PUT', payload: Buffer.alloc(0) })

    await h.server.writeAttributes('attributes', '/3303/0/5700', { pmin: null })
    expect(c.attributeWrites.at(-1)).toEqual({ path: '/3303/0/5700', query: ['pmin'] })
  })
})

describe('transport details', () => {
  it('reads a value larger than one CoAP block (Block2)', async () => {
    const c = await registered({ endpoint: 'block2' })
    const big = 'ECG patch '.repeat(300)
    c.set('/3/0/17', big, 'string')
    const r = await h.server.read('block2', '/3/0/17', { format: ContentFormat.TEXT })
    expect(r.ok && r.value).toMatchObject({ code: '2.05', records: [{ path: '/3/0/17', name: 'Device Type', value: big }] })
  })

  it('writes a value larger than one CoAP block (Block1)', async () => {
    const c = await registered({ endpoint: 'block1' })
    const big = 'Europe/Amsterdam '.repeat(150)
    const r = await h.server.write('block1', '/3/0/14', [{ path: parsePath('/3/0/14'), value: big }])
    expect(r).toMatchObject({ ok: true, value: { code: '2.04' } })
    expect(c.get('/3/0/14')).toBe(big)
    expect(c.writes).toHaveLength(1)
  })

  it('sends requests to the address of the latest Update (NAT rebinding)', async () => {
    const before = await registered({ endpoint: 'rebind' })
    const after = await start({ endpoint: 'rebind' })
    after.registrationId = before.registrationId
    expect((await after.update()).code).toBe('2.04')
    expect(h.server.getClient('rebind')?.port).toBe(after.port)
    expect(await h.server.read('rebind', '/3/0/9')).toMatchObject({ ok: true, value: { code: '2.05' } })
    expect(after.received).toHaveLength(1)
    expect(before.received).toHaveLength(0)
  })

  it('logs each exchange, decoded, on the event stream', async () => {
    const c = await registered({ endpoint: 'wire' })
    await h.log.wait('log', (e) => e.wire?.direction === 'in' && e.wire.method === 'POST' && e.wire.path === '/rd' && e.wire.code === '2.01' && e.wire.peer === `127.0.0.1:${c.port}`)
    await h.server.read('wire', '/3/0/9')
    const out = await h.log.wait('log', (e) => e.wire?.direction === 'out' && e.wire.endpoint === 'wire')
    expect(out.wire).toMatchObject({ method: 'GET', path: '/3/0/9', code: '2.05', contentFormat: ContentFormat.SENML_CBOR, summary: '/3/0/9=100' })
  })

  it('times out an observe to a silent client and keeps nothing', async () => {
    const c = await registered({ endpoint: 'observe-silent' })
    c.silent = true
    const r = await h.server.observe('observe-silent', ['/3/0/9'], { timeoutMs: 300 })
    expect(r).toMatchObject({ ok: false, error: { code: 'timeout' } })
    expect(h.server.listObservations('observe-silent')).toEqual([])
  })
})
