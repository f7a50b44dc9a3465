import type { ObjectModel } from '../../shared/lwm2m/object-model.ts'
import { compareVersions, type ObjectRegistry } from '../../shared/lwm2m/object-registry.ts'
import type { ObjectTree, ResourceInit } from './object-tree.ts'
import { OperationError } from './operation-error.ts'

/** What the Device object (3) tells about the gateway. */
export interface DeviceInfo {
  readonly manufacturer?: string
  readonly model?: string
  readonly serial?: string
  readonly firmware?: string
  readonly hardware?: string
  readonly software?: string
  readonly deviceType?: string
  /** "+01:00"; default from the local clock. */
  readonly utcOffset?: string
  readonly timezone?: string
}

/** What the Security, Server and Device objects need from the client. */
export interface CoreObjectsContext {
  readonly registry: ObjectRegistry
  readonly lwm2mVersion: string
  readonly serverUri: string
  /** The DTLS PSK identity (coaps); absent for NoSec. The key itself never enters the object tree. */
  readonly pskIdentity?: string
  readonly shortServerId: number
  readonly device: DeviceInfo
  readonly defaultPmin: number
  readonly defaultPmax: number
  readonly lifetime: () => number
  readonly setLifetime: (seconds: number) => void
  readonly binding: () => string
  readonly setBinding: (binding: string) => void
  readonly triggerUpdate: () => void
  readonly reboot: () => void
  readonly now: () => number
}

/** The newest model of an object written for this LwM2M version or an older one. */
export function modelForVersion(registry: ObjectRegistry, objectId: number, lwm2mVersion: string): ObjectModel {
  const fitting = registry
    .versions(objectId)
    .map((v) => registry.get(objectId, v) as ObjectModel)
    .filter((m) => compareVersions(m.lwm2mVersion ?? '1.0', lwm2mVersion) <= 0)
  const model = fitting.at(-1) ?? registry.get(objectId)
  if (!model) throw new Error(`the object registry has no model of object ${objectId}`)
  return model
}

function localUtcOffset(): string {
  const minutes = -new Date().getTimezoneOffset()
  const sign = minutes < 0 ? '-' : '+'
  const abs = Math.abs(minutes)
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}

const BINDING_RE = /^(U|UQ|S|SQ|US|UQS|[USNT]{1,4})$/

/** Security Mode (/0/x/2): 0 Pre-Shared Key, 3 NoSec. */
const SECURITY_MODE_PSK = 0
const SECURITY_MODE_NOSEC = 3

/** Security (0, hidden from the server), Server (1) and Device (3), instance 0 each. */
export function installCoreObjects(tree: ObjectTree, ctx: CoreObjectsContext): void {
  const v = ctx.lwm2mVersion
  tree.addObject(
    modelForVersion(ctx.registry, 0, v),
    [
      {
        0: ctx.serverUri,
        1: false,
        2: ctx.pskIdentity !== undefined ? SECURITY_MODE_PSK : SECURITY_MODE_NOSEC,
        3: new TextEncoder().encode(ctx.pskIdentity ?? ''),
        4: new Uint8Array(0),
        // The object is closed to servers (hidden); the key is not even readable locally: the transport holds it.
        5: { read: () => { throw new OperationError('unauthorized', 'the secret key (/0/0/5) is write-only') } },
        10: ctx.shortServerId,
      },
    ],
    { hidden: true },
  )

  tree.addObject(modelForVersion(ctx.registry, 1, v), [
    {
      0: ctx.shortServerId,
      1: {
        read: () => ctx.lifetime(),
        write: (value) => {
          const lt = Number(value)
          if (!Number.isInteger(lt) || lt < 1) throw new OperationError('bad_request', `lifetime ${String(value)} is not a whole number of seconds ≥ 1`)
          ctx.setLifetime(lt)
        },
      },
      2: ctx.defaultPmin,
      3: ctx.defaultPmax,
      6: false,
      7: {
        read: () => ctx.binding(),
        write: (value) => {
          if (typeof value !== 'string' || !BINDING_RE.test(value)) throw new OperationError('bad_request', `binding ${String(value)} is not a valid LwM2M binding`)
          ctx.setBinding(value)
        },
      },
      8: { execute: () => ctx.triggerUpdate() },
    },
  ])

  let clockOffsetMs = 0
  const d = ctx.device
  const device: Record<number, ResourceInit> = {
    0: d.manufacturer ?? 'ObjectTwin',
    1: d.model ?? 'ObjectTwin Gateway',
    2: d.serial ?? '0000',
    3: d.firmware ?? '0.1.0',
    4: { execute: () => ctx.reboot() },
    11: [0],
    13: {
      read: () => Math.floor((ctx.now() + clockOffsetMs) / 1000),
      write: (value) => {
        clockOffsetMs = Number(value) * 1000 - ctx.now()
      },
    },
    14: d.utcOffset ?? localUtcOffset(),
    16: 'U',
  }
  if (d.timezone !== undefined) device[15] = d.timezone
  if (d.deviceType !== undefined) device[17] = d.deviceType
  if (d.hardware !== undefined) device[18] = d.hardware
  if (d.software !== undefined) device[19] = d.software
  tree.addObject(modelForVersion(ctx.registry, 3, v), [device])
}
