/**
 * Reading CoAP options as node-coap leaves them on a message: it rewrites some values in place
 * (Content-Format and Accept become media-type strings, Observe a number), others stay Buffers.
 */

export interface RawOption {
  readonly name: string | number
  readonly value: Buffer | string | number | null
}

// The media-type names node-coap gives the formats LwM2M uses.
const MEDIA_TYPES: Readonly<Record<string, number>> = {
  'text/plain': 0,
  'application/link-format': 40,
  'application/octet-stream': 42,
  'application/json': 50,
  'application/cbor': 60,
  'application/senml+json': 110,
  'application/senml+cbor': 112,
  'application/vnd.oma.lwm2m+tlv': 11542,
  'application/vnd.oma.lwm2m+json': 11543,
  'application/vnd.oma.lwm2m+cbor': 11544,
}

function toUint(value: RawOption['value']): number | undefined {
  if (typeof value === 'number') return value
  if (typeof value === 'string') return MEDIA_TYPES[value.split(';')[0] ?? ''] ?? (/^\d+$/.test(value) ? Number(value) : undefined)
  if (value === null) return 0
  let n = 0
  for (const byte of value) n = n * 256 + byte
  return n
}

export function uintOption(options: readonly RawOption[] | undefined, name: string): number | undefined {
  const option = options?.find((o) => o.name === name)
  return option ? toUint(option.value) : undefined
}

export function stringOptions(options: readonly RawOption[] | undefined, name: string): string[] {
  return (options ?? []).filter((o) => o.name === name).map((o) => (Buffer.isBuffer(o.value) ? o.value.toString('utf8') : String(o.value)))
}
