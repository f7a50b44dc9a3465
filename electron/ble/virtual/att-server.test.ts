/** ATT server PDU-level behaviour, including the error paths noble never exercises. */
import { describe, expect, it } from 'vitest'
import { ATT, AttBearer, AttDatabase, type AttFaults } from './att-server.ts'
import { AttError, normalizeUuid, uuidFromBytes, uuidToBytes, type PeripheralDefinition, type SubscriptionKind } from './gatt-table.ts'
import { L2CAP_PAYLOAD_OFFSET } from './link-model.ts'

const SVC = '0000aa00-0000-1000-8000-00805f9b34fb'
const LONG = Buffer.from(Array.from({ length: 100 }, (_, i) => i))

function definition(extra: Partial<PeripheralDefinition> = {}): PeripheralDefinition {
  return {
    name: 'Unit',
    address: 'c0:00:00:00:00:01',
    advertisedServices: [SVC],
    services: [
      {
        uuid: SVC,
        characteristics: [
          { uuid: 'aa01', properties: ['read'], initialValue: LONG, userDescription: 'Long' },
          { uuid: 'aa02', properties: ['write'], maxLength: 4 },
          { uuid: 'aa03', properties: ['notify', 'indicate'] },
          { uuid: 'aa04', properties: ['read', 'write'], onRead: () => AttError.insufficientAuthorization },
        ],
      },
    ],
    ...extra,
  }
}

function setup(def = definition()): {
  db: AttDatabase
  bearer: AttBearer
  faults: AttFaults
  sent: Buffer[]
  subs: [string, SubscriptionKind[]][]
  req: (...bytes: number[]) => Buffer | undefined
} {
  const db = new AttDatabase(def)
  const sent: Buffer[] = []
  const subs: [string, SubscriptionKind[]][] = []
  const faults: AttFaults = { silent: false, failNext: [] }
  const bearer = new AttBearer(
    db,
    {
      alloc: (n) => Buffer.alloc(L2CAP_PAYLOAD_OFFSET + n),
      send: (f) => {
        sent.push(f.subarray(L2CAP_PAYLOAD_OFFSET))
        return true
      },
      queued: () => 0,
    },
    { onSubscribe: (u, k) => subs.push([u, k]) },
    faults,
    64,
  )
  const req = (...bytes: number[]): Buffer | undefined => {
    const before = sent.length
    bearer.receive(Buffer.from(bytes))
    return sent.length > before ? sent[sent.length - 1] : undefined
  }
  return { db, bearer, faults, sent, subs, req }
}

const le = (v: number): number[] => [v & 0xff, v >> 8]
const errorOf = (rsp: Buffer | undefined): [number, number, number] => {
  expect(rsp?.[0]).toBe(ATT.errorRsp)
  return [rsp![1]!, rsp!.readUInt16LE(2), rsp![4]!]
}

