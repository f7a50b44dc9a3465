/** CoAP Content-Format numbers LwM2M uses (REFERENCE.md §2). */
export const ContentFormat = {
  TEXT: 0,
  LINK: 40,
  OPAQUE: 42,
  CBOR: 60,
  SENML_JSON: 110,
  SENML_CBOR: 112,
  TLV: 11542,
  LWM2M_JSON: 11543,
  LWM2M_CBOR: 11544,
  /** Pre-registration numbers still sent by LwM2M 1.0 devices. */
  LEGACY_TLV: 1542,
  LEGACY_LWM2M_JSON: 1543,
} as const

export type ContentFormatNumber = (typeof ContentFormat)[keyof typeof ContentFormat]

/** Short names used by the CLI, the API and the UI. */
export type FormatName =
  | 'text'
  | 'link'
  | 'opaque'
  | 'cbor'
  | 'senml-json'
  | 'senml-cbor'
  | 'tlv'
  | 'lwm2m-json'

const BY_NAME: Readonly<Record<FormatName, number>> = {
  text: ContentFormat.TEXT,
  link: ContentFormat.LINK,
  opaque: ContentFormat.OPAQUE,
  cbor: ContentFormat.CBOR,
  'senml-json': ContentFormat.SENML_JSON,
  'senml-cbor': ContentFormat.SENML_CBOR,
  tlv: ContentFormat.TLV,
  'lwm2m-json': ContentFormat.LWM2M_JSON,
}

export const FORMAT_NAMES = Object.keys(BY_NAME) as FormatName[]

export function formatNumber(name: FormatName): number {
  return BY_NAME[name]
}

/** The short name of a content-format number, legacy numbers included; undefined when unknown. */
export function formatName(code: number): FormatName | undefined {
  if (code === ContentFormat.LEGACY_TLV) return 'tlv'
  if (code === ContentFormat.LEGACY_LWM2M_JSON) return 'lwm2m-json'
  for (const [name, n] of Object.entries(BY_NAME)) if (n === code) return name as FormatName
  return undefined
}

export function isFormatName(s: string): s is FormatName {
  return Object.hasOwn(BY_NAME, s)
}

/** Media type strings, for logs and the wire view. */
export function mediaType(code: number): string {
  switch (code) {
    case ContentFormat.TEXT:
      return 'text/plain;charset=utf-8'
    case ContentFormat.LINK:
      return 'application/link-format'
    case ContentFormat.OPAQUE:
      return 'application/octet-stream'
    case ContentFormat.CBOR:
      return 'application/cbor'
    case ContentFormat.SENML_JSON:
      return 'application/senml+json'
    case ContentFormat.SENML_CBOR:
      return 'application/senml+cbor'
    case ContentFormat.TLV:
    case ContentFormat.LEGACY_TLV:
      return 'application/vnd.oma.lwm2m+tlv'
    case ContentFormat.LWM2M_JSON:
    case ContentFormat.LEGACY_LWM2M_JSON:
      return 'application/vnd.oma.lwm2m+json'
    case ContentFormat.LWM2M_CBOR:
      return 'application/vnd.oma.lwm2m+cbor'
    default:
      return `content-format ${code}`
  }
}
