import { z } from 'zod'
import { FORMAT_NAMES } from '../lwm2m/content-format.ts'
import { RESOURCE_TYPES } from '../lwm2m/values.ts'

/** A decoded value in plain JSON: opaque as hex, objlnk as "o:i", 64-bit integers as decimal strings. */
export const RecordJson = z.object({
  path: z.string(),
  name: z.string().optional(),
  type: z.enum(RESOURCE_TYPES as [string, ...string[]]).optional(),
  value: z.union([z.string(), z.number(), z.boolean()]),
  /** Seconds since the epoch, when the payload carried a time. */
  time: z.number().optional(),
})
export type RecordJson = z.infer<typeof RecordJson>

export const ObjectLinkJson = z.object({
  objectId: z.number().int(),
  version: z.string().optional(),
  instances: z.array(z.number().int()),
})

export const ClientInfo = z.object({
  endpoint: z.string(),
  registrationId: z.string(),
  address: z.string(),
  port: z.number().int(),
  secure: z.boolean(),
  lwm2mVersion: z.string(),
  binding: z.string(),
  lifetime: z.number(),
  queueMode: z.boolean(),
  smsNumber: z.string().optional(),
  registeredAt: z.number(),
  lastUpdateAt: z.number(),
  /** Registered, not expired, and (queue mode) awake or sleeping. */
  online: z.boolean(),
  state: z.enum(['awake', 'sleeping']),
  rootPath: z.string(),
  contentFormats: z.array(z.number().int()),
  objectLinks: z.string(),
  objects: z.array(ObjectLinkJson),
  extraAttributes: z.record(z.string(), z.string()),
  queuedRequests: z.number().int(),
})
export type ClientInfo = z.infer<typeof ClientInfo>

export const FormatName = z.enum(FORMAT_NAMES as [string, ...string[]])

export const Attributes = z
  .object({
    pmin: z.number().int().min(0).nullable(),
    pmax: z.number().int().min(0).nullable(),
    gt: z.number().nullable(),
    lt: z.number().nullable(),
    st: z.number().min(0).nullable(),
    epmin: z.number().int().min(0).nullable(),
    epmax: z.number().int().min(0).nullable(),
  })
  .partial()
export type Attributes = z.infer<typeof Attributes>

export const DiscoverEntry = z.object({ path: z.string(), attributes: z.record(z.string(), z.union([z.string(), z.number(), z.null()])) })

/** What every device-management operation answers: the device's code, decoded where there is a payload. */
export const DmResult = z.object({
  /** The LwM2M (CoAP) response code, e.g. "2.05" or "4.04": the device's answer, not a transport failure. */
  code: z.string(),
  success: z.boolean(),
  durationMs: z.number(),
  contentFormat: z.number().int().optional(),
  records: z.array(RecordJson).optional(),
  links: z.array(DiscoverEntry).optional(),
  /** Create: the path of the new instance. */
  location: z.string().optional(),
  /** The raw payload in hex when it could not be decoded, or an error text from the device. */
  payloadHex: z.string().optional(),
  diagnostic: z.string().optional(),
  decodeError: z.string().optional(),
  /** Queue mode: the request was queued for a sleeping client and sent when it woke. */
  queued: z.boolean().optional(),
})
export type DmResult = z.infer<typeof DmResult>

export const ObservationInfo = z.object({
  id: z.string(),
  endpoint: z.string(),
  paths: z.array(z.string()),
  composite: z.boolean(),
  contentFormat: z.number().int().optional(),
  createdAt: z.number(),
  active: z.boolean(),
})
export type ObservationInfo = z.infer<typeof ObservationInfo>

export const ResourceModelJson = z.object({
  id: z.number().int(),
  name: z.string(),
  /** "R", "W", "RW", "E" or "" as in a DDF. */
  operations: z.string(),
  multiple: z.boolean(),
  mandatory: z.boolean(),
  type: z.enum(RESOURCE_TYPES as [string, ...string[]]),
  units: z.string().optional(),
  range: z.string().optional(),
  description: z.string().optional(),
})

/** An object model in plain JSON (resources as a list), for transports. */
export const ObjectModelJson = z.object({
  id: z.number().int(),
  name: z.string(),
  version: z.string(),
  multiple: z.boolean(),
  mandatory: z.boolean(),
  description: z.string().optional(),
  resources: z.array(ResourceModelJson),
})
export type ObjectModelJson = z.infer<typeof ObjectModelJson>
