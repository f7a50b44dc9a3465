import { parseRegistrationLinks } from '../../shared/lwm2m/link-format.ts'
import { isCodecError } from '../../shared/lwm2m/errors.ts'

export const SUPPORTED_VERSIONS = ['1.0', '1.1', '1.2'] as const
export const DEFAULT_LIFETIME_S = 86_400
const MAX_ENDPOINT_LENGTH = 255

export interface ObjectLink {
  readonly objectId: number
  readonly version?: string
  readonly instances: readonly number[]
}

/** What a client told us in Register (and later Updates). */
export interface RegistrationParams {
  readonly endpoint: string
  readonly lifetime: number
  readonly lwm2mVersion: string
  readonly binding: string
  readonly queueMode: boolean
  readonly smsNumber?: string
  readonly extraAttributes: Readonly<Record<string, string>>
}

export interface ObjectList {
  readonly objectLinks: string
  readonly rootPath: string
  readonly contentFormats: readonly number[]
  readonly objects: readonly ObjectLink[]
}

/** A refusal: the CoAP code and the diagnostic payload the client gets. */
export interface Refusal {
  readonly code: string
  readonly diagnostic: string
}

type Parsed<T> = { ok: true; value: T } | { ok: false; refusal: Refusal }

const refuse = <T>(code: string, diagnostic: string): Parsed<T> => ({ ok: false, refusal: { code, diagnostic } })

function splitQuery(query: readonly string[]): Map<string, string | true> {
  const params = new Map<string, string | true>()
  for (const item of query) {
    const eq = item.indexOf('=')
    if (eq === -1) params.set(item, true)
    else params.set(item.slice(0, eq), item.slice(eq + 1))
  }
  return params
}

const KNOWN_REGISTER_PARAMS = new Set(['ep', 'lt', 'lwm2m', 'b', 'Q', 'sms', 'd'])

function parseLifetime(raw: string | true): number | undefined {
  if (raw === true || !/^\d{1,10}$/.test(raw)) return undefined
  const lt = Number(raw)
  return lt >= 1 && lt <= 0xffffffff ? lt : undefined
}

// 1.0 bindings carry queue mode as a Q letter (UQ, SQ, UQS); 1.1+ use U, S, N, T in any combination plus the Q parameter.
const BINDING_RE = /^(U|UQ|S|SQ|US|UQS|[USNT]{1,4})$/

/** Register: `POST /rd?ep=&lt=&lwm2m=&b=&Q&sms=`. */
export function parseRegisterQuery(query: readonly string[]): Parsed<RegistrationParams> {
  const params = splitQuery(query)
  const ep = params.get('ep')
  if (ep === undefined || ep === true || ep.length === 0) return refuse('4.00', 'Register needs an endpoint name: ep=')
  if (ep.length > MAX_ENDPOINT_LENGTH) return refuse('4.00', `endpoint name is ${ep.length} characters; at most ${MAX_ENDPOINT_LENGTH} are allowed`)
  if ([...ep].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) return refuse('4.00', 'endpoint name contains control characters')

  const version = params.get('lwm2m') ?? '1.0'
  if (version === true) return refuse('4.00', 'lwm2m= needs a version')
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    return refuse('4.12', `LwM2M version ${version} is not supported; this server speaks ${SUPPORTED_VERSIONS.join(', ')}`)
  }

  const rawLt = params.get('lt')
  const lifetime = rawLt === undefined ? DEFAULT_LIFETIME_S : parseLifetime(rawLt)
  if (lifetime === undefined) return refuse('4.00', `lifetime lt=${String(rawLt)} is not a whole number of seconds from 1 to 4294967295`)

  const binding = params.get('b') ?? 'U'
  if (binding === true || !BINDING_RE.test(binding)) return refuse('4.00', `binding b=${String(binding)} is not a valid LwM2M binding`)

  const q = params.get('Q')
  if (q !== undefined && q !== true) return refuse('4.00', 'Q takes no value')
  const queueMode = q === true || (version === '1.0' && binding.includes('Q'))

  const sms = params.get('sms')
  if (sms === true) return refuse('4.00', 'sms= needs an MSISDN')

  const extraAttributes: Record<string, string> = {}
  for (const [key, value] of params) if (!KNOWN_REGISTER_PARAMS.has(key)) extraAttributes[key] = value === true ? '' : value

  return {
    ok: true,
    value: { endpoint: ep, lifetime, lwm2mVersion: version, binding, queueMode, ...(sms ? { smsNumber: sms } : {}), extraAttributes },
  }
}

/** Update: `POST /rd/<id>?lt=&b=&sms=`; only what changes. */
export function parseUpdateQuery(query: readonly string[]): Parsed<{ lifetime?: number; binding?: string; smsNumber?: string }> {
  const params = splitQuery(query)
  const out: { lifetime?: number; binding?: string; smsNumber?: string } = {}
  const rawLt = params.get('lt')
  if (rawLt !== undefined) {
    const lt = parseLifetime(rawLt)
    if (lt === undefined) return refuse('4.00', `lifetime lt=${String(rawLt)} is not a whole number of seconds from 1 to 4294967295`)
    out.lifetime = lt
  }
  const b = params.get('b')
  if (b !== undefined) {
    if (b === true || !BINDING_RE.test(b)) return refuse('4.00', `binding b=${String(b)} is not a valid LwM2M binding`)
    out.binding = b
  }
  const sms = params.get('sms')
  if (sms !== undefined && sms !== true) out.smsNumber = sms
  return { ok: true, value: out }
}

/** The object list of a Register or Update payload (CoRE link format). */
export function parseObjectList(payload: Uint8Array): Parsed<ObjectList> {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload)
  } catch {
    return refuse('4.00', 'object links are not valid UTF-8')
  }
  try {
    const parsed = parseRegistrationLinks(text)
    return {
      ok: true,
      value: {
        objectLinks: text,
        rootPath: parsed.rootPath,
        contentFormats: parsed.contentFormats,
        objects: parsed.objects.map((o) => ({ objectId: o.objectId, ...(o.version ? { version: o.version } : {}), instances: o.instances })),
      },
    }
  } catch (e) {
    if (isCodecError(e)) return refuse('4.00', e.message)
    throw e
  }
}
