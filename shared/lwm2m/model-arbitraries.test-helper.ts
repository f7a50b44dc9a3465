// Test-only: fast-check arbitraries of object models, for the DDF round-trip properties.
import fc from 'fast-check'
import type { ObjectModel, Operations, ResourceModel } from './object-model.ts'
import { RESOURCE_TYPES } from './values.ts'

/** Characters that need escaping in XML, non-ASCII ones, and tabs inside text. */
const textUnit = fc.constantFrom(...Array.from('abcXYZ019 -_./:;#&<>"\'éµ€中😀\t\n'))
// Text as DDF readers return it: trimmed, never empty for required fields.
const text = fc.string({ unit: textUnit, maxLength: 24 }).map((s) => s.trim())
const requiredText = text.filter((s) => s.length > 0)
const optionalText = text.map((s) => (s === '' ? undefined : s))
const version = fc.tuple(fc.nat(20), fc.nat(20)).map(([a, b]) => `${a}.${b}`)
const operations = fc.constantFrom<Operations>('', 'R', 'W', 'RW', 'E')

export const resourceModelArb: fc.Arbitrary<ResourceModel> = fc
  .record({ id: fc.nat(65534), name: requiredText, operations, multiple: fc.boolean(), mandatory: fc.boolean(), type: fc.constantFrom(...RESOURCE_TYPES), units: optionalText, range: optionalText, description: optionalText })
  .map((r): ResourceModel => {
    const { units, range, description, ...rest } = r
    return {
      ...rest,
      // An executable resource carries no value.
      type: r.operations === 'E' ? 'none' : r.type,
      ...(units !== undefined && { units }),
      ...(range !== undefined && { range }),
      ...(description !== undefined && { description }),
    }
  })

export const objectModelArb: fc.Arbitrary<ObjectModel> = fc
  .record({
    id: fc.nat(65534),
    name: requiredText,
    version,
    lwm2mVersion: fc.option(version, { nil: undefined }),
    urn: optionalText,
    multiple: fc.boolean(),
    mandatory: fc.boolean(),
    description: optionalText,
    resources: fc.uniqueArray(resourceModelArb, { selector: (r) => r.id, maxLength: 8 }),
  })
  .map((o): ObjectModel => {
    const { lwm2mVersion, urn, description, resources, ...rest } = o
    return {
      ...rest,
      ...(lwm2mVersion !== undefined && { lwm2mVersion }),
      ...(urn !== undefined && { urn }),
      ...(description !== undefined && { description }),
      resources: new Map(resources.map((r) => [r.id, r])),
    }
  })
