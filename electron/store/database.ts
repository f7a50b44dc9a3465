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
  // Value history (history-store.ts): a series per resource, samples in chunks of typed arrays.
  `CREATE TABLE history_series (
     id INTEGER PRIMARY KEY,
     endpoint TEXT NOT NULL,
     path TEXT NOT NULL,
     type TEXT,
     last_time REAL,
     UNIQUE (endpoint, path)
   );
   CREATE TABLE history_chunks (
     id INTEGER PRIMARY KEY,
     series_id INTEGER NOT NULL REFERENCES history_series(id),
     t_start REAL NOT NULL,
     t_end REAL NOT NULL,
     count INTEGER NOT NULL,
     encoding INTEGER NOT NULL,
     v_min REAL,
     t_at_min REAL,
     v_max REAL,
     t_at_max REAL,
     bytes INTEGER NOT NULL,
     times BLOB NOT NULL,
     vals BLOB,
     json TEXT
   );
   -- Covering for decimation: a zoomed-out query reads the per-chunk extremes from the index alone.
   CREATE INDEX history_chunks_series ON history_chunks(series_id, t_start, t_end, encoding, count, v_min, t_at_min, v_max, t_at_max);
   CREATE INDEX history_chunks_end ON history_chunks(t_end);`,
  // Console settings (settings-store.ts): one JSON row per section.
  `CREATE TABLE settings (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   );`,
  // Device identities (security-store.ts): a PSK identity and its key (encrypted by a KeyProtector), or NoSec.
  `CREATE TABLE security (
     endpoint TEXT PRIMARY KEY,
     mode TEXT NOT NULL CHECK (mode IN ('psk', 'nosec')),
     identity TEXT UNIQUE,
     key BLOB,
     updated_at INTEGER NOT NULL,
     CHECK ((mode = 'psk') = (identity IS NOT NULL AND key IS NOT NULL))
   );`,
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
