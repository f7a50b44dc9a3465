import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { codecError } from './fixtures.test-helper.ts'
import { opaqueCodec } from './opaque.ts'
import { makePath, parsePath } from './path.ts'
import type { Lwm2mRecord } from './values.ts'

const p = parsePath

const thrown = (run: () => unknown): string => codecError(run).message

describe('application/octet-stream', () => {
  it('decodes the payload as one opaque value at the request path, in a copy', () => {
    const payload = new Uint8Array([0x00, 0xff, 0x10, 0x80])
    const records = opaqueCodec.decode(payload, { basePath: p('/5/0/0') })
    expect(records).toEqual([{ path: p('/5/0/0'), value: new Uint8Array([0x00, 0xff, 0x10, 0x80]), type: 'opaque' }])
    payload[0] = 0x55
    expect(records[0]?.value).toEqual(new Uint8Array([0x00, 0xff, 0x10, 0x80]))
    expect(opaqueCodec.decode(new Uint8Array(0), { basePath: p('/dev0/5/0/0/1') })).toEqual([{ path: makePath([5, 0, 0, 1], 'dev0'), value: new Uint8Array(0), type: 'opaque' }])
  })

  it('decodes from a view into a larger buffer without the bytes around it', () => {
    const datagram = new Uint8Array([1, 2, 3, 4, 5, 6])
    expect(opaqueCodec.decode(datagram.subarray(2, 4), { basePath: p('/5/0/0') })[0]?.value).toEqual(new Uint8Array([3, 4]))
  })

  it('needs a resource or resource instance path', () => {
    expect(thrown(() => opaqueCodec.decode(new Uint8Array([1]), { basePath: p('/5/0') }))).toBe(
      'Opaque: request path /5/0 is not a resource or resource instance path; application/octet-stream carries one value',
    )
    expect(thrown(() => opaqueCodec.decode(new Uint8Array([1])))).toBe(
      'Opaque: request path / is not a resource or resource instance path; application/octet-stream carries one value',
    )
  })

  it('encodes the bytes of one opaque value', () => {
    const value = new Uint8Array([9, 8, 7])
    expect(opaqueCodec.encode([{ path: p('/5/0/0'), value }], { basePath: p('/5/0/0') })).toEqual(new Uint8Array([9, 8, 7]))
  })

  it('refuses anything but one opaque value', () => {
    const enc = (records: Lwm2mRecord[], basePath?: string): string =>
      thrown(() => opaqueCodec.encode(records, basePath === undefined ? {} : { basePath: p(basePath) }))
    expect(enc([{ path: p('/3/0/0'), value: 'Open Mobile Alliance' }])).toBe(
      'Opaque: value at /3/0/0 is a string; only opaque values can be sent as application/octet-stream',
    )
    expect(enc([{ path: p('/3/0/9'), value: 100 }])).toBe('Opaque: value at /3/0/9 is a number; only opaque values can be sent as application/octet-stream')
    expect(enc([{ path: p('/3/0/9'), value: 1n }])).toBe('Opaque: value at /3/0/9 is a number; only opaque values can be sent as application/octet-stream')
    expect(enc([{ path: p('/1/0/6'), value: true }])).toBe('Opaque: value at /1/0/6 is a boolean; only opaque values can be sent as application/octet-stream')
    expect(enc([{ path: p('/9/0/1'), value: { objectId: 3, instanceId: 0 } }])).toBe(
      'Opaque: value at /9/0/1 is an object link; only opaque values can be sent as application/octet-stream',
    )
    expect(enc([])).toBe('Opaque: application/octet-stream carries exactly one value, not 0')
    expect(enc([{ path: p('/5/0'), value: new Uint8Array(1) }])).toBe(
      'Opaque: record path /5/0 is not a resource or resource instance path; application/octet-stream carries one value',
    )
    expect(enc([{ path: p('/5/0/0'), value: new Uint8Array(1) }], '/5/0/1')).toBe('Opaque: record path /5/0/0 is not the request path /5/0/1')
  })

  it('round trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (value) => {
        const basePath = p('/5/0/0')
        expect(opaqueCodec.decode(opaqueCodec.encode([{ path: basePath, value }], { basePath }), { basePath })).toEqual([{ path: basePath, value, type: 'opaque' }])
      }),
    )
  })
})