describe('GATT table', () => {
  it('normalises UUIDs like noble and round-trips their bytes', () => {
    expect(normalizeUuid('0000180D-0000-1000-8000-00805F9B34FB')).toBe('180d')
    expect(normalizeUuid('2A37')).toBe('2a37')
    expect(normalizeUuid('6e400001-b5a3-f393-e0a9-e50e24dcca9e')).toBe('6e400001b5a3f393e0a9e50e24dcca9e')
    expect(uuidFromBytes(uuidToBytes('2a37'))).toBe('2a37')
    expect(uuidToBytes('2a37')).toEqual(Buffer.from([0x37, 0x2a]))
    expect(() => normalizeUuid('xyz')).toThrow(/invalid UUID/)
  })

  it('assigns handles in order: GAP, GATT, then service decl, char decl, value, CCCD, 0x2901', () => {
    const { db } = setup()
    const layout = db.attributes.map((a) => `${a.handle}:${a.type}`)
    expect(layout.slice(0, 9)).toEqual(['1:2800', '2:2803', '3:2a00', '4:2803', '5:2a01', '6:2800', '7:2803', '8:2a05', '9:2902'])
    const aa01 = db.characteristic('aa01')!
    const aa03 = db.characteristic('AA03')!
    expect([aa01.declHandle, aa01.valueHandle, aa01.endHandle]).toEqual([11, 12, 13])
    expect(db.get(13)?.type).toBe('2901')
    expect(aa03.cccdHandle).toBe(aa03.valueHandle + 1)
  })

  it('honours explicit handles and moves GAP/GATT to the end when they leave no room', () => {
    const db = new AttDatabase(
      definition({
        services: [{ uuid: SVC, startHandle: 0x000b, characteristics: [{ uuid: 'aa01', properties: ['read'], valueHandle: 0x000d }] }],
      }),
    )
    expect(db.characteristic('aa01')?.valueHandle).toBe(0x000d)
    expect(db.get(1)?.type).toBe('2800') // GAP still fits in front
    const tight = new AttDatabase(
      definition({ services: [{ uuid: SVC, startHandle: 2, characteristics: [{ uuid: 'aa01', properties: ['read'] }] }] }),
    )
    expect(tight.get(2)?.value).toEqual(uuidToBytes(SVC))
    expect(tight.attributes.at(-1)?.type).toBe('2902') // Service Changed CCCD at the end
    expect(() => new AttDatabase(definition({ gapService: false, services: [
      { uuid: SVC, characteristics: [{ uuid: 'aa01', properties: ['read'] }, { uuid: 'aa02', properties: ['read'], valueHandle: 2 }] },
    ] }))).toThrow(/valueHandle 0x2 overlaps/)
  })
})

