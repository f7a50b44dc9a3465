import { z } from 'zod'

/**
 * Device identities (issue 9): per endpoint the DTLS PSK identity and key it must register with, or NoSec where
 * that is explicitly allowed. Keys are write-only: they go in as hex and are never returned by any method.
 */

// eslint-disable-next-line no-control-regex
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/

export const SecurityEndpoint = z.string().min(1, 'endpoint is empty').max(255, 'endpoint names have at most 255 characters').regex(NO_CONTROL, 'endpoint contains control characters')
export const PskIdentity = z.string().min(1, 'identity is empty').max(128, 'identity has at most 128 characters').regex(NO_CONTROL, 'identity contains control characters')

export const PSK_KEY_MIN_BYTES = 8
export const PSK_KEY_MAX_BYTES = 64
/** The pre-shared key in hex, 8 to 64 bytes (16 or 32 recommended). */
export const PskKeyHex = z
  .string()
  .regex(/^(?:[0-9a-fA-F]{2})+$/, 'key must be hex digits, two per byte')
  .min(PSK_KEY_MIN_BYTES * 2, `key must be at least ${PSK_KEY_MIN_BYTES} bytes (${PSK_KEY_MIN_BYTES * 2} hex digits)`)
  .max(PSK_KEY_MAX_BYTES * 2, `key must be at most ${PSK_KEY_MAX_BYTES} bytes (${PSK_KEY_MAX_BYTES * 2} hex digits)`)

export const SecurityMode = z.enum(['psk', 'nosec'])
export type SecurityMode = z.infer<typeof SecurityMode>

/** One endpoint's entry as it is listed: never the key. */
export const SecurityEntry = z.object({
  endpoint: z.string(),
  mode: SecurityMode,
  /** The PSK identity (mode psk only). */
  identity: z.string().optional(),
  updatedAt: z.number(),
})
export type SecurityEntry = z.infer<typeof SecurityEntry>

/** `{endpoint, identity, key}` binds a PSK identity and key; `{endpoint, mode: 'nosec'}` allows plain CoAP. */
export const SetSecurityInput = z
  .object({
    endpoint: SecurityEndpoint,
    mode: SecurityMode.optional(),
    identity: PskIdentity.optional(),
    key: PskKeyHex.optional(),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.mode === 'nosec') {
      if (input.identity !== undefined || input.key !== undefined) ctx.addIssue({ code: 'custom', message: 'a NoSec entry takes no identity or key' })
      return
    }
    if (input.identity === undefined) ctx.addIssue({ code: 'custom', path: ['identity'], message: 'a PSK entry needs an identity' })
    if (input.key === undefined) ctx.addIssue({ code: 'custom', path: ['key'], message: 'a PSK entry needs a key (hex)' })
  })
export type SetSecurityInput = z.infer<typeof SetSecurityInput>

export const DeleteSecurityInput = z.object({ endpoint: SecurityEndpoint })
export type DeleteSecurityInput = z.infer<typeof DeleteSecurityInput>
export const DeleteSecurityResult = z.object({ endpoint: z.string() })
export type DeleteSecurityResult = z.infer<typeof DeleteSecurityResult>

export const SecurityList = z.array(SecurityEntry)

/** What may be changed: refuse plain-CoAP registrations of endpoints not stored as NoSec. */
export const SecurityPolicyInput = z.object({ refuseNoSec: z.boolean() }).strict()
export type SecurityPolicyInput = z.infer<typeof SecurityPolicyInput>

export const SecurityPolicy = z.object({
  refuseNoSec: z.boolean(),
  /** Where the keys are protected at rest ("safeStorage (…)", "key file …", "in memory …"). */
  keyStorage: z.string(),
})
export type SecurityPolicy = z.infer<typeof SecurityPolicy>
