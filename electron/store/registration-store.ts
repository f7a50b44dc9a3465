import type { DatabaseSync, StatementSync } from 'node:sqlite'

export interface StoredRegistration {
  readonly endpoint: string
  readonly registrationId: string
  readonly data: unknown
}

export interface StoredObservation {
  readonly id: string
  readonly endpoint: string
  readonly data: unknown
}

/**
 * Registrations and observations of the LwM2M server, kept so that a restarted console still knows
 * its clients. Rows are JSON; the server validates them when it loads them, so a damaged row is
 * skipped and reported, never fatal.
 */
export class RegistrationStore {
  private readonly upsertRegistration: StatementSync
  private readonly deleteRegistration: StatementSync
  private readonly upsertObservation: StatementSync
  private readonly deleteObservation: StatementSync
  private readonly deleteObservationsOf: StatementSync

  private readonly db: DatabaseSync

  constructor(db: DatabaseSync) {
    this.db = db
    this.upsertRegistration = db.prepare(
      `INSERT INTO registrations (endpoint, registration_id, data, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(endpoint) DO UPDATE SET registration_id = excluded.registration_id, data = excluded.data, updated_at = excluded.updated_at`,
    )
    this.deleteRegistration = db.prepare('DELETE FROM registrations WHERE endpoint = ?')
    this.upsertObservation = db.prepare(
      `INSERT INTO observations (id, endpoint, data, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET data = excluded.data`,
    )
    this.deleteObservation = db.prepare('DELETE FROM observations WHERE id = ?')
    this.deleteObservationsOf = db.prepare('DELETE FROM observations WHERE endpoint = ?')
  }

  saveRegistration(r: StoredRegistration): void {
    this.upsertRegistration.run(r.endpoint, r.registrationId, JSON.stringify(r.data), Date.now())
  }

  removeRegistration(endpoint: string): void {
    this.deleteRegistration.run(endpoint)
    this.deleteObservationsOf.run(endpoint)
  }

  loadRegistrations(): { rows: StoredRegistration[]; damaged: string[] } {
    const rows: StoredRegistration[] = []
    const damaged: string[] = []
    for (const row of this.db.prepare('SELECT endpoint, registration_id, data FROM registrations').all() as { endpoint: string; registration_id: string; data: string }[]) {
      try {
        rows.push({ endpoint: row.endpoint, registrationId: row.registration_id, data: JSON.parse(row.data) })
      } catch {
        damaged.push(row.endpoint)
      }
    }
    return { rows, damaged }
  }

  saveObservation(o: StoredObservation): void {
    this.upsertObservation.run(o.id, o.endpoint, JSON.stringify(o.data), Date.now())
  }

  removeObservation(id: string): void {
    this.deleteObservation.run(id)
  }

  removeObservationsOf(endpoint: string): void {
    this.deleteObservationsOf.run(endpoint)
  }

  loadObservations(): StoredObservation[] {
    const out: StoredObservation[] = []
    for (const row of this.db.prepare('SELECT id, endpoint, data FROM observations ORDER BY created_at').all() as { id: string; endpoint: string; data: string }[]) {
      try {
        out.push({ id: row.id, endpoint: row.endpoint, data: JSON.parse(row.data) })
      } catch {
        // A row that is not JSON carries nothing we could re-establish.
      }
    }
    return out
  }
}
