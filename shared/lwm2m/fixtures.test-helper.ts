// Test-only fixtures shared by the codec tests: model lookups, record builders, the TS Device example,
// value arbitraries for round-trip properties, and the "throws a CodecError" expectation.
import fc from 'fast-check'
import { expect } from 'vitest'
import { CodecError } from './errors.ts'
import type { ModelLookup, ResourceModel } from './object-model.ts'
import { ObjectRegistry } from './object-registry.ts'
import { parsePath } from './path.ts'
import { normalizeInteger, RESOURCE_TYPES, type Lwm2mRecord, type Lwm2mValue, type ResourceType } from './values.ts'

// ---- Models ----

/** The objects the product ships (core, gateway, IPSO): the real types of Device /3, Access Control /2, 3303... */
export const BUILTIN_MODELS: ModelLookup = ObjectRegistry.withBuiltins()

/** Every type but `none`: the ones that carry a value. */
export const VALUE_TYPES: readonly ResourceType[] = RESOURCE_TYPES.filter((t) => t !== 'none')

/** A lookup that types each resource with `typeOf`; undefined means the resource is unknown. */
export function modelsBy(typeOf: (objectId: number, resourceId: number) => ResourceType | undefined): ModelLookup {
  return {
    resource(objectId, resourceId): ResourceModel | undefined {
      const type = typeOf(objectId, resourceId)
      return type && { id: resourceId, name: `r${resourceId}`, operations: 'RW', multiple: false, mandatory: false, type }
    },
  }
}

/** A lookup from "objectId/resourceId" to type; other resources come from `fallback`, else are unknown. */
export function modelsOf(types: Readonly<Record<string, ResourceType>>, fallback?: ModelLookup): ModelLookup {
  const own = modelsBy((objectId, resourceId) => types[`${objectId}/${resourceId}`])
  return { resource: (objectId, resourceId) => own.resource(objectId, resourceId) ?? fallback?.resource(objectId, resourceId) }
}

/** Resource r of any object has type RESOURCE_TYPES[r]: 0 string, 1 integer, 2 unsigned, 3 float, 4 boolean, 5 opaque, 6 time, 7 objlnk, 8 corelnk, 9 none. */
export const TYPE_BY_RESOURCE_ID: ModelLookup = modelsBy((_objectId, resourceId) => RESOURCE_TYPES[resourceId])

/** Every resource typed, cycling through all types by objectId + resourceId, so fuzz payloads meet every value parser. */
export const EVERY_TYPE_MODELS: ModelLookup = modelsBy((objectId, resourceId) => RESOURCE_TYPES[(objectId + resourceId) % RESOURCE_TYPES.length])

// ---- Records ----

export function rec(path: string, value: Lwm2mValue, type: ResourceType, time?: number): Lwm2mRecord {
  return time === undefined ? { path: parsePath(path), value, type } : { path: parsePath(path), value, type, time }
}

/** LwM2M TS example: Read /3/0 of the Device object (the TLV, SenML JSON and SenML CBOR appendices). */
export const DEVICE_RECORDS: readonly Lwm2mRecord[] = [
  rec('/3/0/0', 'Open Mobile Alliance', 'string'),
  rec('/3/0/1', 'Lightweight M2M Client', 'string'),
  rec('/3/0/2', '345000123', 'string'),
  rec('/3/0/3', '1.0', 'string'),
  rec('/3/0/6/0', 1, 'integer'),
  rec('/3/0/6/1', 5, 'integer'),
  rec('/3/0/7/0', 3800, 'integer'),
  rec('/3/0/7/1', 5000, 'integer'),
  rec('/3/0/8/0', 125, 'integer'),
  rec('/3/0/8/1', 900, 'integer'),
  rec('/3/0/9', 100, 'integer'),
  rec('/3/0/10', 15, 'integer'),
  rec('/3/0/11/0', 0, 'integer'),
  rec('/3/0/13', 0x5182428f, 'time'),
  rec('/3/0/14', '+02:00', 'string'),
  rec('/3/0/16', 'U', 'string'),
]

