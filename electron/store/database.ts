import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync } from 'node:sqlite'

/** Schema steps, applied in order; `PRAGMA user_version` records how many have run. Never edit a shipped step. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE registrations (
     endpoint TEXT PRIMARY KEY,
     registration_id TEXT NOT NULL UNIQUE,
     data TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE observations (
     id TEXT PRIMARY KEY,
     endpoint TEXT NOT NULL,
     data TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX observations_endpoint ON observations(endpoint);`,
]

/**
 * Opens (creating if needed) the console's database: WAL so readers never block the writer, and
 * `synchronous=NORMAL`, which in WAL mode survives a process crash and loses at most the last
 * transactions on power loss. ":memory:" gives a throwaway database for tests.
 */
export function openDatabase(file: string): DatabaseSync {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
  const db = new DatabaseSync(file)
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;')
  migrate(db)
  return db
}

function migrate(db: DatabaseSync): void {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number }
  const from = row.user_version
  if (from > MIGRATIONS.length) throw new Error(`database schema version ${from} is newer than this console (${MIGRATIONS.length}); refusing to touch it`)
  for (let version = from; version < MIGRATIONS.length; version++) {
    db.exec('BEGIN')
    try {
      db.exec(MIGRATIONS[version] as string)
      db.exec(`PRAGMA user_version = ${version + 1}`)
      db.exec('COMMIT')
    } catch (e) {
      db.exec('ROLLBACK')
      throw e
    }
  }
}
