import type { ResourceType } from './values.ts'

/** Which operations a resource allows: R, W, RW, E, or none (a resource only in composite objects). */
export type Operations = '' | 'R' | 'W' | 'RW' | 'E'

export interface ResourceModel {
  readonly id: number
  readonly name: string
  readonly operations: Operations
  readonly multiple: boolean
  readonly mandatory: boolean
  readonly type: ResourceType
  readonly units?: string
  /** As the DDF writes it: "0..100", "1..65534", "0-255", or a list of values. */
  readonly range?: string
  readonly description?: string
}

export interface ObjectModel {
  readonly id: number
  readonly name: string
  /** The object version, "1.0" when not stated. */
  readonly version: string
  /** The LwM2M version the object was written for, when the DDF says. */
  readonly lwm2mVersion?: string
  readonly urn?: string
  readonly multiple: boolean
  readonly mandatory: boolean
  readonly description?: string
  readonly resources: ReadonlyMap<number, ResourceModel>
}

/**
 * What codecs need from the object models: the type of a resource, and whether it is multiple.
 * Undefined means "unknown": decoders then keep what the format carries (opaque bytes for TLV).
 */
export interface ModelLookup {
  resource(objectId: number, resourceId: number): ResourceModel | undefined
}