/** What an ECG stream sends: 25 samples of one resource, 4 ms apart. */
export const ECG_BATCH: readonly Lwm2mRecord[] = Array.from({ length: 25 }, (_, i) => ({ path: parsePath('/3303/0/5700'), value: i * 37 - 400, time: 1700000000 + i * 0.004 }))

// ---- Expectations ----

/** Runs `fn` and returns the CodecError it throws; fails the test if it throws anything else, or nothing. */
export function codecError(fn: () => unknown): CodecError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(CodecError)
    return e as CodecError
  }
  throw new Error('expected a CodecError')
}

// ---- Arbitrary values, per type, for round-trip properties ----

/** What a format carries differently; the other types (boolean, objlnk) are the same everywhere. */
export interface ValueArbitraries {
  readonly string: fc.Arbitrary<string>
  readonly integer: fc.Arbitrary<number | bigint>
  readonly unsigned: fc.Arbitrary<number | bigint>
  readonly float: fc.Arbitrary<number>
  readonly opaque: fc.Arbitrary<Uint8Array>
}

/** The full ranges: any string, 64-bit integers (bigint beyond 2^53), every finite double. */
export const FULL_RANGE_VALUES: ValueArbitraries = {
  string: fc.string({ unit: 'grapheme' }),
  integer: fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map(normalizeInteger),
  unsigned: fc.bigInt(0n, 2n ** 64n - 1n).map(normalizeInteger),
  float: fc.double({ noNaN: true, noDefaultInfinity: true }),
  opaque: fc.uint8Array({ maxLength: 40 }),
}

const OBJLNK = fc.record({ objectId: fc.integer({ min: 0, max: 65535 }), instanceId: fc.integer({ min: 0, max: 65535 }) })

export function valueArbitrary(type: ResourceType, values: ValueArbitraries): fc.Arbitrary<Lwm2mValue> {
  switch (type) {
    case 'string':
    case 'corelnk':
      return values.string
    case 'integer':
    case 'time':
      return values.integer
    case 'unsigned':
      return values.unsigned
    case 'float':
      return values.float
    case 'boolean':
      return fc.boolean()
    case 'opaque':
      return values.opaque
    case 'objlnk':
      return OBJLNK
    case 'none':
      throw new Error('type none carries no value')
  }
}

// ---- SenML packs (JSON and CBOR share the record model) ----

/** The models of the SenML properties: every resource typed, mixed by object and resource id. */
const senmlTypeOf = (objectId: number, resourceId: number): ResourceType => VALUE_TYPES[(objectId * 7 + resourceId) % VALUE_TYPES.length] as ResourceType
export const SENML_MODELS: ModelLookup = modelsBy(senmlTypeOf)

/** Packs of up to 12 records, with and without a gateway prefix, either all timed (up to `maxTime`) or none. */
export function senmlPackArbitrary(values: ValueArbitraries, maxTime: number): fc.Arbitrary<Lwm2mRecord[]> {
  const record = (timed: boolean): fc.Arbitrary<Lwm2mRecord> =>
    fc
      .tuple(
        fc.option(fc.constantFrom('dev0', 'node_1'), { nil: undefined }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 30 }),
        fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
        fc.oneof(fc.integer({ min: 2 ** 28, max: 2 ** 32 }), fc.double({ min: 2 ** 28, max: maxTime, noNaN: true })),
      )
      .chain(([prefix, o, i, r, ri, time]) => {
        const type = senmlTypeOf(o, r)
        const path = parsePath(`${prefix ? `/${prefix}` : ''}/${o}/${i}/${r}${ri === undefined ? '' : `/${ri}`}`)
        return valueArbitrary(type, values).map((value): Lwm2mRecord => (timed ? { path, value, type, time } : { path, value, type }))
      })
  return fc.boolean().chain((timed) => fc.array(record(timed), { maxLength: 12 }))
}
