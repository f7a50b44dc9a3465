import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ObjectIdPool, normalizeAddress, sensorKey } from './object-id-pool.ts'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'objecttwin-pool-'))
  dirs.push(dir)
  return join(dir, 'object-ids.json')
}

const A = 'c0:07:01:00:00:01'
const B = 'c0:07:02:00:00:01'
const ECG = 'f0010000-0000-1000-8000-00805f9b34fb'

describe('ObjectIdPool', () => {
  it('gives the lowest free id, and the same id to the same sensor and service again', () => {
    const pool = new ObjectIdPool({ min: 1031, max: 1035 })
    expect(pool.acquire(A, ECG)).toEqual({ ok: true, objectId: 1031, reused: false })
    expect(pool.acquire(A, '180f')).toEqual({ ok: true, objectId: 1032, reused: false })
    expect(pool.acquire(B, '180f')).toEqual({ ok: true, objectId: 1033, reused: false })
    pool.release(1031)
    pool.release(1032)
    // Any spelling of the address and the UUID names the same service.
    expect(pool.acquire('C0-07-01-00-00-01', '0000180F-0000-1000-8000-00805F9B34FB')).toEqual({ ok: true, objectId: 1032, reused: true })
    expect(pool.acquire('c00701000001', 'F0010000000010008000-00805f9b34fb')).toEqual({ ok: true, objectId: 1031, reused: true })
  })

  it('refuses a service that is already exposed', () => {
    const pool = new ObjectIdPool({ min: 1031, max: 1035 })
    pool.acquire(A, ECG)
    expect(pool.acquire(A, ECG)).toEqual({ ok: false, reason: `object 1031 of service f001000000001000800000805f9b34fb of ${A} is already in use` })
  })

  it('tells the second service of one UUID apart from the first', () => {
    const pool = new ObjectIdPool({ min: 1031, max: 1035 })
    expect(pool.acquire(A, '180f')).toMatchObject({ objectId: 1031 })
    expect(pool.acquire(A, '180f#2')).toMatchObject({ objectId: 1032 })
    expect(() => pool.acquire(A, '180f#x')).toThrow("'180f#x' is not a service UUID (or uuid#n)")
  })

  it('is exhausted when every id is exposed, and takes over the least recently used id of a sensor that is gone', () => {
    let now = 1000
    const pool = new ObjectIdPool({ min: 1031, max: 1032, now: () => now })
    expect(pool.capacity).toBe(2)
    pool.acquire(A, ECG)
    now = 2000
    pool.acquire(A, '180f')
    expect(pool.free).toBe(0)
    expect(pool.acquire(B, '180d')).toEqual({ ok: false, reason: 'object ID pool 1031..1032 exhausted: all 2 ids are in use by connected sensors' })
    pool.release(1031)
    pool.release(1032)
    now = 3000
    expect(pool.acquire(B, '180d')).toEqual({ ok: true, objectId: 1031, reused: false, reassignedFrom: { sensor: A, service: 'f001000000001000800000805f9b34fb' } })
    expect(pool.lookup(A, ECG)).toBeUndefined()
    expect(pool.lookup(A, '180f')?.objectId).toBe(1032)
  })

  it('never hands out the ids of standard objects or our own', () => {
    const pool = new ObjectIdPool({ min: 0, max: 8 })
    expect(pool.capacity).toBe(1)
    expect(pool.acquire(A, ECG)).toMatchObject({ ok: true, objectId: 8 })
    expect(() => new ObjectIdPool({ min: 3, max: 3 })).toThrow('object ID pool 3..3 holds only reserved ids')
    expect(() => new ObjectIdPool({ min: 1099, max: 1031 })).toThrow('object ID pool 1099..1031 is not a range of ids within 0..65534')
  })

  it('persists the mapping and the sensor order, and reads it back', () => {
    const file = tempFile()
    const first = new ObjectIdPool({ file })
    first.acquire(A, ECG)
    first.acquire(B, '180d')
    expect(first.sensorIndex(B)).toBe(0)
    expect(first.sensorIndex(A)).toBe(1)
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { v: number; assignments: Array<{ sensor: string; service: string; objectId: number }>; sensors: string[] }
    expect(saved.v).toBe(1)
    expect(saved.assignments.map((a) => [a.sensor, a.service, a.objectId])).toEqual([[A, 'f001000000001000800000805f9b34fb', 1031], [B, '180d', 1032]])
    expect(saved.sensors).toEqual([B, A])
    // No temporary file is left behind by the atomic write.
    expect(readdirSync(join(file, '..'))).toEqual(['object-ids.json'])

    const second = new ObjectIdPool({ file })
    expect(second.acquire(B, '180d')).toEqual({ ok: true, objectId: 1032, reused: true })
    expect(second.acquire(A, '180f')).toEqual({ ok: true, objectId: 1033, reused: false })
    expect(second.sensorIndex(A)).toBe(1)
  })

  it('sets a damaged file aside with a warning and starts empty; never throws', () => {
    const file = tempFile()
    writeFileSync(file, 'this is not json')
    const warnings: string[] = []
    const pool = new ObjectIdPool({ file, onWarning: (m) => warnings.push(m), now: () => 42 })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/object ID pool: .*object-ids\.json is damaged \(.*JSON.*\); moved to .*object-ids\.json\.damaged-42, starting with an empty mapping/)
    expect(readdirSync(join(file, '..')).sort()).toEqual(['object-ids.json', 'object-ids.json.damaged-42'])
    expect(readFileSync(join(file, '..', 'object-ids.json.damaged-42'), 'utf8')).toBe('this is not json')
    expect(pool.acquire(A, ECG)).toMatchObject({ objectId: 1031, reused: false })
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ v: 1, assignments: [{ sensor: A, objectId: 1031 }] })
  })

  it('rejects a well-formed file with a wrong shape, and forgets entries outside the pool', () => {
    const file = tempFile()
    writeFileSync(file, JSON.stringify({ v: 1, assignments: [{ sensor: A, service: '180f' }] }))
    const warnings: string[] = []
    new ObjectIdPool({ file, onWarning: (m) => warnings.push(m) })
    expect(warnings[0]).toContain('assignment 0 lacks sensor, service, objectId or lastUsedAt')

    writeFileSync(file, JSON.stringify({ v: 1, sensors: [], assignments: [
      { sensor: A, service: '180f', objectId: 1031, lastUsedAt: 1 },
      { sensor: A, service: '180d', objectId: 2000, lastUsedAt: 1 },
      { sensor: 'nonsense', service: '180d', objectId: 1033, lastUsedAt: 1 },
    ] }))
    warnings.length = 0
    const pool = new ObjectIdPool({ file, onWarning: (m) => warnings.push(m) })
    expect(warnings[0]).toMatch(/2 entries of .* invalid, outside 1031\.\.1099 or duplicated; forgotten/)
    expect(pool.assignments().map((a) => a.objectId)).toEqual([1031])
  })

  it('normalizes addresses and refuses what is not one', () => {
    expect(normalizeAddress('C0:07:01:00:00:0A')).toBe('c0:07:01:00:00:0a')
    expect(normalizeAddress('c007010000aa')).toBe('c0:07:01:00:00:aa')
    expect(() => normalizeAddress('c0:07')).toThrow("'c0:07' is not a Bluetooth device address (12 hex digits)")
    // Without an address (CoreBluetooth), noble's id names the sensor.
    expect(sensorKey('', '5A1B8C2D-0000-4000-8000-00805F9B34FB')).toBe('5a1b8c2d-0000-4000-8000-00805f9b34fb')
    expect(sensorKey('C0:07:01:00:00:01', 'c00701000001')).toBe('c0:07:01:00:00:01')
    expect(() => sensorKey('nowhere')).toThrow("'nowhere' is neither a Bluetooth device address nor a device id")
  })
})
