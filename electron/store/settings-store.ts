import { describeIssues } from '../../shared/api/console-api.ts'
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import type { z } from 'zod'

/**
 * The console's settings, one JSON row per section (`localGateway`, …), so that a damaged row costs only its own
 * section: it reads as absent (the caller's defaults) with a warning, and stays in place until the section is
 * written again.
 */
export class SettingsStore {
  private readonly select: StatementSync
  private readonly upsert: StatementSync
  private readonly onWarning: (message: string) => void
  private readonly db: DatabaseSync

  constructor(db: DatabaseSync, onWarning: (message: string) => void = () => undefined) {
    this.db = db
    this.select = db.prepare('SELECT value FROM settings WHERE key = ?')
    this.upsert = db.prepare(
      `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    )
    this.onWarning = onWarning
  }

  /** Whether a row is stored for the section, valid or not. */
  has(key: string): boolean {
    return this.select.get(key) !== undefined
  }

  /** The stored section if there is a valid one; undefined when none is stored or it is damaged (warned). */
  read<T>(key: string, schema: z.ZodType<T>): T | undefined {
    const row = this.select.get(key) as { value: string } | undefined
    if (row === undefined) return undefined
    let json: unknown
    try {
      json = JSON.parse(row.value)
    } catch (e) {
      this.onWarning(`settings: the stored ${key} is not JSON (${(e as Error).message}); using the defaults`)
      return undefined
    }
    const parsed = schema.safeParse(json)
    if (parsed.success) return parsed.data
    const why = describeIssues(parsed.error)
    this.onWarning(`settings: the stored ${key} is invalid (${why}); using the defaults`)
    return undefined
  }

  write(key: string, value: unknown): void {
    this.upsert.run(key, JSON.stringify(value), Date.now())
  }

  /**
   * Writes the section so that its old value leaves no trace in the database files: SQLite keeps a replaced row's
   * bytes in the page's free space (zeroed only with secure_delete) and in the WAL until a checkpoint. For a secret
   * an older version stored in plain text.
   */
  overwrite(key: string, value: unknown): void {
    const previous = (this.db.prepare('PRAGMA secure_delete').get() as { secure_delete: number }).secure_delete
    this.db.exec('PRAGMA secure_delete = ON')
    try {
      this.write(key, value)
    } finally {
      this.db.exec(`PRAGMA secure_delete = ${previous}`)
    }
    this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
  }
}
