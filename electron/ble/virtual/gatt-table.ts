/**
 * Declarative GATT table of a simulated peripheral (virtual radio, issue 4).
 *
 * A sensor describes itself as a {@link PeripheralDefinition}; the virtual controller builds an ATT server from it
 * (handles in declaration order unless given explicitly) and hands the sensor a {@link GattServerApi} through
 * {@link PeripheralHooks.attach} by which it pushes notifications / indications.
 *
 * STABLE API: other modules build on these types. Add fields, never rename or remove them.
 */

import type { PresentationFormat } from '../../../shared/ble/presentation-format.ts'

/** ATT error codes (Core Spec Vol 3 Part F §3.4.1.1) a handler may return. */
export const AttError = {
  invalidHandle: 0x01,
  readNotPermitted: 0x02,
  writeNotPermitted: 0x03,
  invalidPdu: 0x04,
  insufficientAuthentication: 0x05,
  requestNotSupported: 0x06,
  invalidOffset: 0x07,
  insufficientAuthorization: 0x08,
  prepareQueueFull: 0x09,
  attributeNotFound: 0x0a,
  attributeNotLong: 0x0b,
  insufficientEncryptionKeySize: 0x0c,
  invalidAttributeValueLength: 0x0d,
  unlikelyError: 0x0e,
  insufficientEncryption: 0x0f,
  unsupportedGroupType: 0x10,
  insufficientResources: 0x11,
  /** Application errors 0x80..0x9F are allowed too. */
  applicationError: 0x80,
  /** Common profile errors (CSS Part B §1.2). */
  cccdImproperlyConfigured: 0xfd,
  procedureAlreadyInProgress: 0xfe,
  outOfRange: 0xff,
} as const

/** An ATT error code: one of {@link AttError} or any other byte value (application errors 0x80..0x9F). */
export type AttErrorCode = number

/** Characteristic properties as named by noble. */
export type CharacteristicProperty = 'read' | 'write' | 'writeWithoutResponse' | 'notify' | 'indicate'

export type { PresentationFormat }

/** A characteristic of a {@link ServiceDefinition}. */
export interface CharacteristicDefinition {
  /** 16-bit ("2a37") or 128-bit UUID (any case, with or without dashes); normalised with {@link normalizeUuid}. */
  uuid: string
  properties: CharacteristicProperty[]
  /** Characteristic User Description (0x2901), readable UTF-8. */
  userDescription?: string
  /** Characteristic Presentation Format (0x2904). */
  presentationFormat?: PresentationFormat
  /** Explicit handle of the characteristic's VALUE attribute (declaration is valueHandle - 1). */
  valueHandle?: number
  /**
   * Current value for reads (Read / Read Blob / Read By Type). Return an error code to reject the read.
   * Without onRead, reads return the last written value, else `initialValue`, else an empty value.
   */
  onRead?(): Uint8Array | AttErrorCode
  /**
   * Called for Write Request (withResponse = true), Write Command (false) and Execute Write (true, whole value).
   * Return an error code to reject (ignored for Write Command, which has no response).
   */
  onWrite?(value: Uint8Array, withResponse: boolean): void | AttErrorCode
  /** Maximum value length accepted by writes (longer → Invalid Attribute Value Length). Default 512. */
  maxLength?: number
  /** Value returned by reads when there is no onRead and nothing was written yet. */
  initialValue?: Uint8Array
  /** Extra (non-standard) descriptors, after the CCCD / 0x2901 / 0x2904. */
  descriptors?: DescriptorDefinition[]
}

/** An extra descriptor (read-only unless onWrite is given). */
export interface DescriptorDefinition {
  uuid: string
  value?: Uint8Array
  onRead?(): Uint8Array | AttErrorCode
  onWrite?(value: Uint8Array): void | AttErrorCode
}

/** A primary service. */
export interface ServiceDefinition {
  uuid: string
  characteristics: CharacteristicDefinition[]
  /** Explicit handle of the service declaration; following attributes continue from it. */
  startHandle?: number
}

/** Kind of subscription a CCCD write enabled. */
export type SubscriptionKind = 'notify' | 'indicate'

/**
 * The interface by which a peripheral's sensor talks to the link (one per connection; valid while connected).
 */
