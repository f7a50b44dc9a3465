import { ContentFormat } from '../../shared/lwm2m/content-format.ts'

interface Negotiable {
  readonly lwm2mVersion: string
  readonly contentFormats: readonly number[]
  /** Formats this client refused with 4.06 / 4.15, learned as we go. */
  readonly refused: ReadonlySet<number>
}

const VALUE_PREFERENCE = [ContentFormat.SENML_CBOR, ContentFormat.SENML_JSON, ContentFormat.TLV, ContentFormat.LWM2M_JSON]

/**
 * Formats to try for a Read or Write, best first (Leshan's policy, REFERENCE.md §2): the explicit
 * choice alone; else what the client advertised with ct=; else SenML CBOR for 1.1+ and TLV for 1.0;
 * then the other value formats, and text/plain last for single resources. Formats the client already
 * refused come last, so a 4.06 is paid once per client, not once per request.
 */
export function formatsToTry(client: Negotiable, singleValue: boolean, explicit?: number): number[] {
  if (explicit !== undefined) return [explicit]
  const advertised = client.contentFormats.filter((f) => VALUE_PREFERENCE.includes(f as never))
  const first = advertised.length > 0 ? [...advertised].sort((a, b) => VALUE_PREFERENCE.indexOf(a as never) - VALUE_PREFERENCE.indexOf(b as never)) : client.lwm2mVersion === '1.0' ? [ContentFormat.TLV] : [ContentFormat.SENML_CBOR]
  const chain = [...first, ...(client.lwm2mVersion === '1.0' ? [ContentFormat.TLV, ContentFormat.LWM2M_JSON] : VALUE_PREFERENCE)]
  if (singleValue) chain.push(ContentFormat.TEXT)
  const unique = [...new Set(chain)]
  return [...unique.filter((f) => !client.refused.has(f)), ...unique.filter((f) => client.refused.has(f))]
}

/** Codes that mean "not in that format": try the next one. */
export function isFormatRefusal(code: string): boolean {
  return code === '4.06' || code === '4.15'
}

/**
 * A single-value Read of a 1.0 client that advertised no ct= goes without Accept, so the client
 * answers in its own format (Leshan's default ReadRequest). Some 1.0 stacks (lwm2m-node-lib on
 * coap 0.22) silently drop a request whose Accept number they do not know, so asking for TLV
 * would only time out, never earn the 4.06 that starts the fallback.
 */
export function clientChoosesFormat(client: Negotiable, singleValue: boolean, explicit?: number): boolean {
  return explicit === undefined && singleValue && client.lwm2mVersion === '1.0' && client.contentFormats.length === 0
}
