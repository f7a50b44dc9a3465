import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { fail, ok, type Result } from '../../shared/api/result.ts'
import { SecurityPolicyInput, type SecurityEntry, type SecurityMode } from '../../shared/api/security-schemas.ts'
import type { KeyProtector } from './key-protector.ts'
import { SettingsStore } from './settings-store.ts'

interface Row {
  endpoint: string
  mode: SecurityMode
  identity: string | null
  key: Uint8Array | null
  updated_at: number
}

const POLICY_KEY = 'securityPolicy'

/**
 * Device identities: per endpoint its DTLS PSK identity and key, or NoSec where plain CoAP is explicitly allowed,
 * and the global "refuse NoSec registrations" policy. Keys are encrypted by the KeyProtector before they are
 * stored and leave this store only through {@link keyForIdentity}, for the DTLS handshake; listings never hold them.
 */
export class SecurityStore {
  readonly protector: KeyProtector
  private readonly settings: SettingsStore
  private readonly selectAll: StatementSync
  private readonly selectOne: StatementSync
  private readonly selectByIdentity: StatementSync
  private readonly upsert: StatementSync
  private readonly remove: StatementSync
  private readonly onWarning: (message: string) => void

  constructor(db: DatabaseSync, protector: KeyProtector, onWarning: (message: string) => void = () => undefined) {
    this.protector = protector
    this.onWarning = onWarning
    this.settings = new SettingsStore(db, onWarning)
    this.selectAll = db.prepare('SELECT endpoint, mode, identity, updated_at FROM security ORDER BY endpoint')
    this.selectOne = db.prepare('SELECT endpoint, mode, identity, updated_at FROM security WHERE endpoint = ?')
    this.selectByIdentity = db.prepare('SELECT endpoint, mode, identity, key, updated_at FROM security WHERE identity = ?')
    this.upsert = db.prepare(
      `INSERT INTO security (endpoint, mode, identity, key, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(endpoint) DO UPDATE SET mode = excluded.mode, identity = excluded.identity, key = excluded.key, updated_at = excluded.updated_at`,
    )
    this.remove = db.prepare('DELETE FROM security WHERE endpoint = ?')
  }

  list(): SecurityEntry[] {
    return (this.selectAll.all() as unknown as Row[]).map(toEntry)
  }

  get(endpoint: string): SecurityEntry | undefined {
    const row = this.selectOne.get(endpoint) as unknown as Row | undefined
    return row ? toEntry(row) : undefined
  }

  /** Binds `identity` and `key` to `endpoint` (replacing what it had); an identity belongs to one endpoint only. */
  setPsk(endpoint: string, identity: string, key: Uint8Array): Result<SecurityEntry> {
    const owner = this.selectByIdentity.get(identity) as unknown as Row | undefined
    if (owner && owner.endpoint !== endpoint) return fail('conflict', `the PSK identity "${identity}" is already bound to endpoint ${owner.endpoint}; an identity belongs to one endpoint`)
    this.upsert.run(endpoint, 'psk', identity, this.protector.protect(key, endpoint), Date.now())
    return ok(this.get(endpoint) as SecurityEntry)
  }

  /** Allows `endpoint` to register over plain CoAP even when NoSec registrations are refused. */
  setNoSec(endpoint: string): SecurityEntry {
    this.upsert.run(endpoint, 'nosec', null, null, Date.now())
    return this.get(endpoint) as SecurityEntry
  }

  /** False when the endpoint had no entry. */
  delete(endpoint: string): boolean {
    return Number(this.remove.run(endpoint).changes) > 0
  }

  /**
   * The key of a PSK identity, for the DTLS server's handshake; undefined for an unknown identity, or (warned)
   * when the stored key cannot be decrypted.
   */
  keyForIdentity(identity: string): { endpoint: string; key: Uint8Array } | undefined {
    const row = this.selectByIdentity.get(identity) as unknown as Row | undefined
    if (!row || row.mode !== 'psk' || !row.key) return undefined
    try {
      return { endpoint: row.endpoint, key: this.protector.unprotect(row.key, row.endpoint) }
    } catch (e) {
      this.onWarning(`security: the key of endpoint ${row.endpoint} cannot be used: ${(e as Error).message}`)
      return undefined
    }
  }

  /** The endpoint a PSK identity is bound to. */
  endpointOfIdentity(identity: string): string | undefined {
    const row = this.selectByIdentity.get(identity) as unknown as Row | undefined
    return row?.endpoint
  }

  /** Refuse plain-CoAP registrations of endpoints not stored as NoSec (default false: a first run lets devices in). */
  policy(): SecurityPolicyInput {
    return this.settings.read(POLICY_KEY, SecurityPolicyInput) ?? { refuseNoSec: false }
  }

  setPolicy(policy: SecurityPolicyInput): SecurityPolicyInput {
    this.settings.write(POLICY_KEY, policy)
    return policy
  }
}

function toEntry(row: Row): SecurityEntry {
  return { endpoint: row.endpoint, mode: row.mode, ...(row.identity !== null ? { identity: row.identity } : {}), updatedAt: row.updated_at }
}