export interface GattServerApi {
  /**
   * Queue a Handle Value Notification (or an Indication if the central enabled only indications) of `value`.
   * Returns false when the packet was dropped at the sensor: not connected, not subscribed, or the link's
   * transmit queue is full (the data outruns the link capacity). The value is copied; the caller may reuse it.
   */
  notify(charUuid: string, value: Uint8Array): boolean
  /**
   * Queue a Handle Value Indication. Only one is outstanding at a time (ATT); further ones wait in the queue.
   * `onConfirm` is called with true when the central confirmed, false when it was lost (disconnect).
   * Returns false when dropped (see notify).
   */
  indicate(charUuid: string, value: Uint8Array, onConfirm?: (confirmed: boolean) => void): boolean
  /** True when the central enabled notifications or indications on this characteristic. */
  isSubscribed(charUuid: string): boolean
  /** Which kinds are enabled on this characteristic (empty when none). */
  subscriptions(charUuid: string): SubscriptionKind[]
  /** True while the link is up. */
  readonly connected: boolean
  /** Current ATT MTU of the link (23 until exchanged). */
  readonly mtu: number
  /** Number of packets waiting in the link's transmit queue. */
  readonly queued: number
}

/** Callbacks of a peripheral; all optional. */
export interface PeripheralHooks {
  /** A central connected; `api` stays valid until onDisconnect. */
  onConnect?(api: GattServerApi): void
  /** The link went down (reason: HCI error code, e.g. 0x13 remote user terminated, 0x08 supervision timeout). */
  onDisconnect?(reason: number): void
  /** The central wrote a CCCD of this characteristic (kinds = enabled ones, empty = unsubscribed). */
  onSubscribe?(charUuid: string, kinds: SubscriptionKind[]): void
  /** The ATT MTU was exchanged. */
  onMtu?(mtu: number): void
}

/** A simulated peripheral. */
export interface PeripheralDefinition {
  /** Complete Local Name (AD 0x09) and GAP Device Name (0x2A00). */
  name: string
  /** BD_ADDR, lowercase colon-separated, e.g. 'c0:ff:ee:00:00:01'. */
  address: string
  /** Address type; default 'random' (random static: two top bits of the first byte set). */
  addressType?: 'public' | 'random'
  /** Service UUIDs put into the advertising data. */
  advertisedServices: string[]
  services: ServiceDefinition[]
  /** TX power level advertised (AD 0x0A), dBm. Default 0. */
  txPowerLevel?: number
  /** Manufacturer specific data (AD 0xFF) including the 2-byte company id. */
  manufacturerData?: Uint8Array
  /** GAP Appearance (0x2A01). Default 0. */
  appearance?: number
  /** Advertising interval in ms (default 100). */
  advertisingIntervalMs?: number
  /** Connectable (ADV_IND) or not (ADV_NONCONN_IND). Default true. */
  connectable?: boolean
  /** Lifecycle / subscription callbacks. */
  hooks?: PeripheralHooks
  /**
   * Add the Generic Access (0x1800: Device Name 0x2A00, Appearance 0x2A01) and Generic Attribute (0x1801: Service
   * Changed 0x2A05) services in front of the table, as real devices have. Default true (skipped when the table
   * declares 0x1800 itself; placed after the table when explicit handles leave no room in front).
   */
  gapService?: boolean
  /** The server's ATT MTU answered to Exchange MTU (default 247). */
  attMtu?: number
}

const HEX_RE = /^[0-9a-f]+$/
const BASE_SUFFIX = '00001000800000805f9b34fb'

/**
 * Normalise a UUID the way noble spells it: lowercase, no dashes; 16-bit SIG UUIDs stay 4 hex digits,
 * 128-bit ones built on the Bluetooth base UUID with a 16-bit value are shortened to 4 digits ("0000180d-0000-1000-
 * 8000-00805f9b34fb" → "180d"); 32-bit ones (8 digits) stay 8 digits. Throws on anything else.
 */
export function normalizeUuid(uuid: string): string {
  const u = uuid.toLowerCase().replace(/-/g, '').replace(/^0x/, '')
  if (!HEX_RE.test(u)) throw new Error(`invalid UUID '${uuid}'`)
  if (u.length === 4) return u
  if (u.length === 8) return u.startsWith('0000') ? u.slice(4) : u
  if (u.length === 32) {
    if (u.startsWith('0000') && u.endsWith(BASE_SUFFIX)) return u.slice(4, 8)
    return u
  }
  throw new Error(`invalid UUID '${uuid}' (need 16, 32 or 128 bits)`)
}

/** Little-endian bytes of a UUID as carried in ATT PDUs / AD structures (2 or 16 bytes; 32-bit ones expanded). */
export function uuidToBytes(uuid: string): Buffer {
  let u = normalizeUuid(uuid)
  if (u.length === 8) u = u + BASE_SUFFIX
  return Buffer.from(u, 'hex').reverse()
}

/** Inverse of {@link uuidToBytes} (2, 4 or 16 little-endian bytes) → normalised UUID. */
export function uuidFromBytes(bytes: Uint8Array): string {
  return normalizeUuid(Buffer.from(bytes).reverse().toString('hex'))
}