describe('ATT server', () => {
  it('exchanges the MTU as min(client, server)', () => {
    const { bearer, req } = setup()
    expect([...req(ATT.mtuReq, ...le(256))!]).toEqual([ATT.mtuRsp, ...le(64)])
    expect(bearer.mtu).toBe(64)
  })

  it('finds primary services by type value (Find By Type Value)', () => {
    const { req } = setup()
    const rsp = req(ATT.findByTypeValueReq, ...le(1), ...le(0xffff), ...le(0x2800), ...uuidToBytes(SVC))!
    expect(rsp[0]).toBe(ATT.findByTypeValueRsp)
    expect([rsp.readUInt16LE(1), rsp.readUInt16LE(3)]).toEqual([10, 20])
    expect(errorOf(req(ATT.findByTypeValueReq, ...le(1), ...le(0xffff), ...le(0x2800), 0x34, 0x12))).toEqual([ATT.findByTypeValueReq, 1, AttError.attributeNotFound])
  })

  it('reads by characteristic UUID (Read By Type 0x2A00)', () => {
    const { req } = setup()
    const rsp = req(ATT.readByTypeReq, ...le(1), ...le(0xffff), ...le(0x2a00))!
    expect(rsp[0]).toBe(ATT.readByTypeRsp)
    expect(rsp.readUInt16LE(2)).toBe(3)
    expect(rsp.subarray(4).toString()).toBe('Unit')
  })

  it('answers discovery past the end with Attribute Not Found', () => {
    const { req } = setup()
    expect(errorOf(req(ATT.readByGroupTypeReq, ...le(0x100), ...le(0xffff), ...le(0x2800)))).toEqual([ATT.readByGroupTypeReq, 0x100, AttError.attributeNotFound])
    expect(errorOf(req(ATT.readByGroupTypeReq, ...le(1), ...le(0xffff), ...le(0x2803)))).toEqual([ATT.readByGroupTypeReq, 1, AttError.unsupportedGroupType])
    expect(errorOf(req(ATT.findInfoReq, ...le(0x100), ...le(0x200)))).toEqual([ATT.findInfoReq, 0x100, AttError.attributeNotFound])
    expect(errorOf(req(ATT.readByTypeReq, ...le(5), ...le(2), ...le(0x2803)))).toEqual([ATT.readByTypeReq, 5, AttError.invalidHandle])
  })

  it('reads: invalid handle, not permitted, application error, long values with Read Blob, invalid offset', () => {
    const { db, req } = setup()
    expect(errorOf(req(ATT.readReq, ...le(0x300)))).toEqual([ATT.readReq, 0x300, AttError.invalidHandle])
    const aa02 = db.characteristic('aa02')!.valueHandle
    expect(errorOf(req(ATT.readReq, ...le(aa02)))).toEqual([ATT.readReq, aa02, AttError.readNotPermitted])
    const aa04 = db.characteristic('aa04')!.valueHandle
    expect(errorOf(req(ATT.readReq, ...le(aa04)))).toEqual([ATT.readReq, aa04, AttError.insufficientAuthorization])
    const aa01 = db.characteristic('aa01')!.valueHandle
    const first = req(ATT.readReq, ...le(aa01))!
    expect(first.length).toBe(23) // MTU 23 until exchanged
    const rest = req(ATT.readBlobReq, ...le(aa01), ...le(22))!
    expect(rest[0]).toBe(ATT.readBlobRsp)
    expect(Buffer.concat([first.subarray(1), rest.subarray(1)]).equals(LONG.subarray(0, 44))).toBe(true)
    expect(errorOf(req(ATT.readBlobReq, ...le(aa01), ...le(101)))).toEqual([ATT.readBlobReq, aa01, AttError.invalidOffset])
    expect(req(ATT.readBlobReq, ...le(aa01), ...le(100))!.length).toBe(1)
  })

  it('writes: not permitted, invalid length, CCCD validation, Write Command errors are silent', () => {
    const { db, req, subs } = setup()
    const aa01 = db.characteristic('aa01')!.valueHandle
    const aa02 = db.characteristic('aa02')!.valueHandle
    const aa03 = db.characteristic('aa03')!
    expect(errorOf(req(ATT.writeReq, ...le(aa01), 1))).toEqual([ATT.writeReq, aa01, AttError.writeNotPermitted])
    expect(errorOf(req(ATT.writeReq, ...le(aa02), 1, 2, 3, 4, 5))).toEqual([ATT.writeReq, aa02, AttError.invalidAttributeValueLength])
    expect([...req(ATT.writeReq, ...le(aa02), 1, 2)!]).toEqual([ATT.writeRsp])
    expect(req(ATT.writeCmd, ...le(aa02), 1)).toBeUndefined() // aa02 has no writeWithoutResponse: ignored
    expect(errorOf(req(ATT.writeReq, ...le(aa03.cccdHandle), 1))).toEqual([ATT.writeReq, aa03.cccdHandle, AttError.invalidAttributeValueLength])
    expect([...req(ATT.writeReq, ...le(aa03.cccdHandle), 3, 0)!]).toEqual([ATT.writeRsp])
    expect(subs).toEqual([['aa03', ['notify', 'indicate']]])
    const aa01cccdLess = db.get(aa01 + 1)! // 0x2901 of aa01
    expect(errorOf(req(ATT.writeReq, ...le(aa01cccdLess.handle), 1))).toEqual([ATT.writeReq, aa01cccdLess.handle, AttError.writeNotPermitted])
  })

  it('prepare / execute write: assembles, checks offsets and lengths, cancels', () => {
    const { db, req } = setup(
      definition({ services: [{ uuid: SVC, characteristics: [{ uuid: 'bb01', properties: ['read', 'write'], maxLength: 8 }] }] }),
    )
    const h = db.characteristic('bb01')!.valueHandle
    expect(req(ATT.prepareWriteReq, ...le(h), ...le(0), 1, 2, 3)![0]).toBe(ATT.prepareWriteRsp)
    expect([...req(ATT.prepareWriteReq, ...le(h), ...le(3), 4, 5)!]).toEqual([ATT.prepareWriteRsp, ...le(h), ...le(3), 4, 5])
    expect([...req(ATT.executeWriteReq, 1)!]).toEqual([ATT.executeWriteRsp])
    expect([...req(ATT.readReq, ...le(h))!]).toEqual([ATT.readRsp, 1, 2, 3, 4, 5])
    req(ATT.prepareWriteReq, ...le(h), ...le(9), 1)
    expect(errorOf(req(ATT.executeWriteReq, 1))).toEqual([ATT.executeWriteReq, h, AttError.invalidOffset])
    req(ATT.prepareWriteReq, ...le(h), ...le(0), 1, 2, 3, 4, 5, 6, 7, 8, 9)
    expect(errorOf(req(ATT.executeWriteReq, 1))).toEqual([ATT.executeWriteReq, h, AttError.invalidAttributeValueLength])
    req(ATT.prepareWriteReq, ...le(h), ...le(0), 9)
    expect([...req(ATT.executeWriteReq, 0)!]).toEqual([ATT.executeWriteRsp])
    expect([...req(ATT.readReq, ...le(h))!]).toEqual([ATT.readRsp, 1, 2, 3, 4, 5])
  })

  it('a throwing handler is contained: Unlikely Error, reported', () => {
    const errors: unknown[] = []
    const db = new AttDatabase(
      definition({ services: [{ uuid: SVC, characteristics: [{ uuid: 'cc01', properties: ['read'], onRead: () => { throw new Error('boom') } }] }] }),
    )
    const sent: Buffer[] = []
    const bearer = new AttBearer(
      db,
      { alloc: (n) => Buffer.alloc(L2CAP_PAYLOAD_OFFSET + n), send: (f) => sent.push(f.subarray(L2CAP_PAYLOAD_OFFSET)) > 0, queued: () => 0 },
      {},
      { silent: false, failNext: [] },
      247,
      (e) => errors.push(e),
    )
    const h = db.characteristic('cc01')!.valueHandle
    bearer.receive(Buffer.from([ATT.readReq, ...le(h)]))
    expect(errorOf(sent[0])).toEqual([ATT.readReq, h, AttError.unlikelyError])
    expect(String(errors[0])).toMatch(/boom/)
  })

  it('unknown requests get Request Not Supported; unknown commands are ignored', () => {
    const { req } = setup()
    expect(errorOf(req(0x20, 1, 2))).toEqual([0x20, 0, AttError.requestNotSupported])
    expect(req(0x7e, 1)).toBeUndefined()
  })

  it('indications: one outstanding, the next after the confirmation', () => {
    const { db, bearer, req, sent } = setup()
    const c = db.characteristic('aa03')!
    req(ATT.writeReq, ...le(c.cccdHandle), 2, 0)
    const confirmed: boolean[] = []
    const before = sent.length
    expect(bearer.indicate('aa03', Buffer.from([1]), (ok) => confirmed.push(ok))).toBe(true)
    expect(bearer.indicate('aa03', Buffer.from([2]), (ok) => confirmed.push(ok))).toBe(true)
    expect(sent.length - before).toBe(1)
    expect([...sent.at(-1)!]).toEqual([ATT.handleValueIndication, ...le(c.valueHandle), 1])
    bearer.receive(Buffer.from([ATT.handleValueConfirmation]))
    expect(confirmed).toEqual([true])
    expect([...sent.at(-1)!]).toEqual([ATT.handleValueIndication, ...le(c.valueHandle), 2])
    bearer.close()
    expect(confirmed).toEqual([true, false])
    // notify() falls back to an indication when only indications are enabled; false when unsubscribed
    expect(bearer.notify('aa03', Buffer.from([3]))).toBe(false) // closed
  })

  it('faults: silence, and failNext by opcode or any (but not Exchange MTU)', () => {
    const { db, req, faults } = setup()
    const aa01 = db.characteristic('aa01')!.valueHandle
    faults.failNext.push({ opcode: 'any', error: AttError.unlikelyError })
    expect(req(ATT.mtuReq, ...le(100))![0]).toBe(ATT.mtuRsp)
    expect(errorOf(req(ATT.readReq, ...le(aa01)))).toEqual([ATT.readReq, aa01, AttError.unlikelyError])
    expect(req(ATT.readReq, ...le(aa01))![0]).toBe(ATT.readRsp)
    faults.silent = true
    expect(req(ATT.readReq, ...le(aa01))).toBeUndefined()
  })
})
