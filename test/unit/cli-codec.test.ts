import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const BIN = fileURLToPath(new URL('../../bin/objecttwin.js', import.meta.url))

/** Runs the real `objecttwin` launcher, as `npx objecttwin` would. */
function objecttwin(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex')

// The Device object instance /3/0 as the LwM2M TS example (and Wakaama's client) encodes it in TLV.
const DEVICE_TLV = [
  'c8 00 14 4f70656e204d6f62696c6520416c6c69616e6365', // 0 Manufacturer
  'c8 01 16 4c69676874776569676874204d324d20436c69656e74', // 1 Model Number
  'c8 02 09 333435303030313233', // 2 Serial Number
  'c3 03 312e30', // 3 Firmware Version
  '86 06 41 00 01 41 01 05', // 6 Available Power Sources: 1, 5
  '88 07 08 42 00 0ed8 42 01 1388', // 7 Power Source Voltage: 3800, 5000
  '87 08 41 00 7d 42 01 0384', // 8 Power Source Current: 125, 900
  'c1 09 64', // 9 Battery Level: 100
  'c1 0a 0f', // 10 Memory Free: 15
  '83 0b 41 00 00', // 11 Error Code: 0
  'c4 0d 5182428f', // 13 Current Time
  'c6 0e 2b30323a3030', // 14 UTC Offset "+02:00"
  'c1 10 55', // 16 Supported Binding "U"
].join(' ')

describe('objecttwin decode', () => {
  it('lists decode and encode in --help', () => {
    const r = objecttwin('--help')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/decode \[options\] <hex>/)
    expect(r.stdout).toMatch(/encode \[options\] <json>/)
  })

  it('decodes the TLV of /3/0 with types from the Device model', () => {
    const r = objecttwin('decode', '--format', 'tlv', '--path', '/3/0', DEVICE_TLV)
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const out = JSON.parse(r.stdout) as { records: { path: string; type: string; value: unknown }[] }
    const byPath = Object.fromEntries(out.records.map((rec) => [rec.path, rec]))
    expect(byPath['/3/0/0']).toEqual({ path: '/3/0/0', type: 'string', value: 'Open Mobile Alliance' })
    expect(byPath['/3/0/1']?.value).toBe('Lightweight M2M Client')
    expect(byPath['/3/0/6/1']).toEqual({ path: '/3/0/6/1', type: 'integer', value: 5 })
    expect(byPath['/3/0/7/0']?.value).toBe(3800)
    expect(byPath['/3/0/8/1']?.value).toBe(900)
    expect(byPath['/3/0/9']?.value).toBe(100)
    expect(byPath['/3/0/13']).toEqual({ path: '/3/0/13', type: 'time', value: 0x5182428f })
    expect(byPath['/3/0/14']?.value).toBe('+02:00')
    expect(byPath['/3/0/16']?.value).toBe('U')
    expect(out.records).toHaveLength(16)
  })

  it('decodes SenML JSON of /3/0 as Wakaama sends it', () => {
    const payload = '[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"6/0","v":1},{"n":"6/1","v":5},{"n":"9","v":100},{"n":"13","v":1367491215}]'
    const r = objecttwin('decode', '--format', 'senml-json', hex(payload))
    expect(r.status).toBe(0)
    const out = JSON.parse(r.stdout) as { records: { path: string; value: unknown }[] }
    expect(out.records.map((rec) => [rec.path, rec.value])).toEqual([
      ['/3/0/0', 'Open Mobile Alliance'],
      ['/3/0/6/0', 1],
      ['/3/0/6/1', 5],
      ['/3/0/9', 100],
      ['/3/0/13', 1367491215],
    ])
  })

  it('decodes SenML CBOR of /3/0 as Anjay sends it', () => {
    // [{-2: "/3/0/", 0: "0", 3: "Open Mobile Alliance"}, {0: "9", 2: 100}]
    const cbor = '82 a3 21 652f332f302f 00 6130 03 74 4f70656e204d6f62696c6520416c6c69616e6365 a2 00 6139 02 1864'
    const r = objecttwin('decode', '--format', 'senml-cbor', cbor)
    expect(r.status).toBe(0)
    const out = JSON.parse(r.stdout) as { records: { path: string; value: unknown }[] }
    expect(out.records.map((rec) => [rec.path, rec.value])).toEqual([
      ['/3/0/0', 'Open Mobile Alliance'],
      ['/3/0/9', 100],
    ])
  })

  it('decodes a registration payload with the LwM2M root and content format', () => {
    const r = objecttwin('decode', '--format', 'link', hex('</>;rt="oma.lwm2m";ct=110,</1>;ver=1.1,</1/0>,</3/0>,</3303/0>,</3303/1>'))
    expect(r.status).toBe(0)
    const out = JSON.parse(r.stdout) as { rootPath: string; contentFormats: number[]; objects: unknown[] }
    expect(out.rootPath).toBe('/')
    expect(out.contentFormats).toEqual([110])
    expect(out.objects).toEqual([
      { objectId: 1, version: '1.1', instances: [0] },
      { objectId: 3, instances: [0] },
      { objectId: 3303, instances: [0, 1] },
    ])
  })

  it('fails with one line naming the cause on malformed input', () => {
    const r = objecttwin('decode', '--format', 'tlv', '--path', '/3/0', 'c8 00 ff 41')
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^objecttwin: TLV: length 255 exceeds remaining 1 bytes? at offset \d+$/m)
  })

  it('rejects bad hex and unknown formats', () => {
    expect(objecttwin('decode', '--format', 'tlv', '--path', '/3/0', 'xyz').stderr).toMatch(/not an even-length hex string/)
    const r = objecttwin('decode', '--format', 'xml', '00')
    expect(r.status).not.toBe(0)
    expect(r.stderr).toMatch(/Allowed choices are text, link, opaque, cbor, senml-json, senml-cbor, tlv, lwm2m-json/)
  })
})

describe('objecttwin encode', () => {
  it('encodes records and decodes them back', () => {
    const records = '[{"path":"0","value":"ACME"},{"path":"9","value":87},{"path":"6/0","value":1}]'
    const enc = objecttwin('encode', '--format', 'tlv', '--path', '/3/0', records)
    expect(enc.status).toBe(0)
    // Resources in id order: 0 "ACME", 6 [1], 9 = 87.
    expect(enc.stdout.trim()).toBe('c40041434d45' + '8306410001' + 'c10957')
    const dec = objecttwin('decode', '--format', 'tlv', '--path', '/3/0', enc.stdout.trim())
    expect(JSON.parse(dec.stdout).records).toEqual([
      { path: '/3/0/0', type: 'string', value: 'ACME' },
      { path: '/3/0/6/0', type: 'integer', value: 1 },
      { path: '/3/0/9', type: 'integer', value: 87 },
    ])
  })

  it('explains bad records', () => {
    const r = objecttwin('encode', '--format', 'tlv', '--path', '/3/0', '[{"path":"9","value":"high"}]')
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/"high" is not a valid integer/)
  })
})
