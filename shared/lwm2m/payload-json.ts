import { formatNumber, type FormatName } from './content-format.ts'
import { isCodecError } from './errors.ts'
import { requireCodec } from './formats.ts'
import { parseLinksBytes, parseRegistrationLinks } from './link-format.ts'
import type { ModelLookup } from './object-model.ts'
import { formatPath, parsePath } from './path.ts'
import { bytesToHex, hexToBytes, inferType, valueFromJson, valueToJson, type Lwm2mRecord, type Lwm2mValue, type ResourceType, RESOURCE_TYPES } from './values.ts'
import { CodecError } from './errors.ts'

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

export type DecodeResult = { ok: true; value: JsonValue } | { ok: false; error: string }

/** One record in plain JSON: what the CLI prints and the UI shows. */
export function recordToJson(r: Lwm2mRecord): { [key: string]: JsonValue } {
  return {
    path: formatPath(r.path),
    ...(r.type ? { type: r.type } : {}),
    value: valueToJson(r.value),
    ...(r.time !== undefined ? { time: r.time } : {}),
  }
}

/**
 * Decodes a payload given as hex (or bytes) into plain JSON. Used by `objecttwin decode` and the
 * payload inspector of the UI. Never throws: a bad payload is `{ok:false, error}` with the decoder's reason.
 */
export function decodePayload(format: FormatName, payload: string | Uint8Array, path: string | undefined, models?: ModelLookup): DecodeResult {
  try {
    const bytes = typeof payload === 'string' ? hexToBytes(payload) : payload
    if (format === 'link') {
      const links = parseLinksBytes(bytes)
      const text = new TextDecoder().decode(bytes)
      const registration = parseRegistrationLinks(text)
      return {
        ok: true,
        value: {
          format,
          links: links.map((l) => ({ uri: l.uri, params: l.params })),
          objects: registration.objects.map((o) => ({ objectId: o.objectId, ...(o.version ? { version: o.version } : {}), instances: o.instances })),
          rootPath: registration.rootPath,
          contentFormats: registration.contentFormats,
        },
      }
    }
    const basePath = parsePath(path ?? '/')
    const records = requireCodec(formatNumber(format)).decode(bytes, { basePath, ...(models ? { models } : {}) })
    return { ok: true, value: { format, path: formatPath(basePath), records: records.map(recordToJson) } }
  } catch (e) {
    if (isCodecError(e)) return { ok: false, error: e.message }
    return { ok: false, error: `unexpected ${e instanceof Error ? e.name + ': ' + e.message : String(e)}` }
  }
}

export type EncodeResult = { ok: true; hex: string } | { ok: false; error: string }

/**
 * Encodes records given as plain JSON (`[{"path":"/3/0/0","value":"x","type":"string"}]`, paths
 * absolute or relative to `path`) into a payload, returned as hex. Types come from the record, else the
 * object model, else the JSON value itself. Never throws.
 */
export function encodePayload(format: FormatName, json: unknown, path: string | undefined, models?: ModelLookup): EncodeResult {
  try {
    if (format === 'link') throw new CodecError('Value', 'link-format carries no resource values; nothing to encode')
    const basePath = parsePath(path ?? '/')
    const parsed = recordsFromJson(json, formatPath(basePath), models)
    if (!parsed.ok) return { ok: false, error: parsed.error.message }
    const records = parsed.value
    const bytes = requireCodec(formatNumber(format)).encode(records, { basePath, ...(models ? { models } : {}) })
    return { ok: true, hex: bytesToHex(bytes) }
  } catch (e) {
    if (isCodecError(e)) return { ok: false, error: e.message }
    return { ok: false, error: `unexpected ${e instanceof Error ? e.name + ': ' + e.message : String(e)}` }
  }
}

/**
 * Reads records given as plain JSON, paths absolute or relative to `base`; types from the record,
 * else the object model, else the JSON value itself.
 */
export function recordsFromJson(json: unknown, base: string, models?: ModelLookup): { ok: true; value: Lwm2mRecord[] } | { ok: false; error: { code: 'invalid_input'; message: string } } {
  try {
    if (!Array.isArray(json)) throw new CodecError('Value', 'expected a JSON array of records {path, value, type?, time?}')
    return { ok: true, value: json.map((item, index) => recordFromJson(item, index, base, models)) }
  } catch (e) {
    if (isCodecError(e)) return { ok: false, error: { code: 'invalid_input', message: e.message } }
    throw e
  }
}

function recordFromJson(item: unknown, index: number, base: string, models: ModelLookup | undefined): Lwm2mRecord {
  if (typeof item !== 'object' || item === null) throw new CodecError('Value', `record ${index} is not an object`)
  const { path: rawPath, value, type: rawType, time } = item as Record<string, unknown>
  if (typeof rawPath !== 'string') throw new CodecError('Value', `record ${index} has no "path" string`)
  const path = parsePath(rawPath.startsWith('/') ? rawPath : `${base === '/' ? '' : base}/${rawPath}`)
  if (rawType !== undefined && !RESOURCE_TYPES.includes(rawType as ResourceType)) throw new CodecError('Value', `record ${index} has unknown type ${JSON.stringify(rawType)}`)
  if (time !== undefined && typeof time !== 'number') throw new CodecError('Value', `record ${index} has a non-numeric time`)
  const modelType = path.objectId !== undefined && path.resourceId !== undefined ? models?.resource(path.objectId, path.resourceId)?.type : undefined
  const type = (rawType as ResourceType | undefined) ?? modelType ?? inferType(value as Lwm2mValue)
  return { path, type, value: valueFromJson(value, type), ...(time !== undefined ? { time } : {}) }
}
